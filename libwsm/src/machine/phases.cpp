// Entering each phase (`enter_x`), the connection of an attempt, and the
// ways a quit ends the machine.

#include "machine/machine_state.hpp"

#include "machine/broker_link.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm::detail::fsm {

/// Gives the new attempt a connection of its own: a fresh id, so that
/// events of an earlier one are told apart, and the broker as its link
/// until the connection itself is handed over.
void adopt_connection(machine_self self) {
  auto& st = self->state;
  auto id = next_connection_id();
  st.connection = current_connection{
    id, std::make_shared<broker_link>(st.broker, id, self->address())};
}

/// The connection is gone or left to the broker: no more commands to it.
void forget_connection(machine_self self) {
  auto& st = self->state;
  st.connection = {};
  st.pumping = false;
  st.pace_booked = false; // its timer is of the phase being left
}

/// Leaves the connection to the broker to close (or abort), if there is one.
void release_connection(machine_self self, bool graceful) {
  auto& st = self->state;
  if (st.connection.id == 0)
    return;
  if (graceful)
    st.connection.link->close();
  else
    st.connection.link->abort();
  forget_connection(self);
}

void count_disconnect(machine_self self, close_cause cause) {
  auto& counters = self->state.counters.disconnects;
  counters.resize(close_cause_count);
  ++counters[static_cast<size_t>(cause)];
}

/// The last step of every quit: subscribers see DISCONNECTED, and the actor
/// ends, with `reason` if it gave up.
void finish(machine_self self, const std::string& undelivered_reason,
            caf::error reason, const disconnect_info* info) {
  auto& st = self->state;
  release_connection(self);
  std::vector<std::string> unsent;
  // A quit gives back with a code of its own, a machine that gave up with
  // `undelivered`.
  give_back_all(self, undelivered_reason,
                reason ? undelivered_cause::gave_up : undelivered_cause::quit,
                reason ? &unsent : nullptr);
  st.room_waiting.fail_all(
    reason ? reason : make_error(errc::machine_quit, "the machine quit"));
  // The reason it gave up, or a close that timed out; no error for a
  // clean quit, but the close code the link ended with, if any.
  auto told = reason ? describe(reason)
                     : info && info->cause == close_cause::timeout
                         ? info->reason
                         : std::string{};
  transition(self, phase::disconnected, news{std::move(told), info});
  if (reason)
    reason = make_exit_reason(static_cast<errc>(reason.code()),
                              describe(reason), std::move(unsent));
  st.subscribers.clear();
  st.self_reference = nullptr;
  self->quit(std::move(reason));
}

/// A new attempt: CONNECTING with the next attempt number, then the broker
/// opens it, once its request is made and the governor (if any) gives this
/// host a slot.
void enter_connecting(machine_self self) {
  auto& st = self->state;
  if (st.generation > 0)
    ++st.counters.reconnect_attempts;
  ++st.last.attempt;
  adopt_connection(self);
  // Each attempt starts from the URL the machine was given.
  st.attempt_request = nullptr;
  st.redirects_followed = 0;
  st.last.redirects.clear();
  transition(self, phase::connecting);
  prepare_request(self);
}

/// The link is up and the session ready: what waited goes out, as fast as
/// the write window and the pace allow.
void enter_open_session(machine_self self) {
  transition(self, phase::connected, std::nullopt);
  self->state.pumping = true;
  pump(self);
}

/// Asks the session gate whether the session is ready (re-authenticated,
/// re-subscribed); queued outputs wait for its answer, bounded by
/// gate_timeout. No answer, or an error, drops the link.
void ask_gate(machine_self self) {
  auto& st = self->state;
  auto generation = st.generation;
  auto stale = [=] { return generation != self->state.generation; };
  self->request(st.opts().gate, st.opts().gate_timeout, gate_atom::value,
                st.last.epoch)
    .then(
      [=]() {
        if (!stale())
          enter_open_session(self);
      },
      [=](caf::error& err) {
        if (stale())
          return;
        auto& st = self->state;
        auto why = err == caf::sec::request_timeout
                     ? "no answer within "
                         + detail::in_milliseconds(st.opts().gate_timeout)
                     : describe(err);
        release_connection(self, false);
        enter_disconnected(self, disconnect_info{close_cause::closed_by_machine,
                                                 "session gate failed: "
                                                   + why});
      });
}

/// The broker reports the link up: CONNECTED with the next epoch, through
/// the gate if there is one.
void enter_connected(machine_self self, link_info& link) {
  auto& st = self->state;
  ++st.last.epoch;
  st.last.subprotocol = std::move(link.subprotocol);
  st.last.compressed = link.compressed;
  if (link.direct)
    st.connection.link = std::move(link.direct);
  // Subscribers still behind hold the new link too.
  if (st.read_paused)
    st.connection.link->pause_reading();
  ++st.counters.connects;
  auto now = self->clock().now();
  st.last_heard = now;
  st.connected_at = now;
  st.last_message = now;
  st.last_sent = now;
  st.awaiting_pong = false;
  st.last.url = st.current_request().url;
  // CONNECTED either way; the gate, if there is one, holds the queue.
  transition(self, st.opts().gate ? phase::gated : phase::connected);
  // The redirects belonged to the attempt that has ended.
  st.last.redirects.clear();
  arm_keepalive(self, st.opts().ping_interval);
  if (!st.opts().heartbeat.empty())
    arm_heartbeat(self, st.opts().heartbeat_interval);
  if (st.opts().liveness_timeout.count() > 0)
    arm_liveness(self, st.opts().liveness_timeout);
  if (st.opts().gate)
    return ask_gate(self);
  st.pumping = true;
  pump(self);
}

/// Moves to DISCONNECTED after a link that was up is gone, and reconnects
/// at once plus a little jitter; a link that was up less than min_uptime
/// counts as a failed attempt instead (flap protection): the backoff
/// follows, and the attempt count goes on.
void enter_disconnected(machine_self self, const disconnect_info& info) {
  auto& st = self->state;
  if (self->clock().now() - st.connected_at < st.opts().min_uptime) {
    requeue_unsettled(self);
    return enter_waiting(self, info);
  }
  forget_connection(self);
  count_disconnect(self, info.cause);
  requeue_unsettled(self);
  transition(self, phase::disconnected, news{info.reason, &info});
  // The next attempt is the first since this link was up.
  st.last.attempt = 0;
  auto pause = std::chrono::duration_cast<caf::timespan>(
    st.opts().reconnect_jitter * st.unit_random());
  // Sent without a sender, as a timer comes: a quit handled before it
  // leaves the phase, and the phase it then meets drops it; with the
  // machine as sender, the drop's error would come back to the machine.
  if (pause.count() == 0)
    caf::anon_send(self, retry_atom::value, st.generation);
  else
    arm_timer(self, retry_atom{}, pause);
}

/// An attempt failed: give up if it can't get better, else report why and
/// wait as the backoff says.
void enter_waiting(machine_self self, const disconnect_info& info) {
  auto& st = self->state;
  forget_connection(self);
  count_disconnect(self, info.cause);
  if (!is_retryable(st.opts(), info))
    return finish(self, "gave up: " + info.reason,
                  make_error(errc::handshake_rejected, info.reason), &info);
  if (st.opts().max_retries != 0 && st.last.attempt > st.opts().max_retries)
    return finish(self, "gave up: retries exhausted",
                  make_error(errc::retries_exhausted,
                             std::to_string(st.last.attempt)
                               + " attempts failed, the last: "
                               + info.reason),
                  &info);
  // Subscribers hear DISCONNECTED with the reason, then WAITING with the
  // pause.
  transition(self, phase::disconnected, news{info.reason, &info});
  auto pause = backoff_delay(st.opts().backoff(), st.last.attempt,
                             st.unit_random());
  transition(self, phase::waiting, news{info.reason, &info, pause});
  st.last.redirects.clear();
  arm_timer(self, retry_atom{}, pause);
}

/// quit while the link is up: the broker writes what is in flight, then
/// closes with 1000, bounded by close_timeout.
void enter_closing(machine_self self) {
  auto& st = self->state;
  transition(self, phase::closing, std::nullopt);
  st.pumping = false;
  st.connection.link->close();
  arm_timer(self, close_timeout_atom{}, st.opts().close_timeout);
}

/// quit while queued outputs wait for the write window, the pace or a
/// link: they are written first, bounded by close_timeout from now. Once
/// the queue is empty on a live link, `pump` closes.
void quit_when_written(machine_self self) {
  auto& st = self->state;
  if (st.quit_when_written)
    return;
  st.quit_when_written = true;
  arm_timer(self, quit_deadline_atom{}, st.opts().close_timeout, 0);
}

/// quit without a live link: ends at once unless outputs wait to be
/// written, which get up to close_timeout to find a link.
void quit_unconnected(machine_self self) {
  auto& st = self->state;
  // Held outputs went back to the queue when the link dropped.
  if (st.outputs.queue_empty())
    return finish(self);
  if (st.quit_when_written)
    return;
  quit_when_written(self);
  if (st.current_phase != phase::connecting)
    enter_connecting(self);
}

/// quit with a live link: closes once the queue is written and what asked
/// for it is confirmed.
void quit_connected(machine_self self) {
  auto& outputs = self->state.outputs;
  if (outputs.queue_empty() && !outputs.awaiting_confirmation())
    enter_closing(self);
  else
    quit_when_written(self);
}

void enter_suspended(machine_self self) {
  auto& st = self->state;
  // A graceful close would still write what is in flight, which goes back
  // to the queue: with frames in flight the link is dropped instead, so that
  // none is written twice.
  release_connection(self, st.outputs.in_flight() == 0);
  requeue_unsettled(self);
  st.last.attempt = 0;
  transition(self, phase::suspended, news{"suspended"});
}

/// Drops whatever is going on and attempts at once; a link that was up is
/// reported gone first.
void reconnect_now(machine_self self) {
  auto& st = self->state;
  requeue_unsettled(self);
  release_connection(self, false);
  if (link_is_up(st.current_phase)) {
    disconnect_info info{close_cause::closed_by_machine, "reconnect requested"};
    transition(self, phase::disconnected, news{info.reason, &info});
  }
  st.last.attempt = 0;
  enter_connecting(self);
}

} // namespace wsm::detail::fsm

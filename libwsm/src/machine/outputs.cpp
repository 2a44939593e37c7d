// Outputs from queued to settled: the overflow policy, the write window and
// the pace, receipts, confirmations and their timer, what a drop puts back;
// the bookkeeping itself is the outbox's (delivery/outbox.hpp).

#include "machine/machine_state.hpp"

#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm::detail::fsm {

bool is_text(const machine_state& st, frame_format format) {
  return format == frame_format::machine_default ? st.text
                                                 : format == frame_format::text;
}

/// Tells the sender of an output that it will never be written (or never
/// confirmed), and why: a quit's own code for a machine that quit,
/// `undelivered` otherwise.
void give_back(machine_self self, pending_output& x, const std::string& reason,
               undelivered_cause cause) {
  auto& counters = self->state.counters;
  ++counters.undelivered;
  counters.undelivered_by.resize(undelivered_cause_count);
  ++counters.undelivered_by[static_cast<size_t>(cause)];
  // The gate is asked again on the next link: that is its notice, unless
  // it sent its output as a request, which is answered.
  if (cause == undelivered_cause::link_lost && !x.sender.asked())
    return;
  x.sender.give_back(self, *x.payload, reason,
                     cause == undelivered_cause::quit ? errc::machine_quit
                                                      : errc::undelivered);
}

/// An output is done: written, or written and confirmed. Its sender's
/// request, if it asked, is answered.
void settle(machine_self self, pending_output& x) {
  if (!x.confirm_id.empty())
    ++self->state.counters.confirmed;
  x.sender.written();
}

/// Producers waiting for room hear of what settled outputs made.
void offer_room(machine_self self) {
  auto& st = self->state;
  if (!st.room_waiting.empty())
    st.room_waiting.offer(st.fill());
}

/// Hands an output the outbox just put in flight to the link.
void write_now(machine_self self, const pending_output& x) {
  auto& st = self->state;
  // The link shares the payload: should it drop first, the output goes
  // back to the queue. In flight before the write, so that a write that
  // throws leaves it where finish() finds it.
  if (x.writes > 1)
    ++st.counters.resent;
  st.connection.link->write(x.payload, is_text(st, x.format));
  // Only the heartbeat asks when the last output went: without one, no
  // look at the clock for each output.
  if (!st.opts().heartbeat.empty())
    st.last_sent = self->clock().now();
}

/// Hands an output to the link that never was in the queue (the gate's
/// own, a heartbeat): it takes no room in the queue.
void write_unqueued(machine_self self, pending_output x) {
  write_now(self, self->state.outputs.send_unqueued(std::move(x)));
}

/// Whether the link may take one more output now: the window has room in
/// frames and in bytes (the first frame goes whatever its size).
bool window_open(const machine_state& st) {
  return st.outputs.window_open(write_window, write_window_bytes);
}

pending_output make_pending(machine_self self, output& x,
                            output_kind kind) {
  auto payload = x.shared ? std::move(x.shared)
                          : std::make_shared<const std::string>(
                            std::move(x.payload));
  pending_output result;
  result.payload = std::move(payload);
  result.format = x.format;
  result.kind = kind;
  // The gate's outputs are for the link they were asked for: none is held
  // for a confirmation that a later link could not give.
  if (kind == output_kind::user)
    result.confirm_id = std::move(x.confirm_id);
  result.sender = detail::output_sender::of_current(self);
  return result;
}

/// Queues an output. Every output not yet settled counts against
/// `max_queue` and its bytes against `max_queue_bytes`, in flight, held for
/// its confirmation or not; one that does not fit follows the overflow
/// policy, and whatever goes is handed back to its sender.
void enqueue(machine_self self, output& x) {
  auto& st = self->state;
  auto item = make_pending(self, x);
  auto size = item.payload->size();
  if (st.fill().fits(size))
    return st.outputs.push_back(std::move(item));
  if (size > st.opts().max_queue_bytes)
    return give_back(self, item,
                     "queue full: " + std::to_string(size)
                       + " bytes, more than max_queue_bytes ("
                       + std::to_string(st.opts().max_queue_bytes) + ")",
                     undelivered_cause::queue_full);
  // Outputs handed to the link, or held for their confirmation, are beyond
  // reach: only queued ones make room, as many as it takes.
  switch (st.opts().overflow) {
    case overflow_policy::reject:
      break;
    case overflow_policy::drop_oldest:
      while (!st.fill().fits(size) && !st.outputs.queue_empty()) {
        auto oldest = st.outputs.take_front();
        give_back(self, oldest, "queue full: dropped the oldest",
                  undelivered_cause::queue_full);
      }
      break;
    case overflow_policy::drop_newest:
      while (!st.fill().fits(size) && !st.outputs.queue_empty()) {
        auto newest = st.outputs.take_back();
        give_back(self, newest, "queue full: replaced by a newer one",
                  undelivered_cause::queue_full);
      }
      break;
  }
  if (st.fill().fits(size))
    return st.outputs.push_back(std::move(item));
  give_back(self, item, "queue full", undelivered_cause::queue_full);
}

/// Whether `send_rate` lets the head of the queue go now. If not, a token
/// is booked for it and a timer armed for when it comes.
bool paced_out(machine_self self) {
  auto& st = self->state;
  if (st.opts().send_rate <= 0)
    return false;
  if (st.pace_booked)
    return true;
  auto wait = st.pace.take(self->clock().now().time_since_epoch());
  if (wait.count() == 0)
    return false;
  st.pace_booked = true;
  arm_timer(self, pace_atom{}, wait);
  return true;
}

/// A quit that waited for the queue closes once everything is written and
/// every output that asked for it is confirmed.
void close_if_done(machine_self self) {
  auto& st = self->state;
  if (st.quit_when_written && st.pumping && st.outputs.queue_empty()
      && !st.outputs.awaiting_confirmation())
    enter_closing(self);
}

/// Hands queued outputs to the link while the window and the pace allow;
/// a quit that waited for the queue closes once it is done.
void pump(machine_self self) {
  auto& st = self->state;
  if (!st.pumping)
    return;
  while (!st.outputs.queue_empty() && window_open(st) && !paced_out(self))
    write_now(self, st.outputs.send_front());
  close_if_done(self);
}

/// The booked token has come: the head of the queue goes, then the rest as
/// the pace allows.
void paced_turn(machine_self self) {
  auto& st = self->state;
  st.pace_booked = false;
  if (!st.pumping || st.outputs.queue_empty() || !window_open(st))
    return;
  write_now(self, st.outputs.send_front());
  pump(self);
}

/// Arms the timer of the oldest output held for its confirmation, unless
/// one is armed already (it arms the next when it fires).
void arm_confirm_timer(machine_self self) {
  auto& st = self->state;
  auto timeout = st.opts().confirm_timeout;
  if (st.confirm_timer_armed || timeout.count() <= 0)
    return;
  auto deadline = st.outputs.next_deadline(timeout);
  if (!deadline)
    return;
  st.confirm_timer_armed = true;
  auto now = self->clock().now();
  arm_timer(self, confirm_timeout_atom{},
            *deadline > now ? *deadline - now : caf::timespan{0}, 0);
}

/// The confirmation timer fired: held outputs written confirm_timeout ago
/// or longer go back to their senders.
void expire_unconfirmed(machine_self self) {
  auto& st = self->state;
  st.confirm_timer_armed = false;
  auto timeout = st.opts().confirm_timeout;
  auto any = false;
  while (auto x = st.outputs.take_overdue(self->clock().now(), timeout)) {
    give_back(self, *x,
              "not confirmed within " + detail::in_milliseconds(timeout)
                + " (confirm_timeout)",
              undelivered_cause::not_confirmed);
    any = true;
  }
  if (any) {
    offer_room(self);
    close_if_done(self);
  }
  arm_confirm_timer(self);
}

/// The application confirms `id`: the output waiting under it is done.
void confirm_output(machine_self self, const std::string& id) {
  auto& st = self->state;
  auto done = st.outputs.confirm(id);
  if (!done)
    return;
  settle(self, *done);
  offer_room(self);
  close_if_done(self);
}

/// The broker wrote `count` more frames: their senders may hear about it,
/// or, for outputs that asked for confirmation, wait for it.
void acknowledge(machine_self self, uint64_t count) {
  auto& st = self->state;
  // The time of writing matters only to outputs held for a confirmation;
  // the clock is read for the first of them, not for every ack.
  using time_point = caf::actor_clock::time_point;
  std::optional<time_point> now;
  auto held = false;
  for (; count > 0 && st.outputs.in_flight() > 0; --count) {
    if (!now && st.outputs.oldest_in_flight().awaits_confirmation())
      now = self->clock().now();
    ++st.counters.messages_out;
    st.counters.bytes_out += st.outputs.oldest_in_flight().payload->size();
    if (auto done = st.outputs.written_one(now.value_or(time_point{})))
      settle(self, *done);
    else
      held = true;
  }
  if (held)
    arm_confirm_timer(self);
  pump(self);
  // Written frames made room: producers waiting for it hear so.
  offer_room(self);
}

/// The link is gone: what was held for its confirmation, then what was in
/// flight, goes back to the front of the queue in order, to be written
/// first on the next link (after the gate). The gate's outputs were for
/// that link, and an output written max_resends + 1 times goes no more:
/// their senders hear so.
void requeue_unsettled(machine_self self) {
  auto& st = self->state;
  auto leaving = st.outputs.requeue(st.opts().max_resends);
  for (auto& x : leaving) {
    switch (x.why) {
      case detail::leaves_because::confirmed:
        settle(self, x.output);
        break;
      case detail::leaves_because::link_lost:
        give_back(self, x.output,
                  "the link it was for dropped before it was written",
                  undelivered_cause::link_lost);
        break;
      case detail::leaves_because::resends_exhausted:
        give_back(self, x.output,
                  "not confirmed after " + std::to_string(x.output.writes)
                    + " writes (max_resends "
                    + std::to_string(st.opts().max_resends) + ")",
                  undelivered_cause::not_confirmed);
        break;
    }
  }
  if (!leaving.empty())
    offer_room(self);
}

/// Every output not settled goes back to its sender with `reason` (one
/// written and not yet confirmed says so); their payloads are added to
/// `unsent` if given.
void give_back_all(machine_self self, const std::string& reason,
                   undelivered_cause cause,
                   std::vector<std::string>* unsent) {
  for (auto& item : self->state.outputs.take_all()) {
    if (unsent)
      unsent->push_back(*item.payload);
    if (item.confirm_id.empty() || item.writes == 0)
      give_back(self, item, reason, cause);
    else if (cause == undelivered_cause::quit)
      give_back(self, item, "quit: written, not confirmed", cause);
    else
      give_back(self, item, reason + " (written, not confirmed)", cause);
  }
}

} // namespace wsm::detail::fsm

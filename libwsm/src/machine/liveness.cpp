// Is the peer alive: keepalive pings and their pong deadline, the
// heartbeat, the liveness check of a feed.

#include "machine/machine_state.hpp"

#include "vocabulary/wording.hpp"

namespace wsm::detail::fsm {

void send_ping(machine_self self, const std::string& payload) {
  auto& st = self->state;
  st.connection.link->ping(payload);
  st.ping_sent_at = self->clock().now();
  ++st.pings_sent;
  st.awaiting_pong = true;
  arm_timer(self, pong_timeout_atom{}, st.opts().pong_timeout,
            ++st.pong_deadline);
}

/// The keepalive watches the link that is up, gated or not: it is stamped
/// with the connection, not the phase. So do the heartbeat and the
/// liveness check.
void arm_keepalive(machine_self self, caf::timespan delay) {
  arm_timer(self, keepalive_atom{}, delay, self->state.connection.id);
}

void arm_heartbeat(machine_self self, caf::timespan delay) {
  arm_timer(self, heartbeat_atom{}, delay, self->state.connection.id);
}

void arm_liveness(machine_self self, caf::timespan delay) {
  arm_timer(self, liveness_atom{}, delay, self->state.connection.id);
}

/// A pong came: the peer is alive, and the round trip is known.
void pong_received(machine_self self) {
  auto& st = self->state;
  st.last_heard = self->clock().now();
  st.awaiting_pong = false;
  st.counters.last_rtt = st.last_heard - st.ping_sent_at;
  if (st.observer)
    st.observer->machine_round_trip(st.counters.last_rtt);
}

/// The keepalive's turn: a ping after ping_interval without hearing from
/// the peer, one unanswered ping at a time.
void keepalive_turn(machine_self self) {
  auto& st = self->state;
  auto silent_for = self->clock().now() - st.last_heard;
  if (st.awaiting_pong) {
    // A new ping would move the pong deadline ever further away.
    arm_keepalive(self, st.opts().ping_interval);
  } else if (silent_for >= st.opts().ping_interval) {
    send_ping(self);
    arm_keepalive(self, st.opts().ping_interval);
  } else {
    arm_keepalive(self, st.opts().ping_interval - silent_for);
  }
}

/// The liveness check's turn: no data message for liveness_timeout drops
/// the link as a dead peer (pongs do not count).
void liveness_turn(machine_self self) {
  auto& st = self->state;
  auto limit = st.opts().liveness_timeout;
  auto silent_for = self->clock().now() - st.last_message;
  // While reading is paused nothing can arrive: not the peer's fault.
  if (st.read_paused || silent_for < limit)
    return arm_liveness(self, st.read_paused ? limit : limit - silent_for);
  disconnect_info info{close_cause::dead_peer,
                       "no message within " + detail::in_milliseconds(limit)
                         + " (liveness_timeout): the feed is dead"};
  release_connection(self, false);
  enter_disconnected(self, info);
}

/// The pong deadline stamped `deadline` passed: without any frame since the
/// ping, the peer is dead. Only the latest deadline counts, and while
/// reading is paused a pong cannot be read: the deadline starts again when
/// reading resumes.
void pong_deadline_passed(machine_self self, uint64_t deadline) {
  auto& st = self->state;
  if (deadline != st.pong_deadline || !st.awaiting_pong || st.read_paused)
    return;
  disconnect_info info{close_cause::dead_peer,
                       "no pong within "
                         + detail::in_milliseconds(st.opts().pong_timeout)
                         + ": the peer is gone"};
  release_connection(self, false);
  enter_disconnected(self, info);
}

/// The heartbeat's turn: sent when nothing was for heartbeat_interval and
/// the write window has room (a full window means plenty is being sent).
void heartbeat_turn(machine_self self) {
  auto& st = self->state;
  auto interval = st.opts().heartbeat_interval;
  auto quiet_for = self->clock().now() - st.last_sent;
  if (quiet_for < interval)
    return arm_heartbeat(self, interval - quiet_for);
  if (st.outputs.in_flight() < write_window) {
    pending_output beat;
    beat.payload = std::make_shared<const std::string>(st.opts().heartbeat);
    beat.kind = output_kind::heartbeat;
    write_unqueued(self, std::move(beat));
  }
  arm_heartbeat(self, interval);
}

} // namespace wsm::detail::fsm

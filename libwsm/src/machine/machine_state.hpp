#pragma once

// The machine: one WebSocket client connection as a finite state machine.
// Its state, and the functions its files share, one file per seam.
//
// Phases, and the public state each reports (in brackets):
//
//          spawn
//            |
//            v
//   +--> connecting ---connected---> gated ---gate ok---> connected --quit--> closing
//   |   [CONNECTING]     (no gate:  [CONNECTED]  (or no   [CONNECTED]       [CONNECTED]
//   |        |          to connected)             gate)       |                 |
//   |      closed                                             |             closed or
//   |  (attempt failed)        closed, dead peer, write timeout, gate failed    close timeout
//   |        |                                                |                 |
//   |        v                                                v                 v
//   |   waiting <--(via DISCONNECTED)          disconnected [DISCONNECTED]   (the end,
//   |   [WAITING]     fatal: the end           (retry at once + jitter)    DISCONNECTED)
//   |        |                                                |
//   +-retry--+------------------------------------------------+
//
//   suspended [DISCONNECTED]: from any phase but closing on suspend; left on
//   resume or reconnect (to connecting) or quit.
//
// A link that drops before it was up min_uptime goes to waiting instead of
// disconnected (flap protection). In connecting, a redirect opens the next
// hop without leaving the phase; each attempt's request is made first
// (header file, request provider), and a bad one fails the attempt.
//
// quit in connecting, disconnected, waiting or suspended: with an empty
// queue, at once DISCONNECTED and the end; with outputs queued, the machine
// keeps trying to connect and write them for up to close_timeout first (a
// quit waiting for the queue, with a deadline timer of its own; not a phase,
// since it spans several). reconnect in any phase but closing: drop what is
// going on and attempt at once.
//
// Each phase is one function returning its behavior; handlers shared by all
// phases live in `common_handlers`, which `compose` appends to a phase's
// own in one flat list, so a phase lists only what it does differently.
// A phase's timers come last, in one handler and one function per phase
// (`live_link_timer`, ...), since every timer has one message type.
// `transition` is the one place where the phase changes: it bumps the
// generation (so that timers and answers of the phase left are recognised
// as stale), switches the behavior and tells subscribers when the public
// state changes. Shared handlers ask the phase, never the published status. The machine never
// touches a socket: it talks to its broker through messages or a `link`
// (see wsm/transport.hpp), which keeps it testable on CAF's deterministic
// scheduler.
//
// Nothing is lost silently: an output is queued, then in flight (handed to
// the link, not yet acknowledged as written), then written. When a link
// drops, what was in flight goes back to the front of the queue; whatever
// can never be written goes back to its sender.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "delivery/lazy_deque.hpp"
#include "delivery/outbox.hpp"
#include "delivery/room_waiters.hpp"
#include "delivery/subscriber_list.hpp"
#include "machine/machine_impl.hpp"
#include "machine/machine_observer.hpp"
#include "machine/machine_setup.hpp"
#include "wsm/governor.hpp"
#include "wsm/machine.hpp"

namespace wsm::detail::fsm {

using detail::output_kind;
using detail::pending_output;

/// Frames handed to the link and not yet acknowledged, at most, while
/// connected: the rest waits in the queue, where the overflow policy can
/// still reach it.
constexpr size_t write_window = 64;

/// Their bytes, at most, beyond the first frame: the link copies what it
/// writes until it is sent, so a peer that stops reading holds no more
/// than this twice.
constexpr uint64_t write_window_bytes = 256 * 1024;

/// One phase per behavior. Several report the same public state: see
/// `public_state` and the diagram at the top.
enum class phase : uint8_t {
  connecting,
  /// The link is up; the session gate has not answered yet.
  gated,
  connected,
  /// quit came while connected: the close handshake is under way.
  closing,
  /// A link that was up dropped; the retry comes at once or after jitter.
  disconnected,
  /// An attempt failed; the retry comes after the backoff.
  waiting,
  /// DISCONNECTED on purpose, until resume, reconnect or quit.
  suspended,
};

/// The state subscribers are told for `x`.
inline wsm::state public_state(phase x) noexcept {
  switch (x) {
    case phase::connecting:
      return wsm::state::connecting;
    case phase::gated:
    case phase::connected:
    case phase::closing:
      return wsm::state::connected;
    case phase::waiting:
      return wsm::state::waiting;
    case phase::disconnected:
    case phase::suspended:
      break;
  }
  return wsm::state::disconnected;
}

/// Whether `x` has a link that is up (closing's is on its way out).
inline bool link_is_up(phase x) noexcept {
  return x == phase::gated || x == phase::connected;
}

/// The connection of the current attempt: its id and where commands to it
/// go, set and cleared together.
struct current_connection {
  /// The broker's id for it; 0 when there is none.
  uint64_t id = 0;
  /// The connection itself once up, if the broker handed it over, else the
  /// broker (`broker_link`); null when there is none.
  std::shared_ptr<wsm::link> link;
};

/// A different seed for every machine (see transition.cpp).
uint32_t next_seed();

struct machine_state {
  // -- configuration ----------------------------------------------------------
  /// Request and options, shared with the machines spawned alike.
  std::shared_ptr<const detail::machine_setup> setup;
  broker_actor broker;
  caf::actor timer_relay;
  /// Hands out connection attempts per host; none when not configured.
  caf::actor governor;
  /// Reads the header file before each attempt; none without one.
  caf::actor header_reader;

  // -- what subscribers see ---------------------------------------------------
  /// The last status published; its state is the machine's state.
  status last;

  // -- the phase and the link -------------------------------------------------
  /// Where the machine is; its behavior is `behavior_of(phase)`. Changed
  /// by `transition` only.
  phase current_phase = phase::connecting;
  /// Bumped by every transition: a timer or an answer of an earlier phase
  /// is stale.
  uint64_t generation = 0;
  /// The connection of the current attempt; none between attempts.
  current_connection connection;
  /// The request of the current attempt when it is not the one the
  /// machine was spawned with (a redirect, the request provider); null
  /// otherwise.
  std::shared_ptr<const connect_request> attempt_request;
  /// Redirects followed in the current attempt.
  uint32_t redirects_followed = 0;
  /// When the peer was last heard from (any frame or pong).
  caf::actor_clock::time_point last_heard;
  /// When the link came up, the last data message arrived, and the last
  /// output was handed to the link.
  caf::actor_clock::time_point connected_at;
  caf::actor_clock::time_point last_message;
  caf::actor_clock::time_point last_sent;
  /// When the last ping went out, and its number.
  caf::actor_clock::time_point ping_sent_at;
  uint64_t pings_sent = 0;
  /// A ping went out and nothing was heard since.
  bool awaiting_pong = false;
  /// Stamps the pong deadline: one armed later (after a pause) makes the
  /// earlier one stale.
  uint64_t pong_deadline = 0;
  /// Reading is stopped because a subscriber is `max_inbox` inputs behind;
  /// since when.
  bool read_paused = false;
  caf::actor_clock::time_point paused_since;
  /// Inputs that arrived while a subscriber was at the bound (read before
  /// the link stopped): they go out in order as subscribers catch up, so
  /// that no subscriber is ever sent more than `max_inbox` ahead.
  detail::lazy_deque<input> held;
  /// Inputs sent on to subscribers and not yet reported to the link as
  /// taken (`link::consumed`).
  uint64_t released = 0;
  /// The link takes outputs from the queue (CONNECTED, the session gate
  /// passed).
  bool pumping = false;
  /// `send_rate`: the bucket, and whether a token is booked for the head of
  /// the queue (its timer pending).
  token_bucket pace;
  bool pace_booked = false;
  bool text = false;
  /// quit came while outputs were queued: they are written first (on this
  /// link or the next), then the machine ends; `quit_deadline_atom` bounds
  /// the wait.
  bool quit_when_written = false;
  std::minstd_rand random{next_seed()};

  // -- outputs ----------------------------------------------------------------
  /// Queued, in flight, and written but not yet confirmed.
  detail::outbox outputs;
  /// The timer of the oldest output held for its confirmation is armed.
  bool confirm_timer_armed = false;
  /// Producers waiting for room in the queue (`room_atom`).
  detail::room_waiters room_waiting;

  detail::subscriber_list subscribers;
  /// Holds the machine alive while it has subscribers, so that it ends only
  /// when both its last reference and its last subscriber are gone.
  caf::strong_actor_ptr self_reference;

  wsm::stats counters;

  /// Who watches the machines of the system (the metrics and the status
  /// page); null when nobody does. `observed_id` is its id there (the
  /// actor's).
  std::shared_ptr<detail::machine_observer> observer;
  uint64_t observed_id = 0;

  static inline const char* name = "wsm.machine";

  const connect_request& request() const noexcept {
    return setup->request;
  }

  const options& opts() const noexcept {
    return setup->opts;
  }

  /// How full the queue is, against max_queue and max_queue_bytes.
  detail::queue_fill fill() const noexcept {
    return outputs.fill(opts().max_queue, opts().max_queue_bytes);
  }

  /// What the current attempt connects to.
  const connect_request& current_request() const noexcept {
    return attempt_request ? *attempt_request : setup->request;
  }

  ~machine_state() {
    // Reached with a live connection only when the machine became
    // unreachable: close it the way quit would.
    if (connection.link)
      connection.link->close();
    if (observer)
      observer->machine_ended(observed_id, counters);
  }

  double unit_random() {
    return std::uniform_real_distribution<double>{0.0, 1.0}(random);
  }
};

using machine_impl_actor = detail::machine_impl_actor;
using machine_self = machine_impl_actor::stateful_pointer<machine_state>;
using machine_behavior = machine_impl_actor::behavior_type;
using detail::close_timeout_atom;
using detail::confirm_timeout_atom;
using detail::heartbeat_atom;
using detail::liveness_atom;
using detail::subscriber_entry;
using detail::keepalive_atom;
using detail::pace_atom;
using detail::pong_timeout_atom;
using detail::quit_deadline_atom;
using detail::retry_atom;
using detail::slot_timer_atom;

/// What subscribers are told when a phase is entered: why (for
/// DISCONNECTED and WAITING), the link's end, the pause before the retry.
struct news {
  std::string error;
  const disconnect_info* info = nullptr;
  caf::timespan retry_delay{};
};

/// Arms a timer that reaches the machine through the relay, which holds only
/// a weak reference: a pending timer never keeps a machine alive.
template <class Atom>
void arm_timer(machine_self self, Atom, caf::timespan delay,
               uint64_t stamp) {
  auto& st = self->state;
  auto& clock = self->clock();
  auto payload = caf::make_message(Atom::value, stamp);
  clock.schedule_message(
    clock.now() + delay, caf::actor_cast<caf::strong_actor_ptr>(st.timer_relay),
    caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                              detail::relay_atom::value, self->address(),
                              std::move(payload)));
}

template <class Atom>
void arm_timer(machine_self self, Atom atom, caf::timespan delay) {
  arm_timer(self, atom, delay, self->state.generation);
}

/// Returns whether an event belongs to the current connection.
inline bool is_current(machine_self self, uint64_t connection) {
  return connection != 0 && connection == self->state.connection.id;
}

/// Returns whether a timer was armed in the current state.
inline bool is_current_timer(machine_self self, uint64_t generation) {
  return generation == self->state.generation;
}

// -- transition.cpp: the one place the phase changes --------------------------

uint32_t next_seed();
void fan_out(machine_self self, const caf::message& content);
void publish(machine_self self, const news& told);
void transition(machine_self self, phase next,
                std::optional<news> told = news{});

// -- inputs.cpp: inputs, inbound flow control, subscribers --------------------

uint64_t probe_interval(size_t max_inbox);
bool any_subscriber_at_bound(const machine_state& st);
void pause_reading(machine_self self);
void resume_reading(machine_self self);
void check_inbox_bound(machine_self self);
void inputs_handled(machine_self self, const caf::actor_addr& subscriber,
                    uint64_t seq);
void await_answer(machine_self self, const subscriber_entry& x,
                  caf::message_id request);
bool asks_for_answer(const subscriber_entry& x, size_t limit);
void deliver_to_subscribers(machine_self self, input&& x);
void report_released(machine_self self);
void fan_out_input(machine_self self, input&& x);
void release_held(machine_self self, bool bounded);
void deliver_held(machine_self self);
void flush_held(machine_self self);
void update_self_reference(machine_self self);
void add_subscriber(machine_self self, const caf::actor& subscriber);
void remove_subscriber(machine_self self, const caf::actor_addr& subscriber);
void pass_on(machine_self self, input& x);
void receive(machine_self self, input& x);
void receive(machine_self self, std::vector<input>& xs);

// -- outputs.cpp: outputs from queued to settled ------------------------------

bool is_text(const machine_state& st, frame_format format);
void give_back(machine_self self, pending_output& x, const std::string& reason,
               undelivered_cause cause);
void settle(machine_self self, pending_output& x);
void offer_room(machine_self self);
void write_now(machine_self self, const pending_output& x);
void write_unqueued(machine_self self, pending_output x);
bool window_open(const machine_state& st);
pending_output make_pending(machine_self self, output& x,
                            output_kind kind = output_kind::user);
void enqueue(machine_self self, output& x);
bool paced_out(machine_self self);
void close_if_done(machine_self self);
void pump(machine_self self);
void paced_turn(machine_self self);
void arm_confirm_timer(machine_self self);
void expire_unconfirmed(machine_self self);
void confirm_output(machine_self self, const std::string& id);
void acknowledge(machine_self self, uint64_t count);
void requeue_unsettled(machine_self self);
void give_back_all(machine_self self, const std::string& reason,
                   undelivered_cause cause,
                   std::vector<std::string>* unsent = nullptr);

// -- liveness.cpp: pings, pongs, heartbeats, liveness -------------------------

void send_ping(machine_self self, const std::string& payload = {});
void arm_keepalive(machine_self self, caf::timespan delay);
void arm_heartbeat(machine_self self, caf::timespan delay);
void arm_liveness(machine_self self, caf::timespan delay);
void pong_received(machine_self self);
void keepalive_turn(machine_self self);
void liveness_turn(machine_self self);
void pong_deadline_passed(machine_self self, uint64_t deadline);
void heartbeat_turn(machine_self self);

// -- attempt.cpp: each attempt's request --------------------------------------

bool is_redirect(uint16_t status);
bool is_retryable(const options& opts, const disconnect_info& info);
void open_connection(machine_self self);
void fail_attempt(machine_self self, std::string reason);
void book_slot(machine_self self);
void set_headers(connect_request& request, const std::vector<header>& headers);
caf::expected<connect_request>
make_attempt_request(machine_self self, const request_update& answer,
                     const std::vector<header>& from_file);
void prepare_request(machine_self self);
void ask_request_provider(machine_self self, std::vector<header> from_file);
bool same_origin(const connect_request& x, const connect_request& y);
void follow_redirect(machine_self self, const disconnect_info& info);

// -- phases.cpp: entering each phase ------------------------------------------

void adopt_connection(machine_self self);
void forget_connection(machine_self self);
void release_connection(machine_self self, bool graceful = true);
void count_disconnect(machine_self self, close_cause cause);
void finish(machine_self self, const std::string& undelivered_reason = "quit",
            caf::error reason = {}, const disconnect_info* info = nullptr);
void enter_connecting(machine_self self);
void enter_open_session(machine_self self);
void ask_gate(machine_self self);
void enter_connected(machine_self self, link_info& link);
void enter_disconnected(machine_self self, const disconnect_info& info);
void enter_waiting(machine_self self, const disconnect_info& info);
void enter_closing(machine_self self);
void quit_when_written(machine_self self);
void quit_unconnected(machine_self self);
void quit_connected(machine_self self);
void enter_suspended(machine_self self);
void reconnect_now(machine_self self);

// -- behaviors.cpp: one behavior per phase ------------------------------------

void apply_command(machine_self self, command x);
machine_behavior connecting(machine_self self);
machine_behavior connected(machine_self self);
machine_behavior gated(machine_self self);
machine_behavior closing(machine_self self);
machine_behavior retrying(machine_self self);
machine_behavior suspended(machine_self self);
machine_behavior behavior_of(machine_self self, phase x);
machine_behavior machine(machine_self self,
                         std::shared_ptr<const machine_setup> setup,
                         caf::actor first_subscriber,
                         machine_services services);

} // namespace wsm::detail::fsm

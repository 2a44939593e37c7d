// The machine: one WebSocket client connection as a finite state machine.
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
// own in one flat list, so a phase lists only what it does differently. `transition` is the one place
// where the phase changes: it bumps the generation (so that timers and
// answers of the phase left are recognised as stale), switches the
// behavior and tells subscribers when the public state changes. Shared
// handlers ask the phase, never the published status. The machine never
// touches a socket: it talks to its broker through messages or a `link`
// (see wsm/transport.hpp), which keeps it testable on CAF's deterministic
// scheduler.
//
// Nothing is lost silently: an output is queued, then in flight (handed to
// the link, not yet acknowledged as written), then written. When a link
// drops, what was in flight goes back to the front of the queue; whatever
// can never be written goes back to its sender.

#include "wsm/machine.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <tuple>
#include <atomic>
#include <random>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_handler.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "machine/machine_observer.hpp"
#include "machine/machine_setup.hpp"
#include "machine/machine_impl.hpp"
#include "vocabulary/wording.hpp"
#include "delivery/outbox.hpp"
#include "delivery/output_sender.hpp"
#include "delivery/room_waiters.hpp"
#include "delivery/subscriber_list.hpp"
#include "delivery/lazy_deque.hpp"
#include "wsm/governor.hpp"
#include "request/url.hpp"
#include "wsm/error.hpp"
#include "wsm/settings.hpp"

namespace wsm {

namespace {



/// A different seed for every machine. One std::random_device read per
/// process, not per machine: opening it cost 5% of spawning 10,000.
uint32_t next_seed() {
  static std::atomic<uint64_t> state{std::random_device{}()};
  // splitmix64: consecutive states give unrelated seeds.
  auto z = state.fetch_add(0x9e3779b97f4a7c15ull) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>(z ^ (z >> 31));
}

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

/// A connection as messages to the broker that holds it: what a machine
/// talks to until the broker hands over the connection itself, and always
/// with a broker that does not (the tests' fakes).
class broker_link final : public wsm::link {
public:
  broker_link(broker_actor broker, uint64_t connection, caf::actor_addr machine)
    : broker_(std::move(broker)),
      connection_(connection),
      machine_(std::move(machine)) {
  }

  void write(std::shared_ptr<const std::string> payload, bool text) override {
    send(write_atom::value, connection_, *payload, text);
  }

  void ping(const std::string& payload) override {
    if (payload.empty())
      send(ping_atom::value, connection_);
    else
      send(ping_atom::value, connection_, payload);
  }

  void close() override {
    send(close_atom::value, connection_);
  }

  void abort() override {
    send(abort_atom::value, connection_);
  }

  void pause_reading() override {
    send(pause_atom::value, connection_);
  }

  void resume_reading() override {
    send(resume_atom::value, connection_);
  }

private:
  /// Sends as the machine, as its own sends would be (the broker learns
  /// nothing from the sender, but the sequence a test sees is the same).
  template <class... Ts>
  void send(Ts&&... xs) {
    if (broker_)
      broker_->enqueue(caf::actor_cast<caf::strong_actor_ptr>(machine_),
                       caf::make_message_id(),
                       caf::make_message(std::forward<Ts>(xs)...), nullptr);
  }

  broker_actor broker_;
  uint64_t connection_;
  caf::actor_addr machine_;
};

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
wsm::state public_state(phase x) noexcept {
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
bool link_is_up(phase x) noexcept {
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

struct machine_state {
  // -- configuration ----------------------------------------------------------
  /// Request and options, shared with the machines spawned alike.
  std::shared_ptr<const detail::machine_setup> setup;
  broker_actor broker;
  caf::actor timer_relay;
  /// Hands out connection attempts per host; none when not configured.
  caf::actor governor;

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

machine_behavior behavior_of(machine_self self, phase x);

// -- messaging ----------------------------------------------------------------

/// Sends one message to every subscriber.
void fan_out(machine_self self, const caf::message& content) {
  self->state.subscribers.fan_out(self, content);
}

void flush_held(machine_self self);

/// What subscribers are told when a phase is entered: why (for
/// DISCONNECTED and WAITING), the link's end, the pause before the retry.
struct news {
  std::string error;
  const disconnect_info* info = nullptr;
  caf::timespan retry_delay{};
};

/// Tells subscribers the public state of the phase just entered.
void publish(machine_self self, const news& told) {
  flush_held(self);
  auto& st = self->state;
  auto next = public_state(st.current_phase);
  st.last.state = next;
  st.last.error = told.error;
  st.last.retry_delay = told.retry_delay;
  st.last.http_status = told.info ? told.info->http_status : 0;
  st.last.close_code = told.info ? told.info->close_code : 0;
  st.last.close_reason = told.info ? told.info->close_reason : std::string{};
  // What the handshake agreed on holds while the link is up (set by
  // enter_connected); other states have no link to describe.
  if (next != wsm::state::connected) {
    st.last.subprotocol.clear();
    st.last.compressed = false;
    st.last.url.clear();
  }
  if (st.observer)
    st.observer->machine_status(st.observed_id, st.last);
  fan_out(self, caf::make_message(st.last));
}

/// The one place where the machine changes phase: the generation moves on
/// (timers and answers of the phase left are stale from here), the phase's
/// behavior replaces the old one, and subscribers hear the new public state
/// if it differs from the last or `told` is given (a new attempt, a
/// suspend, a DISCONNECTED before WAITING).
void transition(machine_self self, phase next,
                std::optional<news> told = news{}) {
  auto& st = self->state;
  ++st.generation;
  st.current_phase = next;
  self->become(behavior_of(self, next));
  if (told)
    publish(self, *told);
  else if (public_state(next) != st.last.state)
    publish(self, news{});
}

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
bool is_current(machine_self self, uint64_t connection) {
  return connection != 0 && connection == self->state.connection.id;
}

/// Returns whether a timer was armed in the current state.
bool is_current_timer(machine_self self, uint64_t generation) {
  return generation == self->state.generation;
}

// -- inbound flow control -------------------------------------------------------

/// Every how many inputs a subscriber is asked to answer one: often enough
/// that the machine learns of its progress before it reaches the bound.
uint64_t probe_interval(size_t max_inbox) {
  return std::max<uint64_t>(1, max_inbox / 2);
}

bool any_subscriber_at_bound(const machine_state& st) {
  auto limit = st.opts().max_inbox;
  if (limit == 0)
    return false;
  return std::any_of(st.subscribers.begin(), st.subscribers.end(),
                     [=](const subscriber_entry& x) {
                       return x.delivered - x.handled >= limit;
                     });
}

/// Stops reading from the socket until the subscribers catch up.
void pause_reading(machine_self self) {
  auto& st = self->state;
  if (st.read_paused)
    return;
  st.read_paused = true;
  st.paused_since = self->clock().now();
  ++st.counters.read_pauses;
  if (st.connection.link)
    st.connection.link->pause_reading();
}

void send_ping(machine_self self, const std::string& payload = {});

/// Reads again. A pong that could not be read while paused gets a full
/// `pong_timeout` from now: the peer was not slow, we were.
void resume_reading(machine_self self) {
  auto& st = self->state;
  if (!st.read_paused)
    return;
  st.read_paused = false;
  st.counters.read_paused += self->clock().now() - st.paused_since;
  // Nothing could arrive while paused: liveness counts from now.
  st.last_message = self->clock().now();
  if (!st.connection.link)
    return;
  st.connection.link->resume_reading();
  if (st.awaiting_pong)
    arm_timer(self, pong_timeout_atom{}, st.opts().pong_timeout,
              ++st.pong_deadline);
}

void deliver_held(machine_self self);

/// A change in the subscribers or in their progress may lift the pause:
/// what waited goes out first, and the link reads again once it is all out
/// and every subscriber is below the bound.
void check_inbox_bound(machine_self self) {
  auto& st = self->state;
  if (!st.read_paused)
    return;
  deliver_held(self);
  if (st.held.empty() && !any_subscriber_at_bound(st))
    resume_reading(self);
}

/// `subscriber` answered the input numbered `seq`: it has handled every
/// input up to that one.
void inputs_handled(machine_self self, const caf::actor_addr& subscriber,
                    uint64_t seq) {
  for (auto& x : self->state.subscribers)
    if (x.handle.address() == subscriber)
      x.handled = std::max(x.handled, seq);
  check_inbox_bound(self);
}

/// Registers what the answer to input `seq` of `x` means: whatever it is
/// (CAF answers a handler that returns nothing with an empty message, and a
/// dead or unwilling receiver, or an unexpected answer, with an error),
/// `x` is done with every input sent to it before.
void await_answer(machine_self self, const subscriber_entry& x,
                  caf::message_id request) {
  auto who = x.handle.address();
  auto seq = x.delivered;
  auto handled = [=] { inputs_handled(self, who, seq); };
  self->add_multiplexed_response_handler(
    request.response_id(),
    caf::behavior{[=]() { handled(); }, [=](caf::error&) { handled(); }});
}

/// Whether input number `x.delivered` goes to `x` as a request: now and
/// then, and always the one that puts it at the bound.
bool asks_for_answer(const subscriber_entry& x, size_t limit) {
  return limit > 0
         && (x.delivered - x.handled >= limit
             || x.delivered % probe_interval(limit) == 0);
}

/// Enqueues one input to `x`, as a request when it is time to ask.
template <class Content>
void deliver_input(machine_self self, subscriber_entry& x, Content&& content,
                   size_t limit) {
  auto dest = caf::actor_cast<caf::strong_actor_ptr>(x.handle);
  if (!dest)
    return;
  ++x.delivered;
  auto id = caf::make_message_id();
  if (asks_for_answer(x, limit)) {
    id = self->new_request_id(caf::message_priority::normal);
    await_answer(self, x, id);
  }
  dest->enqueue(caf::make_mailbox_element(
                  caf::actor_cast<caf::strong_actor_ptr>(self), id, {},
                  std::forward<Content>(content)),
                self->context());
}

/// Sends one input to every subscriber. One subscriber gets the input in
/// its mailbox element itself (one allocation); several share one message,
/// never a copy of the payload each.
void deliver_to_subscribers(machine_self self, input&& x) {
  auto& st = self->state;
  auto limit = st.opts().max_inbox;
  ++st.released;
  if (st.subscribers.size() == 1) {
    deliver_input(self, st.subscribers.front(), std::move(x), limit);
    return;
  }
  auto content = caf::make_message(std::move(x));
  for (auto& sub : st.subscribers)
    deliver_input(self, sub, content, limit);
}

/// Tells the link how many inputs left the machine since the last time:
/// it sends only so many more (see `link::consumed`).
void report_released(machine_self self) {
  auto& st = self->state;
  if (st.released == 0)
    return;
  if (st.connection.link)
    st.connection.link->consumed(st.released);
  st.released = 0;
}

/// Passes one input on. With `max_inbox`, an input now and then goes as a
/// request, and the one that puts a subscriber at the bound stops reading
/// until it is answered; what arrives meanwhile waits here, in order.
void fan_out_input(machine_self self, input&& x) {
  auto& st = self->state;
  if (st.read_paused || !st.held.empty()) {
    st.held.push_back(std::move(x));
    return;
  }
  deliver_to_subscribers(self, std::move(x));
  if (any_subscriber_at_bound(st))
    pause_reading(self);
}

/// Sends held inputs on, in order: while no subscriber is at the bound,
/// or all of them when `bounded` is false.
void release_held(machine_self self, bool bounded) {
  auto& st = self->state;
  while (!st.held.empty() && !(bounded && any_subscriber_at_bound(st))) {
    auto x = std::move(st.held.front());
    st.held.pop_front();
    deliver_to_subscribers(self, std::move(x));
  }
  if (st.held.empty())
    st.held.clear(); // gives its memory back
  report_released(self);
}

/// Sends held inputs on while no subscriber is at the bound.
void deliver_held(machine_self self) {
  release_held(self, true);
}

/// Before a change of state, every input that arrived goes out, bound or
/// not: subscribers see the inputs of a link before it is reported gone.
void flush_held(machine_self self) {
  release_held(self, false);
}

// -- subscribers --------------------------------------------------------------

void update_self_reference(machine_self self) {
  auto& st = self->state;
  if (st.subscribers.empty())
    st.self_reference = nullptr;
  else if (!st.self_reference)
    st.self_reference = caf::actor_cast<caf::strong_actor_ptr>(self);
}

void add_subscriber(machine_self self, const caf::actor& subscriber) {
  self->state.subscribers.add(self, subscriber);
  update_self_reference(self);
}

void remove_subscriber(machine_self self, const caf::actor_addr& subscriber) {
  self->state.subscribers.remove(subscriber);
  update_self_reference(self);
  // A slow subscriber that leaves (or dies) no longer holds the socket.
  check_inbox_bound(self);
}

// -- outputs ------------------------------------------------------------------

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
                            output_kind kind = output_kind::user) {
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

void enter_closing(machine_self self);

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
  auto now = self->clock().now();
  auto held = false;
  for (; count > 0 && st.outputs.in_flight() > 0; --count) {
    ++st.counters.messages_out;
    st.counters.bytes_out += st.outputs.oldest_in_flight().payload->size();
    if (auto done = st.outputs.written_one(now))
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
                   std::vector<std::string>* unsent = nullptr) {
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

// -- the link -----------------------------------------------------------------

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
void release_connection(machine_self self, bool graceful = true) {
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

/// Whether a refused handshake redirects.
bool is_redirect(uint16_t status) {
  return status == 301 || status == 302 || status == 303 || status == 307
         || status == 308;
}

/// A refused handshake is worth retrying if the server may change its mind;
/// so is a redirect that could not be followed, when redirects are.
bool is_retryable(const options& opts, const disconnect_info& info) {
  if (info.cause != close_cause::handshake_rejected)
    return true;
  auto code = info.http_status;
  return code >= 500 || code == 429
         || (opts.max_redirects > 0 && is_redirect(code))
         || std::find(opts.retryable_statuses.begin(),
                      opts.retryable_statuses.end(), code)
              != opts.retryable_statuses.end();
}

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

// -- transitions --------------------------------------------------------------
//
// Each `enter_x` does what entering phase x takes and calls `transition`
// once it is x's turn to tell subscribers; timers armed after that belong
// to the new phase.

/// The last step of every quit: subscribers see DISCONNECTED, and the actor
/// ends, with `reason` if it gave up.
void finish(machine_self self, const std::string& undelivered_reason = "quit",
            caf::error reason = {}, const disconnect_info* info = nullptr) {
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

/// Asks the broker to open the connection of the current attempt.
void open_connection(machine_self self) {
  auto& st = self->state;
  self->send(st.broker, open_atom::value, st.connection.id,
             st.current_request());
}

void enter_waiting(machine_self self, const disconnect_info& info);

/// The attempt fails before anything went on the wire (its request could
/// not be made): the backoff follows, as after any failed attempt.
void fail_attempt(machine_self self, std::string reason) {
  enter_waiting(self, disconnect_info{close_cause::closed_by_machine,
                                      std::move(reason)});
}

/// Books this host a slot with the governor (if any), then opens.
void book_slot(machine_self self) {
  auto& st = self->state;
  if (!st.governor)
    return open_connection(self);
  // The governor books a slot for this host; the attempt waits for it in
  // CONNECTING. Its answer, like a timer, belongs to this attempt only.
  auto generation = st.generation;
  self
    ->request(st.governor, caf::infinite, slot_atom::value,
              st.current_request().host + ":" + st.current_request().port)
    .then(
      [=](caf::timespan wait) {
        if (self->state.generation != generation)
          return;
        if (wait.count() == 0)
          open_connection(self);
        else
          arm_timer(self, slot_timer_atom{}, wait);
      },
      [=](caf::error&) {
        // No governor any more (shutting down): go ahead.
        if (self->state.generation == generation)
          open_connection(self);
      });
}

/// Sets `headers` on `request`: each replaces those of its name.
void set_headers(connect_request& request, const std::vector<header>& headers) {
  for (auto& h : headers) {
    auto& have = request.headers;
    have.erase(std::remove_if(have.begin(), have.end(),
                              [&](const header& x) {
                                return detail::same_header_name(
                                  x.name, h.name.c_str());
                              }),
               have.end());
    have.push_back(h);
  }
}

/// The attempt's request from the provider's answer and the header file's
/// headers, or what is wrong with them.
caf::expected<connect_request>
make_attempt_request(machine_self self, const request_update& answer,
                     const std::vector<header>& from_file) {
  auto& st = self->state;
  connect_request result = st.request();
  if (!answer.url.empty()) {
    auto made = detail::make_connect_request(answer.url, st.opts(),
                                             detail::tls_files::leave_to_node);
    if (!made)
      return std::move(made.error());
    result = std::move(*made);
  }
  for (auto& h : answer.headers)
    if (auto err = detail::check_header(h))
      return err;
  set_headers(result, from_file);
  set_headers(result, answer.headers);
  return result;
}

/// Makes the attempt's request: the header file read again, the request
/// provider asked (bounded by request_timeout); then the slot and the open.
/// Anything wrong fails the attempt, retried with backoff.
void prepare_request(machine_self self) {
  auto& st = self->state;
  std::vector<header> from_file;
  if (!st.opts().header_file.empty()) {
    auto read = read_header_file(st.opts().header_file);
    if (!read)
      return fail_attempt(self, describe(read.error()));
    from_file = std::move(*read);
  }
  auto use = [=](const request_update& answer,
                 const std::vector<header>& file_headers) {
    auto made = make_attempt_request(self, answer, file_headers);
    if (!made)
      return fail_attempt(self, "request provider: " + describe(made.error()));
    self->state.attempt_request = std::make_shared<const connect_request>(
      std::move(*made));
    book_slot(self);
  };
  if (!st.opts().request_provider) {
    if (!from_file.empty())
      use(request_update{}, from_file);
    else
      book_slot(self);
    return;
  }
  auto generation = st.generation;
  self
    ->request(st.opts().request_provider, st.opts().request_timeout,
              request_atom::value, st.last.attempt)
    .then(
      [=](request_update& answer) {
        if (self->state.generation == generation)
          use(answer, from_file);
      },
      [=](caf::error& err) {
        if (self->state.generation != generation)
          return;
        fail_attempt(self,
                     "request provider: "
                       + (err == caf::sec::request_timeout
                            ? "no answer within "
                                + detail::in_milliseconds(
                                  self->state.opts().request_timeout)
                            : describe(err)));
      });
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

void enter_disconnected(machine_self self, const disconnect_info& info);

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
  if (pause.count() == 0)
    self->send(self, retry_atom::value, st.generation);
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

/// Whether a name and a port are those of the request: the same origin, to
/// which credentials may go.
bool same_origin(const connect_request& x, const connect_request& y) {
  return x.host == y.host && x.port == y.port;
}

/// The server redirects the attempt: the next request goes where it says,
/// within the same attempt (no new CONNECTING), unless the cap is reached
/// or the redirect is not acceptable, which fails the attempt.
void follow_redirect(machine_self self, const disconnect_info& info) {
  auto& st = self->state;
  auto fail_with = [&](std::string why) {
    auto failed = info;
    failed.reason = std::move(why);
    enter_waiting(self, failed);
  };
  if (info.location.empty())
    return fail_with(info.reason + " without a Location");
  if (st.redirects_followed >= st.opts().max_redirects)
    return fail_with("too many redirects ("
                     + std::to_string(st.opts().max_redirects) + ")");
  auto& from = st.current_request();
  auto target = detail::resolve_redirect(from.url, info.location);
  if (!target)
    return fail_with(describe(target.error()));
  auto next = detail::make_connect_request(*target, st.opts(),
                                           detail::tls_files::leave_to_node);
  if (!next)
    return fail_with("redirect: " + describe(next.error()));
  if (from.secure && !next->secure)
    return fail_with("redirect from wss:// to " + next->url
                     + " refused: it would drop TLS");
  auto is_authorization = [](const header& h) {
    return detail::same_header_name(h.name, "Authorization");
  };
  auto& headers = next->headers;
  if (same_origin(from, *next)) {
    // The URL's credentials, if any, still go to the same origin.
    if (std::none_of(headers.begin(), headers.end(), is_authorization))
      for (auto& h : from.headers)
        if (is_authorization(h))
          headers.push_back(h);
  } else {
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 is_authorization),
                  headers.end());
  }
  ++st.redirects_followed;
  st.last.redirects.push_back(next->url);
  st.attempt_request = std::make_shared<const connect_request>(
    std::move(*next));
  // A connection of its own, so that late events of the last one are
  // told apart; no slot to book again within the attempt.
  adopt_connection(self);
  open_connection(self);
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

// -- behaviors ----------------------------------------------------------------

/// Applies a command that means the same in every phase but quit.
void apply_command(machine_self self, command x) {
  auto& st = self->state;
  switch (x) {
    case command::use_text:
      st.text = true;
      break;
    case command::use_binary:
      st.text = false;
      break;
    case command::ping:
      // Only a live link can carry a ping; elsewhere there is nobody to ask.
      if (link_is_up(st.current_phase))
        send_ping(self);
      break;
    case command::reconnect:
      reconnect_now(self);
      break;
    case command::suspend:
      enter_suspended(self);
      break;
    case command::resume:
    case command::quit:
      break; // only some phases resume; each phase quits its own way
  }
}

/// What every phase does alike: subscriptions, status and stats requests,
/// queueing outputs, commands, and the deadline of a quit that waits for
/// the queue.
auto common_handlers(machine_self self) {
  return std::make_tuple(
    [=](subscribe_atom, const caf::actor& subscriber) {
      add_subscriber(self, subscriber);
      return self->state.last;
    },
    [=](unsubscribe_atom, const caf::actor& subscriber) {
      self->demonitor(subscriber);
      remove_subscriber(self, subscriber.address());
    },
    [=](get_atom, status_atom) { return self->state.last; },
    [=](get_atom, stats_atom) {
      auto& st = self->state;
      auto result = st.counters;
      result.disconnects.resize(close_cause_count);
      result.undelivered_by.resize(undelivered_cause_count);
      result.queue_depth = st.fill().outputs;
      result.queue_bytes = st.outputs.counted_bytes();
      result.unconfirmed = st.outputs.unconfirmed();
      result.reading_paused = st.read_paused;
      if (st.read_paused)
        result.read_paused += self->clock().now() - st.paused_since;
      return result;
    },
    [=](output& x) { enqueue(self, x); },
    [=](room_atom, uint64_t bytes) {
      auto& st = self->state;
      return st.room_waiting.ask(self, bytes, st.fill());
    },
    [=](command x) {
      if (x == command::quit)
        quit_unconnected(self);
      else
        apply_command(self, x);
    },
    [=](command x, const std::string& payload) -> caf::result<void> {
      if (x != command::ping) {
        // The command alone, handled by the phase as any other, before
        // whatever came after this message.
        self->send<caf::message_priority::high>(self, x);
        return caf::unit;
      }
      if (payload.size() > 125)
        return make_error(errc::invalid_option,
                          "a ping carries at most 125 bytes, not "
                            + std::to_string(payload.size()));
      if (link_is_up(self->state.current_phase))
        send_ping(self, payload);
      return caf::unit;
    },
    [=](confirm_atom, const std::string& id) { confirm_output(self, id); },
    [=](confirm_timeout_atom, uint64_t) { expire_unconfirmed(self); },
    [=](written_atom, uint64_t connection, uint64_t count) {
      if (is_current(self, connection))
        acknowledge(self, count);
    },
    [=](quit_deadline_atom, uint64_t) {
      if (!self->state.quit_when_written)
        return;
      finish(self, link_is_up(self->state.current_phase)
                     ? "quit: not written within close_timeout"
                     : "quit: no link to write it within close_timeout");
    }
    // Events of an earlier connection and timers of an earlier phase fall
    // through to the default handler, which drops them (see `machine`):
    // a handler each would cost every machine memory in every phase.
  );
}

/// A phase's behavior: its own handlers, then the common ones, in one flat
/// list where the first that matches a message takes it (so a phase's own
/// handler of a common signature wins). Flat rather than `or_else`: no
/// chain of handler objects to allocate for each phase and to walk for
/// each message.
template <class... Own>
machine_behavior compose(machine_self self, std::tuple<Own...> own) {
  return std::apply(
    [](auto&&... handlers) {
      return machine_behavior{machine_behavior::unsafe_init{},
                              caf::message_handler{std::move(handlers)...}};
    },
    std::tuple_cat(std::move(own), common_handlers(self)));
}

machine_behavior connecting(machine_self self) {
  return compose(
    self,
    std::make_tuple(
      [=](connected_atom, uint64_t connection, link_info& link) {
        if (is_current(self, connection))
          enter_connected(self, link);
      },
      [=](closed_atom, uint64_t connection, const disconnect_info& info) {
        if (!is_current(self, connection))
          return;
        if (info.cause == close_cause::handshake_rejected
            && is_redirect(info.http_status)
            && self->state.opts().max_redirects > 0)
          follow_redirect(self, info);
        else
          enter_waiting(self, info);
      },
      [=](slot_timer_atom, uint64_t stamp) {
        if (is_current_timer(self, stamp))
          open_connection(self);
      }));
}

/// Counts an incoming frame and passes it on.
void pass_on(machine_self self, input& x) {
  auto& st = self->state;
  ++st.counters.messages_in;
  st.counters.bytes_in += x.payload.size();
  // Moved, not copied: the broker's message is ours alone.
  fan_out_input(self, std::move(x));
}

/// Messages arrived: the peer is alive, and subscribers get each.
void receive(machine_self self, input& x) {
  auto& st = self->state;
  st.last_heard = self->clock().now();
  st.last_message = st.last_heard;
  st.awaiting_pong = false;
  pass_on(self, x);
  report_released(self);
}

/// What one read from the socket brought, in one message from the broker:
/// one look at the clock for all of them.
void receive(machine_self self, std::vector<input>& xs) {
  auto& st = self->state;
  st.last_heard = self->clock().now();
  st.last_message = st.last_heard;
  st.awaiting_pong = false;
  for (auto& x : xs)
    pass_on(self, x);
  report_released(self);
}

/// What a link that is on its way in or out still delivers: inputs (the
/// peer may talk until it answers our close frame).
auto receiving_handlers(machine_self self) {
  return std::make_tuple(
    [=](received_atom, uint64_t connection, input& x) {
      if (is_current(self, connection))
        receive(self, x);
    },
    [=](received_atom, uint64_t connection, std::vector<input>& xs) {
      if (is_current(self, connection))
        receive(self, xs);
    });
}

/// What a live link does, gated or not.
auto live_link_handlers(machine_self self) {
  auto own = std::make_tuple(
    [=](command x) {
      if (x == command::quit)
        quit_connected(self);
      else
        apply_command(self, x);
    },
    [=](pace_atom, uint64_t generation) {
      if (is_current_timer(self, generation))
        paced_turn(self);
    },
    [=](pong_atom, uint64_t connection) {
      if (!is_current(self, connection))
        return;
      auto& st = self->state;
      st.last_heard = self->clock().now();
      st.awaiting_pong = false;
      st.counters.last_rtt = st.last_heard - st.ping_sent_at;
      if (st.observer)
        st.observer->machine_round_trip(st.counters.last_rtt);
    },
    [=](closed_atom, uint64_t connection, const disconnect_info& info) {
      if (is_current(self, connection))
        enter_disconnected(self, info);
    },
    [=](keepalive_atom, uint64_t connection) {
      if (!is_current(self, connection))
        return;
      auto& st = self->state;
      auto silent_for = self->clock().now() - st.last_heard;
      if (st.awaiting_pong) {
        // One unanswered ping at a time: a new one would move the pong
        // deadline ever further away.
        arm_keepalive(self, st.opts().ping_interval);
      } else if (silent_for >= st.opts().ping_interval) {
        send_ping(self);
        arm_keepalive(self, st.opts().ping_interval);
      } else {
        arm_keepalive(self, st.opts().ping_interval - silent_for);
      }
    },
    [=](heartbeat_atom, uint64_t connection) {
      if (is_current(self, connection))
        heartbeat_turn(self);
    },
    [=](liveness_atom, uint64_t connection) {
      if (!is_current(self, connection))
        return;
      auto& st = self->state;
      auto limit = st.opts().liveness_timeout;
      auto silent_for = self->clock().now() - st.last_message;
      // While reading is paused nothing can arrive: not the peer's fault.
      if (st.read_paused || silent_for < limit)
        return arm_liveness(self, st.read_paused ? limit : limit - silent_for);
      disconnect_info info{close_cause::dead_peer,
                           "no message within "
                             + detail::in_milliseconds(limit)
                             + " (liveness_timeout): the feed is dead"};
      release_connection(self, false);
      enter_disconnected(self, info);
    },
    [=](pong_timeout_atom, uint64_t deadline) {
      auto& st = self->state;
      // Only the latest deadline counts, and any frame since the ping is
      // an answer. While reading is paused a pong cannot be read: the
      // deadline starts again when reading resumes.
      if (deadline != st.pong_deadline || !st.awaiting_pong || st.read_paused)
        return;
      disconnect_info info{close_cause::dead_peer,
                           "no pong within "
                             + detail::in_milliseconds(st.opts().pong_timeout)
                             + ": the peer is gone"};
      release_connection(self, false);
      enter_disconnected(self, info);
    });
  return std::tuple_cat(std::move(own), receiving_handlers(self));
}

machine_behavior connected(machine_self self) {
  auto own = std::make_tuple([=](output& x) {
    enqueue(self, x);
    pump(self);
  });
  return compose(self, std::tuple_cat(std::move(own), live_link_handlers(self)));
}

/// CONNECTED, while the session gate has not answered: outputs of the gate
/// itself go out, all others wait in the queue.
machine_behavior gated(machine_self self) {
  auto own = std::make_tuple([=](output& x) {
      auto& st = self->state;
      if (self->current_sender()
          == caf::actor_cast<caf::strong_actor_ptr>(st.opts().gate))
        write_unqueued(self, make_pending(self, x, output_kind::gate));
      else
        enqueue(self, x);
  });
  return compose(self, std::tuple_cat(std::move(own), live_link_handlers(self)));
}

machine_behavior closing(machine_self self) {
  auto own = std::make_tuple(
    [=](output& x) {
      auto item = make_pending(self, x);
      give_back(self, item, "quit", undelivered_cause::quit);
    },
    [=](command x) {
      // Closing already: only the frame format still means something.
      if (x == command::use_text || x == command::use_binary)
        apply_command(self, x);
    },
    [=](closed_atom, uint64_t connection, const disconnect_info& info) {
      if (is_current(self, connection)) {
        forget_connection(self); // the broker has let go already
        finish(self, "quit: the link closed before it was written", {},
               &info);
      }
    },
    [=](close_timeout_atom, uint64_t stamp) {
      if (!is_current_timer(self, stamp))
        return;
      disconnect_info timed_out{
        close_cause::timeout,
        "close timed out after "
          + detail::in_milliseconds(self->state.opts().close_timeout)};
      finish(self, "quit: not written within close_timeout", {}, &timed_out);
    },
    [=](quit_deadline_atom, uint64_t) {
      finish(self, "quit: not written within close_timeout");
    });
  return compose(self, std::tuple_cat(std::move(own), receiving_handlers(self)));
}

/// What DISCONNECTED and WAITING share: the retry starts the next attempt.
machine_behavior retrying(machine_self self) {
  return compose(self, std::make_tuple([=](retry_atom, uint64_t generation) {
                   if (is_current_timer(self, generation))
                     enter_connecting(self);
                 }));
}

/// DISCONNECTED on purpose: nothing happens until resume, reconnect or quit.
machine_behavior suspended(machine_self self) {
  return compose(self, std::make_tuple([=](command x) {
                   if (x == command::quit)
                     quit_unconnected(self);
                   else if (x == command::resume || x == command::reconnect)
                     reconnect_now(self);
                   else if (x != command::suspend)
                     apply_command(self, x);
                 }));
}

machine_behavior behavior_of(machine_self self, phase x) {
  switch (x) {
    case phase::connecting:
      return connecting(self);
    case phase::gated:
      return gated(self);
    case phase::connected:
      return connected(self);
    case phase::closing:
      return closing(self);
    case phase::disconnected:
    case phase::waiting:
      return retrying(self);
    case phase::suspended:
      break;
  }
  return suspended(self);
}

machine_behavior machine(machine_self self, connect_request request,
                         options opts, caf::actor first_subscriber,
                         broker_actor broker, caf::actor timer_relay,
                         caf::actor governor,
                         std::shared_ptr<detail::machine_observer> observer) {
  auto& st = self->state;
  st.governor = std::move(governor);
  st.setup = detail::share_setup(self->system(), std::move(request),
                                 std::move(opts));
  st.text = st.opts().text;
  st.broker = std::move(broker);
  st.timer_relay = std::move(timer_relay);
  st.counters.disconnects.resize(close_cause_count);
  st.pace = token_bucket{st.opts().send_rate,
                         static_cast<double>(st.opts().send_burst),
                         static_cast<double>(st.opts().send_burst),
                         self->clock().now().time_since_epoch()};
  self->set_down_handler([=](caf::down_msg& x) {
    remove_subscriber(self, x.source);
  });
  // What no state handles is stale (an event of a connection given up, a
  // timer of a state left): dropped without a word. A request among them
  // gets `unexpected_message` back.
  self->set_default_handler(caf::drop);
  // An exception out of a handler (a transport whose link throws, memory
  // exhausted) must not end the machine silently: it ends as if it gave
  // up, subscribers hear why, outputs go back, and the exit reason
  // carries what was queued, so that a supervisor can start another.
  self->set_exception_handler(
    [=](caf::scheduled_actor*, std::exception_ptr& x) -> caf::error {
      std::string what = "an exception of unknown type";
      try {
        std::rethrow_exception(x);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      auto reason = make_error(errc::internal_error, "internal error: " + what);
      try {
        finish(self, "gave up: internal error: " + what, reason);
        // The exit reason finish() chose carries the unsent payloads.
        return self->fail_state();
      } catch (...) {
        return reason; // not even that could be done
      }
    });
  add_subscriber(self, first_subscriber);
  if (st.observer = std::move(observer); st.observer) {
    st.observed_id = self->id();
    st.observer->machine_started(st.observed_id, self->address(),
                                 st.request().url, st.request().host);
  }
  // The first transition sets the behavior.
  enter_connecting(self);
  return machine_behavior::make_empty_behavior();
}

} // namespace

namespace detail {

machine_actor spawn_checked_machine(caf::actor_system& sys,
                                    connect_request request, options opts,
                                    caf::actor first_subscriber,
                                    broker_actor broker,
                                    caf::actor timer_relay,
                                    caf::actor governor,
                                    std::shared_ptr<machine_observer> observer) {
  return sys.spawn(machine, std::move(request), std::move(opts),
                   std::move(first_subscriber), std::move(broker),
                   std::move(timer_relay), std::move(governor),
                   std::move(observer));
}

} // namespace detail

} // namespace wsm

// The machine: one WebSocket client connection as a finite state machine.
//
//            spawn
//              |
//              v
//   +----> CONNECTING ---connected---> CONNECTED ---quit---> (closing)
//   |          |                          |                      |
//   |        closed                     closed              closed or
//   |     (attempt failed)            (link dropped)       close timeout
//   |          |                          |                      |
//   |          v                          v                      v
//   |     DISCONNECTED(error)        DISCONNECTED(reason)   DISCONNECTED
//   |          |                          |                   (actor ends)
//   |          v                          |
//   +-retry- WAITING                      |
//   |                                     |
//   +-------------retry, at once----------+
//
// quit in CONNECTING, DISCONNECTED or WAITING: DISCONNECTED, the actor ends.
//
// Each state is one function returning its behavior; handlers shared by all
// states live in `common_handlers` and are composed with `or_else`, so a
// state lists only what it does differently. The machine never touches a
// socket: it talks to its broker through messages (see wsm/transport.hpp),
// which keeps it testable on CAF's deterministic scheduler.

#include "wsm/machine.hpp"

#include <algorithm>
#include <deque>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_handler.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "spawn.hpp"
#include "url.hpp"

namespace wsm {

namespace {

using fire_atom = caf::atom_constant<caf::atom("wsm_fire")>;

/// An output waiting for a connection, with whom to tell if it never goes.
struct queued_output {
  output message;
  caf::strong_actor_ptr sender;
};

struct machine_state {
  // -- configuration ----------------------------------------------------------
  connect_request request;
  options opts;
  broker_actor broker;
  caf::actor timer_relay;

  // -- what subscribers see ---------------------------------------------------
  wsm::state current = wsm::state::connecting;
  std::string error;
  uint32_t attempt = 0;
  uint64_t epoch = 0;

  // -- the link ---------------------------------------------------------------
  /// Id of the connection the broker holds for us; 0 when there is none.
  uint64_t connection = 0;
  /// Bumped on every transition: a timer from an earlier state is stale.
  uint64_t generation = 0;
  /// When the peer was last heard from (any frame or pong).
  caf::actor_clock::time_point last_heard;
  bool text = false;

  std::deque<queued_output> queue;
  std::vector<caf::actor> subscribers;
  /// Holds the machine alive while it has subscribers, so that it ends only
  /// when both its last reference and its last subscriber are gone.
  caf::strong_actor_ptr self_reference;

  static inline const char* name = "wsm.machine";

  ~machine_state() {
    // Reached with a live connection only when the machine became
    // unreachable: close it the way quit would.
    if (connection != 0)
      caf::anon_send(broker, close_atom::value, connection);
  }
};

using machine_self = machine_actor::stateful_pointer<machine_state>;

machine_actor::behavior_type connecting(machine_self self);
machine_actor::behavior_type connected(machine_self self);
machine_actor::behavior_type closing(machine_self self);
machine_actor::behavior_type disconnected(machine_self self);
machine_actor::behavior_type waiting(machine_self self);

// -- helpers ------------------------------------------------------------------

status current_status(const machine_state& st) {
  return status{st.current, st.error, st.attempt, st.epoch};
}

/// Enqueues `content` to `dest` with the machine as sender. A typed actor may
/// not `send` to dynamically typed handles, hence the mailbox element.
void deliver(machine_self self, const caf::strong_actor_ptr& dest,
             caf::message content) {
  if (dest)
    dest->enqueue(caf::actor_cast<caf::strong_actor_ptr>(self),
                  caf::make_message_id(), std::move(content), self->context());
}

/// Sends one message to every subscriber. All of them share the same
/// message, so a payload is never copied per subscriber.
void fan_out(machine_self self, const caf::message& content) {
  for (auto& subscriber : self->state.subscribers)
    deliver(self, caf::actor_cast<caf::strong_actor_ptr>(subscriber), content);
}

void publish(machine_self self, wsm::state next, std::string error = {}) {
  auto& st = self->state;
  st.current = next;
  st.error = std::move(error);
  fan_out(self, caf::make_message(current_status(st)));
}

/// Arms a timer that reaches the machine through the relay, which holds only
/// a weak reference: a pending timer never keeps a machine alive.
template <class Atom>
void arm_timer(machine_self self, Atom, caf::timespan delay) {
  auto& st = self->state;
  auto& clock = self->clock();
  auto payload = caf::make_message(Atom::value, st.generation);
  clock.schedule_message(
    clock.now() + delay, caf::actor_cast<caf::strong_actor_ptr>(st.timer_relay),
    caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                              fire_atom::value, self->address(),
                              std::move(payload)));
}

void update_self_reference(machine_self self) {
  auto& st = self->state;
  if (st.subscribers.empty())
    st.self_reference = nullptr;
  else if (!st.self_reference)
    st.self_reference = caf::actor_cast<caf::strong_actor_ptr>(self);
}

void add_subscriber(machine_self self, const caf::actor& subscriber) {
  auto& subs = self->state.subscribers;
  if (!subscriber || std::find(subs.begin(), subs.end(), subscriber) != subs.end())
    return;
  self->monitor(subscriber);
  subs.push_back(subscriber);
  update_self_reference(self);
}

void remove_subscriber(machine_self self, const caf::actor_addr& subscriber) {
  auto& subs = self->state.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const caf::actor& x) {
                              return x.address() == subscriber;
                            }),
             subs.end());
  update_self_reference(self);
}

bool is_text(const machine_state& st, frame_format format) {
  return format == frame_format::machine_default ? st.text
                                                 : format == frame_format::text;
}

void write_now(machine_self self, output& x) {
  auto& st = self->state;
  self->send(st.broker, write_atom::value, st.connection,
             std::move(x.payload), is_text(st, x.format));
}

void tell_undelivered(machine_self self, queued_output& x, const char* reason) {
  deliver(self, x.sender,
          caf::make_message(undelivered{std::move(x.message.payload), reason}));
}

/// Holds an output until the machine is connected; a full queue hands the
/// newest back to its sender.
void enqueue(machine_self self, output& x) {
  auto& st = self->state;
  queued_output item{std::move(x), self->current_sender()};
  if (st.queue.size() >= st.opts.max_queue) {
    tell_undelivered(self, item, "queue full");
    return;
  }
  st.queue.push_back(std::move(item));
}

void flush_queue(machine_self self) {
  auto& queue = self->state.queue;
  for (auto& item : queue)
    write_now(self, item.message);
  queue.clear();
}

/// Leaves the connection to the broker to close, if there is one.
void release_connection(machine_self self) {
  auto& st = self->state;
  if (st.connection != 0) {
    self->send(st.broker, close_atom::value, st.connection);
    st.connection = 0;
  }
}

/// Applies the commands whose meaning is the same in every state.
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
      if (st.current == wsm::state::connected && st.connection != 0)
        self->send(st.broker, ping_atom::value, st.connection);
      break;
    case command::quit:
      break; // each state quits its own way
  }
}

// -- transitions --------------------------------------------------------------

/// The last step of every quit: whatever is still queued goes back to its
/// senders, subscribers see DISCONNECTED, and the actor ends.
void finish(machine_self self) {
  auto& st = self->state;
  ++st.generation;
  release_connection(self);
  for (auto& item : st.queue)
    tell_undelivered(self, item, "quit");
  st.queue.clear();
  publish(self, wsm::state::disconnected);
  st.subscribers.clear();
  st.self_reference = nullptr;
  self->quit();
}

/// Opens a new connection: every attempt gets a fresh id so that events of
/// an earlier one are told apart.
void start_attempt(machine_self self) {
  auto& st = self->state;
  ++st.generation;
  ++st.attempt;
  st.connection = next_connection_id();
  publish(self, wsm::state::connecting);
  self->send(st.broker, open_atom::value, st.connection, st.request);
}

void enter_connecting(machine_self self) {
  start_attempt(self);
  self->become(connecting(self));
}

void enter_connected(machine_self self) {
  auto& st = self->state;
  ++st.generation;
  ++st.epoch;
  st.last_heard = self->clock().now();
  publish(self, wsm::state::connected);
  flush_queue(self);
  arm_timer(self, keepalive_atom{}, st.opts.ping_interval);
  self->become(connected(self));
}

/// A link that was up dropped: reconnect at once, through the mailbox so
/// that DISCONNECTED is a state of its own that quit can still reach.
void enter_disconnected(machine_self self, std::string reason) {
  auto& st = self->state;
  ++st.generation;
  st.connection = 0;
  publish(self, wsm::state::disconnected, std::move(reason));
  // The next attempt is the first since this link was up.
  st.attempt = 0;
  self->send(self, retry_atom::value, st.generation);
  self->become(disconnected(self));
}

/// An attempt failed: report why, then wait `retry_delay`.
void enter_waiting(machine_self self, std::string reason) {
  auto& st = self->state;
  ++st.generation;
  st.connection = 0;
  publish(self, wsm::state::disconnected, std::move(reason));
  publish(self, wsm::state::waiting, st.error);
  arm_timer(self, retry_atom{}, st.opts.retry_delay);
  self->become(waiting(self));
}

void enter_closing(machine_self self) {
  auto& st = self->state;
  ++st.generation;
  // The broker writes what it holds, then closes with 1000.
  self->send(st.broker, close_atom::value, st.connection);
  arm_timer(self, close_timeout_atom{}, st.opts.close_timeout);
  self->become(closing(self));
}

// -- behaviors ----------------------------------------------------------------

/// What every state does alike: subscriptions, status requests, queueing
/// outputs, and ignoring events of abandoned connections and stale timers.
caf::message_handler common_handlers(machine_self self) {
  return {
    [=](subscribe_atom, const caf::actor& subscriber) {
      add_subscriber(self, subscriber);
      return current_status(self->state);
    },
    [=](unsubscribe_atom, const caf::actor& subscriber) {
      self->demonitor(subscriber);
      remove_subscriber(self, subscriber.address());
    },
    [=](get_atom, status_atom) { return current_status(self->state); },
    [=](output& x) { enqueue(self, x); },
    [=](command x) { apply_command(self, x); },
    [=](connected_atom, uint64_t) {},
    [=](received_atom, uint64_t, const input&) {},
    [=](pong_atom, uint64_t) {},
    [=](closed_atom, uint64_t, const std::string&) {},
    [=](retry_atom, uint64_t) {},
    [=](keepalive_atom, uint64_t) {},
    [=](close_timeout_atom, uint64_t) {},
  };
}

/// Puts a state's own handlers in front of the common ones.
machine_actor::behavior_type compose(machine_self self,
                                     caf::message_handler own) {
  return {machine_actor::behavior_type::unsafe_init{},
          own.or_else(common_handlers(self))};
}

/// Returns whether an event belongs to the current connection.
bool is_current(machine_self self, uint64_t connection) {
  return connection != 0 && connection == self->state.connection;
}

/// Returns whether a timer was armed in the current state.
bool is_current_timer(machine_self self, uint64_t generation) {
  return generation == self->state.generation;
}

machine_actor::behavior_type connecting(machine_self self) {
  return compose(
    self,
    {
      [=](command x) {
        if (x == command::quit)
          finish(self);
        else
          apply_command(self, x);
      },
      [=](connected_atom, uint64_t connection) {
        if (is_current(self, connection))
          enter_connected(self);
      },
      [=](closed_atom, uint64_t connection, std::string& reason) {
        if (is_current(self, connection))
          enter_waiting(self, std::move(reason));
      },
    });
}

machine_actor::behavior_type connected(machine_self self) {
  return compose(
    self,
    {
      [=](output& x) { write_now(self, x); },
      [=](command x) {
        if (x == command::quit)
          enter_closing(self);
        else
          apply_command(self, x);
      },
      [=](received_atom, uint64_t connection, input& x) {
        if (!is_current(self, connection))
          return;
        self->state.last_heard = self->clock().now();
        // Moved, not copied: the broker's message is ours alone.
        fan_out(self, caf::make_message(std::move(x)));
      },
      [=](pong_atom, uint64_t connection) {
        if (is_current(self, connection))
          self->state.last_heard = self->clock().now();
      },
      [=](closed_atom, uint64_t connection, std::string& reason) {
        if (is_current(self, connection))
          enter_disconnected(self, std::move(reason));
      },
      [=](keepalive_atom, uint64_t generation) {
        if (!is_current_timer(self, generation))
          return;
        auto& st = self->state;
        auto silent_for = self->clock().now() - st.last_heard;
        if (silent_for >= st.opts.ping_interval) {
          self->send(st.broker, ping_atom::value, st.connection);
          arm_timer(self, keepalive_atom{}, st.opts.ping_interval);
        } else {
          arm_timer(self, keepalive_atom{}, st.opts.ping_interval - silent_for);
        }
      },
    });
}

machine_actor::behavior_type closing(machine_self self) {
  return compose(
    self,
    {
      [=](output& x) {
        queued_output item{std::move(x), self->current_sender()};
        tell_undelivered(self, item, "quit");
      },
      [=](command x) {
        if (x != command::quit)
          apply_command(self, x);
      },
      [=](received_atom, uint64_t connection, input& x) {
        // The peer may still talk until it answers our close frame.
        if (is_current(self, connection))
          fan_out(self, caf::make_message(std::move(x)));
      },
      [=](closed_atom, uint64_t connection, const std::string&) {
        if (is_current(self, connection)) {
          self->state.connection = 0; // the broker has let go already
          finish(self);
        }
      },
      [=](close_timeout_atom, uint64_t generation) {
        if (is_current_timer(self, generation))
          finish(self);
      },
    });
}

/// What DISCONNECTED and WAITING share: both only wait for their retry to
/// start the next attempt, and quit ends them at once.
caf::message_handler idle_handlers(machine_self self) {
  return {
    [=](command x) {
      if (x == command::quit)
        finish(self);
      else
        apply_command(self, x);
    },
    [=](retry_atom, uint64_t generation) {
      if (is_current_timer(self, generation))
        enter_connecting(self);
    },
  };
}

/// Entered when a link that was up dropped; the retry is already in the
/// mailbox.
machine_actor::behavior_type disconnected(machine_self self) {
  return compose(self, idle_handlers(self));
}

/// Entered after a failed attempt; the retry comes from the timer.
machine_actor::behavior_type waiting(machine_self self) {
  return compose(self, idle_handlers(self));
}

machine_actor::behavior_type machine(machine_self self, connect_request request,
                                     options opts, caf::actor first_subscriber,
                                     broker_actor broker,
                                     caf::actor timer_relay) {
  auto& st = self->state;
  st.request = std::move(request);
  st.opts = std::move(opts);
  st.text = st.opts.text;
  st.broker = std::move(broker);
  st.timer_relay = std::move(timer_relay);
  self->set_down_handler([=](caf::down_msg& x) {
    remove_subscriber(self, x.source);
  });
  add_subscriber(self, first_subscriber);
  start_attempt(self);
  return connecting(self);
}

} // namespace

namespace {

/// Forwards a timer to its machine if the machine still exists. A class,
/// not a function: CAF 0.17 dereferences a null argument pack when it
/// spawns a function-based actor without arguments.
class timer_relay : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](fire_atom, const caf::actor_addr& target, caf::message& payload) {
        if (auto dest = caf::actor_cast<caf::strong_actor_ptr>(target))
          dest->enqueue(nullptr, caf::make_message_id(), std::move(payload),
                        nullptr);
      },
    };
  }

  const char* name() const override {
    return "wsm.timer_relay";
  }
};

} // namespace

caf::actor spawn_timer_relay(caf::actor_system& sys) {
  return sys.spawn<timer_relay, caf::hidden>();
}

namespace detail {

machine_actor spawn_checked_machine(caf::actor_system& sys,
                                    connect_request request, options opts,
                                    caf::actor first_subscriber,
                                    broker_actor broker,
                                    caf::actor timer_relay) {
  return sys.spawn(machine, std::move(request), std::move(opts),
                   std::move(first_subscriber), std::move(broker),
                   std::move(timer_relay));
}

} // namespace detail

caf::expected<machine_actor>
spawn_machine_with(caf::actor_system& sys, const std::string& url,
                   options opts, caf::actor first_subscriber,
                   broker_actor broker, caf::actor timer_relay) {
  auto request = detail::make_connect_request(url, opts);
  if (!request)
    return std::move(request.error());
  return detail::spawn_checked_machine(sys, std::move(*request),
                                       std::move(opts),
                                       std::move(first_subscriber),
                                       std::move(broker),
                                       std::move(timer_relay));
}

} // namespace wsm

// One behavior per phase, and the handlers all phases share (see the
// diagram in machine_state.hpp); the machine's start; spawning it.

#include "machine/machine_state.hpp"

#include <tuple>
#include <caf/message_handler.hpp>
#include <caf/response_promise.hpp>

#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm::detail::fsm {

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
/// room in the queue, a command with a payload, confirmations, written
/// frames. Outputs and commands alone each phase handles its own way
/// (those without a link, with `unlinked_handlers`): a handler here that
/// every phase overrode would cost every machine memory for nothing.
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
    [=](room_atom, uint64_t bytes) {
      auto& st = self->state;
      return st.room_waiting.ask(self, bytes, st.fill());
    },
    [=](command x, const std::string& payload) -> caf::result<void> {
      if (x != command::ping) {
        // The command alone, handled by the phase as any other, before
        // whatever came after this message.
        caf::anon_send<caf::message_priority::high>(self, x);
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
    [=](written_atom, uint64_t connection, uint64_t count) {
      if (is_current(self, connection))
        acknowledge(self, count);
    }
    // Events of an earlier connection fall through to the default handler,
    // which drops them (see `machine`): a handler each would cost every
    // machine memory in every phase.
  );
}

/// Outputs wait in the queue: what a phase without a link does with them.
auto queue_outputs(machine_self self) {
  return [=](output& x) { enqueue(self, x); };
}

/// What a phase without a link does with outputs and commands: outputs
/// wait in the queue for the next link; quit ends the machine (after the
/// queue is written, if it holds outputs; see `quit_unconnected`).
auto unlinked_handlers(machine_self self) {
  return std::make_tuple(queue_outputs(self),
                         [=](command x) {
                           if (x == command::quit)
                             quit_unconnected(self);
                           else
                             apply_command(self, x);
                         });
}

// -- timers -------------------------------------------------------------------

/// What a phase does with its timers. Every timer is `(its atom, stamp)`:
/// one message type, so one handler per phase takes them all (see
/// `compose`) and a function per phase tells them apart, where a handler
/// each would cost every machine about 40 bytes per timer in every phase
/// for messages that come once in seconds. A timer the phase does not
/// know is one of a phase left: dropped.
using timer_turn = void (*)(machine_self, caf::atom_value, uint64_t);

/// `x` as a case label: the timers' atoms are values CAF's `atom_value`
/// enumeration does not list.
constexpr uint64_t timer_key(caf::atom_value x) noexcept {
  return static_cast<uint64_t>(x);
}

/// The timers every phase answers alike.
void common_timer(machine_self self, caf::atom_value timer, uint64_t) {
  switch (timer_key(timer)) {
    case timer_key(confirm_timeout_atom::value):
      expire_unconfirmed(self);
      break;
    case timer_key(quit_deadline_atom::value):
      if (!self->state.quit_when_written)
        break;
      finish(self, link_is_up(self->state.current_phase)
                     ? "quit: not written within close_timeout"
                     : "quit: no link to write it within close_timeout");
      break;
    default:
      break;
  }
}

/// A phase's behavior: its own handlers, then the common ones, then its
/// timers, in one flat list where the first that matches a message takes
/// it (so a phase's own handler of a common signature wins). The timers'
/// handler takes any `(atom, uint64_t)`: last, so that the requests of that
/// shape (`room_atom`) and a live link's pongs reach their own. Flat rather
/// than `or_else`: no chain of handler objects to allocate for each phase
/// and to walk for each message.
template <class... Own>
machine_behavior compose(machine_self self, std::tuple<Own...> own,
                         timer_turn timers = common_timer) {
  auto timer = [=](caf::atom_value which, uint64_t stamp) {
    timers(self, which, stamp);
  };
  return std::apply(
    [](auto&&... handlers) {
      return machine_behavior{machine_behavior::unsafe_init{},
                              caf::message_handler{std::move(handlers)...}};
    },
    std::tuple_cat(std::move(own), common_handlers(self),
                   std::make_tuple(timer)));
}

/// CONNECTING's timer: the governor's slot has come.
void connecting_timer(machine_self self, caf::atom_value timer,
                      uint64_t stamp) {
  if (timer != slot_timer_atom::value)
    return common_timer(self, timer, stamp);
  if (is_current_timer(self, stamp))
    open_connection(self);
}

machine_behavior connecting(machine_self self) {
  auto own = std::make_tuple(
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
    });
  return compose(self, std::tuple_cat(std::move(own), unlinked_handlers(self)),
                 connecting_timer);
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
    [=](pong_atom, uint64_t connection) {
      if (is_current(self, connection))
        pong_received(self);
    },
    [=](closed_atom, uint64_t connection, const disconnect_info& info) {
      if (is_current(self, connection))
        enter_disconnected(self, info);
    });
  return std::tuple_cat(std::move(own), receiving_handlers(self));
}

/// A live link's timers, gated or not: the pace, its keepalive, heartbeat
/// and liveness (stamped with the connection they watch), the pong's
/// deadline.
void live_link_timer(machine_self self, caf::atom_value timer,
                     uint64_t stamp) {
  switch (timer_key(timer)) {
    case timer_key(pace_atom::value):
      if (is_current_timer(self, stamp))
        paced_turn(self);
      break;
    case timer_key(keepalive_atom::value):
      if (is_current(self, stamp))
        keepalive_turn(self);
      break;
    case timer_key(heartbeat_atom::value):
      if (is_current(self, stamp))
        heartbeat_turn(self);
      break;
    case timer_key(liveness_atom::value):
      if (is_current(self, stamp))
        liveness_turn(self);
      break;
    case timer_key(pong_timeout_atom::value):
      pong_deadline_passed(self, stamp);
      break;
    default:
      common_timer(self, timer, stamp);
  }
}

machine_behavior connected(machine_self self) {
  auto own = std::make_tuple([=](output& x) {
    enqueue(self, x);
    pump(self);
  });
  return compose(self, std::tuple_cat(std::move(own), live_link_handlers(self)),
                 live_link_timer);
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
  return compose(self, std::tuple_cat(std::move(own), live_link_handlers(self)),
                 live_link_timer);
}

/// CLOSING's timers: the close handshake's bound, and the deadline of a
/// quit that waits for the queue, which ends the machine here whatever is
/// left.
void closing_timer(machine_self self, caf::atom_value timer, uint64_t stamp) {
  switch (timer_key(timer)) {
    case timer_key(close_timeout_atom::value): {
      if (!is_current_timer(self, stamp))
        return;
      disconnect_info timed_out{
        close_cause::timeout,
        "close timed out after "
          + detail::in_milliseconds(self->state.opts().close_timeout)};
      finish(self, "quit: not written within close_timeout", {}, &timed_out);
      break;
    }
    case timer_key(quit_deadline_atom::value):
      finish(self, "quit: not written within close_timeout");
      break;
    default:
      common_timer(self, timer, stamp);
  }
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
    });
  return compose(self, std::tuple_cat(std::move(own), receiving_handlers(self)),
                 closing_timer);
}

/// DISCONNECTED's and WAITING's timer: the pause is over.
void retrying_timer(machine_self self, caf::atom_value timer, uint64_t stamp) {
  if (timer != retry_atom::value)
    return common_timer(self, timer, stamp);
  if (is_current_timer(self, stamp))
    enter_connecting(self);
}

/// What DISCONNECTED and WAITING share: the retry starts the next attempt.
machine_behavior retrying(machine_self self) {
  return compose(self, unlinked_handlers(self), retrying_timer);
}

/// DISCONNECTED on purpose: nothing happens until resume, reconnect or quit.
machine_behavior suspended(machine_self self) {
  return compose(self, std::make_tuple(queue_outputs(self),
                                       [=](command x) {
                                         if (x == command::quit)
                                           quit_unconnected(self);
                                         else if (x == command::resume
                                                  || x == command::reconnect)
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

machine_behavior machine(machine_self self,
                         std::shared_ptr<const machine_setup> setup,
                         caf::actor first_subscriber,
                         machine_services services) {
  auto& st = self->state;
  st.governor = std::move(services.governor);
  st.header_reader = std::move(services.header_reader);
  st.setup = std::move(setup);
  st.text = st.opts().text;
  st.broker = std::move(services.broker);
  st.timer_relay = std::move(services.timer_relay);
  st.pace = token_bucket{st.opts().send_rate,
                         static_cast<double>(st.opts().send_burst),
                         static_cast<double>(st.opts().send_burst),
                         self->clock().now().time_since_epoch()};
  self->set_down_handler([=](caf::down_msg& x) {
    remove_subscriber(self, x.source);
  });
  // What no state handles is stale (an event of a connection given up):
  // dropped without a word. A request among them gets `unexpected_message`
  // back. A timer of a state left reaches the phase's timer handler, which
  // ignores it (see `compose`).
  self->set_default_handler(caf::drop);
  // An error that answers none of its requests (each has a handler of its
  // own) is stale news: it must not end the machine, as CAF's default
  // handler would, leaving its outputs unanswered.
  self->set_error_handler([](caf::error&) {});
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
  if (st.observer = std::move(services.observer); st.observer) {
    st.observed_id = self->id();
    st.observer->machine_started(st.observed_id, self->address(),
                                 st.request().url, st.request().host);
  }
  // The first transition sets the behavior.
  enter_connecting(self);
  return machine_behavior::make_empty_behavior();
}

} // namespace wsm::detail::fsm

namespace wsm::detail {

machine_actor spawn_checked_machine(caf::actor_system& sys,
                                    connect_request request, options opts,
                                    caf::actor first_subscriber,
                                    machine_services services) {
  // The setup is shared here, on the caller's thread, rather than in the
  // machine's first turn: CAF keeps the arguments of a spawn until that
  // turn, and a request and options by value (1.3 KiB) would be a copy
  // per machine held while thousands connect, whose freed room the heap
  // keeps afterwards.
  auto setup = share_setup(sys, std::move(request), std::move(opts));
  return sys.spawn(fsm::machine, std::move(setup),
                   std::move(first_subscriber), std::move(services));
}

} // namespace wsm::detail


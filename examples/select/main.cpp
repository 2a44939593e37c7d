// The seed's "single select loop", the actor way: one behavior that handles
// two machines, a timer and a plain actor together.
//
//   timer ──tick n──▶ machine A ──echo──▶ plain actor (upper-cases)
//                                             │
//   print ◀──echo── machine B ◀──TICK N───────┘
//
// After the last round both machines quit; when both have ended, so does
// everything else.
//
// Usage: wsm-example-select URL [ROUNDS]
//
// Only the selector prints, so it writes to std::cout directly: CAF's aout
// may drop the last lines when the program ends right after them.

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using upper_atom = caf::atom_constant<caf::atom("upper")>;

/// A plain actor with nothing to do with WebSockets: it upper-cases text.
class upper_caser : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](upper_atom, std::string text) {
        for (auto& c : text)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return text;
      },
    };
  }
};

struct selector_state {
  wsm::machine_actor a;
  wsm::machine_actor b;
  caf::actor upper;
  int rounds = 0;
  int tick = 0;
  int connected = 0;
  int ended = 0;
  static inline const char* name = "selector";
};

using selector_actor = caf::stateful_actor<selector_state>;

caf::behavior selector(selector_actor* self, std::string url, int rounds) {
  auto& st = self->state;
  st.rounds = rounds;
  st.upper = self->spawn<upper_caser>();
  auto me = caf::actor_cast<caf::actor>(self);
  auto a = wsm::spawn_machine(self->system(), url, {}, me);
  auto b = wsm::spawn_machine(self->system(), url, {}, me);
  if (!a || !b) {
    std::cout << "select: "
                    << wsm::describe(a ? b.error() : a.error()) << std::endl;
    self->send_exit(st.upper, caf::exit_reason::user_shutdown);
    self->quit();
    return {};
  }
  st.a = *a;
  st.b = *b;
  self->monitor(st.a);
  self->monitor(st.b);
  self->set_down_handler([=](const caf::down_msg&) {
    if (++self->state.ended == 2) {
      std::cout << "both machines ended" << std::endl;
      self->send_exit(self->state.upper, caf::exit_reason::user_shutdown);
      self->quit();
    }
  });
  auto from_a = [=] {
    return self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(
             self->state.a);
  };
  return {
    // The machines' statuses: start ticking once both are up.
    [=](const wsm::status& x) {
      if (x.state == wsm::state::connected && ++self->state.connected == 2) {
        std::cout << "A and B connected" << std::endl;
        self->send(self, tick_atom::value);
      }
    },
    // The timer.
    [=](tick_atom) {
      auto& st = self->state;
      auto text = "tick " + std::to_string(++st.tick);
      std::cout << text << ": to A" << std::endl;
      self->send(st.a, wsm::output{text});
    },
    // Both machines' messages, told apart by their sender.
    [=](const wsm::input& x) {
      auto& st = self->state;
      if (from_a()) {
        std::cout << "A echoed: " << x.payload << std::endl;
        // The plain actor, asked without blocking.
        self->request(st.upper, std::chrono::seconds(5), upper_atom::value,
                      x.payload)
          .then([=](const std::string& upper) {
            std::cout << "upper-caser: " << upper << std::endl;
            self->send(self->state.b, wsm::output{upper});
          });
        return;
      }
      std::cout << "B echoed: " << x.payload << std::endl;
      if (st.tick < st.rounds) {
        self->delayed_send(self, std::chrono::milliseconds(50),
                           tick_atom::value);
      } else {
        std::cout << "done after " << st.rounds << " rounds"
                        << std::endl;
        self->send(st.a, wsm::command::quit);
        self->send(st.b, wsm::command::quit);
      }
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: wsm-example-select URL [ROUNDS]\n";
    return 2;
  }
  int rounds = argc == 3 ? std::atoi(argv[2]) : 3;
  if (rounds < 1) {
    std::cerr << "wsm-example-select: ROUNDS must be a positive number\n";
    return 2;
  }
  wsm::config cfg;
  caf::actor_system sys{cfg};
  auto select_loop = sys.spawn(selector, std::string{argv[1]}, rounds);
  // Holding the handle keeps the selector alive until it ends by itself: an
  // actor that nobody references may vanish before its last message.
  caf::scoped_actor{sys}->wait_for(select_loop);
  return 0;
}

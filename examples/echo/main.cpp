// The seed's README example, as actors: connect to an echo server, send a
// few messages once connected, print every state change and every echo,
// and quit once all echoes are back.
//
// Usage: wsm-example-echo URL [MESSAGE...]

#include <iostream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace {

struct client_state {
  std::vector<std::string> messages;
  size_t echoed = 0;
  bool quitting = false;
  static inline const char* name = "echo-client";
};

/// Subscribes to one machine: sends the messages on the first CONNECTED,
/// quits it after the last echo, and ends with it.
caf::behavior client(caf::stateful_actor<client_state>* self,
                     std::vector<std::string> messages) {
  self->state.messages = std::move(messages);
  return {
    [=](const wsm::status& x) {
      auto& st = self->state;
      std::cout << "STATE " << wsm::to_string(x.state)
                      << (x.error.empty() ? "" : ": " + x.error) << std::endl;
      // Statuses come from the machine itself: it is the one to talk to.
      auto machine = caf::actor_cast<wsm::machine_actor>(self->current_sender());
      if (x.state == wsm::state::connected && x.epoch == 1)
        for (auto& message : st.messages)
          self->send(machine, wsm::output{message});
      if (x.state == wsm::state::disconnected && st.quitting)
        self->quit();
    },
    [=](const wsm::input& x) {
      auto& st = self->state;
      std::cout << "ECHO " << x.payload << std::endl;
      if (++st.echoed == st.messages.size()) {
        st.quitting = true;
        auto machine = caf::actor_cast<wsm::machine_actor>(
          self->current_sender());
        self->send(machine, wsm::command::quit);
      }
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: wsm-example-echo URL [MESSAGE...]\n";
    return 2;
  }
  std::vector<std::string> messages{argv + 2, argv + argc};
  if (messages.empty())
    messages = {"hello", "world"};
  wsm::config cfg;
  caf::actor_system sys{cfg};
  auto subscriber = sys.spawn(client, messages);
  auto machine = wsm::spawn_machine(sys, argv[1], {}, subscriber);
  if (!machine) {
    std::cerr << "wsm-example-echo: " << wsm::describe(machine.error()) << '\n';
    caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
    return 2;
  }
  // Holding the handle keeps the client alive until it ends by itself: an
  // actor that nobody references may vanish before its last message.
  caf::scoped_actor{sys}->wait_for(subscriber);
  return 0;
}

// The shortest program that places machines on another node and hears them
// here: it asks a wsm-node's spawner for N machines on URL, subscribes to
// them from this process, sends each one message and prints the echoes.
//
//   build/bin/wsm-echo-server --port=0          # prints its URL
//   build/bin/wsm-node --port=0                 # prints listening on HOST:PORT
//   build/bin/wsm-example-distributed HOST PORT URL [N]

#include <iostream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "wsm/wsm.hpp"

struct node_config : wsm::config {
  node_config() {
    load<caf::io::middleman>();
  }
};

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: wsm-example-distributed HOST PORT URL [N]\n";
    return 2;
  }
  auto port = static_cast<uint16_t>(std::stoul(argv[2]));
  size_t count = argc > 4 ? std::stoul(argv[4]) : 2;
  node_config cfg;
  caf::actor_system sys{cfg};
  auto spawner = wsm::remote_spawner(sys, argv[1], port);
  if (!spawner) {
    std::cerr << "wsm-example-distributed: no node at " << argv[1] << ":"
              << port << ": " << sys.render(spawner.error()) << '\n';
    return 1;
  }
  caf::scoped_actor self{sys};
  std::vector<wsm::machine_actor> machines;
  for (size_t i = 0; i < count; ++i)
    self->request(*spawner, std::chrono::seconds(10), wsm::spawn_atom::value,
                  std::string{argv[3]}, wsm::options{},
                  caf::actor_cast<caf::actor>(self))
      .receive([&](wsm::machine_actor& x) { machines.push_back(x); },
               [&](caf::error& err) {
                 std::cerr << "wsm-example-distributed: "
                           << wsm::describe(err) << '\n';
               });
  if (machines.size() != count)
    return 1;
  // Each machine says hello once it is up; its echo is printed here.
  size_t connected = 0;
  size_t echoed = 0;
  size_t ended = 0;
  self->receive_while([&] { return ended < count; })(
    [&](const wsm::status& x) {
      if (x.state == wsm::state::connected && ++connected == count)
        for (size_t i = 0; i < count; ++i)
          self->send(machines[i], wsm::output{"hello from machine "
                                              + std::to_string(i + 1)});
      if (x.state == wsm::state::disconnected && echoed == count)
        ++ended;
    },
    [&](const wsm::input& x) {
      std::cout << "ECHO " << x.payload << std::endl;
      if (++echoed == count)
        for (auto& machine : machines)
          self->send(machine, wsm::command::quit);
    },
    caf::after(std::chrono::seconds(10)) >> [&] {
      std::cerr << "wsm-example-distributed: timed out\n";
      ended = count;
    });
  std::cout << "DONE " << echoed << " echoes from " << count
            << " remote machines" << std::endl;
  return echoed == count ? 0 : 1;
}

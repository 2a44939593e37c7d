// A user's program against an installed wsm: one machine, one echo.
//   consumer URL   prints the library's version, then the echo of "hello"

#include <chrono>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "wsm/wsm.hpp"
#include "wsm/version.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer URL\n";
    return 2;
  }
  std::cout << "wsm " << wsm::library_version() << std::endl;
  wsm::config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto machine = wsm::spawn_machine(sys, argv[1], {},
                                    caf::actor_cast<caf::actor>(self));
  if (!machine) {
    std::cerr << wsm::describe(machine.error()) << '\n';
    return 1;
  }
  self->send(*machine, wsm::output{"hello"});
  int status = 1;
  self->receive_while([&] { return status == 1; })(
    [&](const wsm::input& x) {
      std::cout << "echo " << x.payload << std::endl;
      status = 0;
    },
    [](const wsm::status&) {},
    caf::after(std::chrono::seconds(10)) >> [&] { status = 3; });
  self->send(*machine, wsm::command::quit);
  return status;
}

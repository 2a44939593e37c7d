#include "wsm/spawner.hpp"

#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace wsm {

namespace {

spawner_actor::behavior_type spawner(spawner_actor::pointer self) {
  // The machines placed through this spawner quit when it ends: a node
  // shutting down takes its machines down with it, even those whose
  // subscribers live elsewhere.
  auto placed = std::make_shared<std::vector<machine_actor>>();
  self->attach_functor([placed](const caf::error&) {
    for (auto& machine : *placed)
      caf::anon_send(machine, command::quit);
  });
  return {
    [=](spawn_atom, const std::string& url, options& opts,
        caf::actor& first_subscriber) -> caf::result<machine_actor> {
      auto machine = spawn_machine(self->system(), url, std::move(opts),
                                   std::move(first_subscriber));
      if (!machine)
        return std::move(machine.error());
      placed->push_back(*machine);
      return std::move(*machine);
    },
  };
}

} // namespace

spawner_actor spawn_spawner(caf::actor_system& sys) {
  return sys.spawn(spawner);
}

} // namespace wsm

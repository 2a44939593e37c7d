#include "wsm/spawner.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace wsm {

namespace {

// A class, not a function: CAF 0.17 dereferences a null argument pack when
// it spawns a function-based actor without arguments.
class spawner_impl : public spawner_actor::base {
public:
  using spawner_actor::base::base;

  behavior_type make_behavior() override {
    return {
      [this](spawn_atom, const std::string& url, options& opts,
             caf::actor& first_subscriber) -> caf::result<machine_actor> {
        auto machine = spawn_machine(system(), url, std::move(opts),
                                     std::move(first_subscriber));
        if (!machine)
          return std::move(machine.error());
        placed_.push_back(*machine);
        return std::move(*machine);
      },
    };
  }

  /// The machines placed through this spawner quit when it ends: a node
  /// shutting down takes its machines down with it, even those whose
  /// subscribers live elsewhere.
  void on_exit() override {
    for (auto& machine : placed_)
      caf::anon_send(machine, command::quit);
    placed_.clear();
  }

private:
  std::vector<machine_actor> placed_;
};

} // namespace

spawner_actor spawn_spawner(caf::actor_system& sys) {
  return sys.spawn<spawner_impl>();
}

} // namespace wsm

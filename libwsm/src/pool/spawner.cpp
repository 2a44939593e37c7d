#include "wsm/spawner.hpp"

#include <algorithm>
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
  spawner_impl(caf::actor_config& cfg) : spawner_actor::base(cfg) {
    set_down_handler([this](caf::down_msg& x) { on_down(x); });
  }

  behavior_type make_behavior() override {
    return {
      [this](spawn_atom, const std::string& url, options& opts,
             caf::actor& owner) -> caf::result<machine_actor> {
        auto machine = spawn_machine(system(), url, std::move(opts), owner);
        if (!machine)
          return std::move(machine.error());
        monitor(*machine);
        if (owner)
          monitor(owner);
        placed_.push_back({*machine, owner.address()});
        return std::move(*machine);
      },
    };
  }

  /// The machines placed through this spawner quit when it ends: a node
  /// shutting down takes its machines down with it, even those whose
  /// subscribers live elsewhere.
  void on_exit() override {
    for (auto& x : placed_)
      caf::anon_send(x.machine, command::quit);
    placed_.clear();
  }

private:
  /// A machine and the actor it was placed for (its first subscriber).
  struct placed_machine {
    machine_actor machine;
    caf::actor_addr owner;
  };

  /// A machine that ended is forgotten; an owner that ended, or whose node
  /// can no longer be reached, takes its machines with it: nobody is left
  /// to use them, and a pool places them again elsewhere.
  void on_down(const caf::down_msg& x) {
    auto ended = std::remove_if(
      placed_.begin(), placed_.end(), [&](const placed_machine& p) {
        if (p.machine.address() == x.source)
          return true;
        if (p.owner && p.owner == x.source) {
          caf::anon_send(p.machine, command::quit);
          return true;
        }
        return false;
      });
    placed_.erase(ended, placed_.end());
  }

  std::vector<placed_machine> placed_;
};

} // namespace

spawner_actor spawn_spawner(caf::actor_system& sys) {
  return sys.spawn<spawner_impl>();
}

} // namespace wsm

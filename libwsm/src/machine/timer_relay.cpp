// The actor through which machines receive their timers: it holds a
// machine only by its weak address, so a pending timer never keeps a
// machine alive (CAF 0.17's delayed messages hold their receiver).

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "machine/machine_impl.hpp"
#include "wsm/machine.hpp"

namespace wsm {

namespace {

using detail::relay_atom;

/// Forwards a timer to its machine if the machine still exists. A class,
/// not a function: CAF 0.17 dereferences a null argument pack when it
/// spawns a function-based actor without arguments.
class timer_relay : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](relay_atom, const caf::actor_addr& target, caf::message& payload) {
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

} // namespace wsm

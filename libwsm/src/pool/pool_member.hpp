#pragma once

// A pool member: the local stand-in for one pooled machine (see
// wsm/pool.hpp). It relays outputs and commands to the machine wherever it
// runs, fans the machine's status and input out to its subscribers, and
// keeps every output until its receipt comes, so that a machine lost with
// its node can be replaced without losing any.

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "wsm/machine.hpp"
#include "wsm/pool.hpp"

namespace wsm::detail {

/// Pool → member: `(placed_atom, machine)`, the member's machine now (the
/// pool's table says where); `(placed_atom, error)`, no node will run it.
using placed_atom = caf::atom_constant<caf::atom("wsm_placed")>;
/// Pool → member: `(node_lost_atom, reason)`, the machine's node is gone.
using node_lost_atom = caf::atom_constant<caf::atom("wsm_nlost")>;

using member_actor = machine_actor::extend<
  // from its machine
  caf::reacts_to<status>, caf::reacts_to<input>,
  // from the pool
  caf::reacts_to<placed_atom, machine_actor>,
  caf::reacts_to<placed_atom, caf::error>,
  caf::reacts_to<node_lost_atom, std::string>>;

/// Spawns a member that subscribes `first_subscriber` (if any) and holds at
/// most `max_queue` outputs, of `max_queue_bytes` in all, without a receipt.
member_actor spawn_member(caf::actor_system& sys, caf::actor first_subscriber,
                          size_t max_queue, size_t max_queue_bytes);

} // namespace wsm::detail

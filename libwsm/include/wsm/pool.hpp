#pragma once

// A pool spreads machines over nodes (each a `wsm-node`, or any spawner)
// and moves them when a node goes away:
//
//   user ──(output, command, subscribe)──▶ member ──▶ machine on node A
//                                             ▲  │
//                     pool ──(placed, lost)───┘  └─(status, input)─▶ subscribers
//                      │ monitors every node's spawner
//                      └──(spawn_atom)──▶ spawner on node A, B, ... (or local)
//
// The pool hands out members: local actors that speak a machine's public
// vocabulary and stand for a machine wherever it runs. When a node is lost
// the member reports DISCONNECTED with a reason naming the node, the pool
// places the machine on another node, and the member hands its subscribers
// the new machine's CONNECTING, CONNECTED, ... Outputs whose receipt was
// still pending are sent again on the new machine (at least once), so no
// output accepted by a member is lost silently.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "wsm/atoms.hpp"
#include "wsm/machine.hpp"
#include "wsm/messages.hpp"
#include "wsm/options.hpp"
#include "wsm/spawner.hpp"

namespace wsm {

/// To a pool: `(add_node_atom, host, port)` or `(add_node_atom, spawner,
/// name)`.
using add_node_atom = caf::atom_constant<caf::atom("wsm_addnod")>;
/// To a pool: `(get_atom, placement_atom)`, which machine runs where.
using placement_atom = caf::atom_constant<caf::atom("wsm_placmt")>;

/// One row of a pool's table.
struct placement {
  /// The pool's number for the member, in spawn order from 1.
  uint64_t id = 0;
  /// The handle the pool gave out for it.
  machine_actor member;
  /// The URL its machine connects to.
  std::string url;
  /// The node its machine runs on (`local`, `HOST:PORT`, or the name given
  /// with a spawner); empty while it waits for a node.
  std::string node;
};

/// Field-wise equality, for tests.
bool operator==(const placement& x, const placement& y) noexcept;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement& x) {
  return f(caf::meta::type_name("wsm::placement"), x.id, x.member, x.url,
           x.node);
}

/// A pool of machines spread over nodes.
///
/// - `(add_node_atom, host, port)`: connects to the spawner a `wsm-node`
///   published there, through the middleman (TLS when the actor system was
///   set up with `wsm::enable_node_tls`), without blocking the pool; the
///   answer is the node's name `HOST:PORT` once it can take machines, or
///   the error that kept it out.
/// - `(add_node_atom, spawner, name)`: a spawner already at hand.
/// - `(spawn_atom, url, options, first_subscriber)`: a member at once; its
///   machine goes to the node that holds the fewest, or waits (outputs
///   queued) until a node is added. A URL or header that is not valid is
///   refused here, naming the problem.
/// - `(get_atom, placement_atom)`: the table, in spawn order.
///
/// A node added by address that goes away is reached again, after a pause
/// that doubles from 0.5 s up to 30 s, for as long as the pool lives; when
/// it is back, it takes machines again (new ones, and those waiting).
/// Machines already moved stay where they are.
///
/// When the pool ends, its members quit and so do their machines.
using pool_actor = caf::typed_actor<
  caf::replies_to<add_node_atom, std::string, uint16_t>::with<std::string>,
  caf::replies_to<add_node_atom, spawner_actor, std::string>::with<
    std::string>,
  caf::replies_to<spawn_atom, std::string, options, caf::actor>::with<
    machine_actor>,
  caf::replies_to<get_atom, placement_atom>::with<std::vector<placement>>,
  // the pool's own retry of a node it lost: (add_node_atom, name, failures)
  caf::reacts_to<add_node_atom, std::string, uint32_t>>;

/// Spawns a pool on `sys`, which must know libwsm (`wsm::config`) and load
/// CAF's middleman to reach other nodes. With `place_locally`, the pool
/// starts with a spawner of its own node, named `local`.
pool_actor spawn_pool(caf::actor_system& sys, bool place_locally = true);

} // namespace wsm

#pragma once

// A spawner: an actor that spawns machines on its own node for whoever asks,
// local or remote. `wsm-node` publishes one with CAF's middleman so that
// other nodes can place machines on it.

#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "wsm/machine.hpp"
#include "wsm/options.hpp"

namespace wsm {

/// To a spawner: `(spawn_atom, url, options, first_subscriber)`.
using spawn_atom = caf::atom_constant<caf::atom("wsm_spawn")>;

/// Answers `(spawn_atom, url, options, first_subscriber)` with the handle
/// of a machine spawned on the spawner's node, or with the error that
/// refused the URL or the options (see `spawn_machine`). The first
/// subscriber owns the machine: when it ends, or its node can no longer be
/// reached, the machine quits.
using spawner_actor = caf::typed_actor<
  caf::replies_to<spawn_atom, std::string, options, caf::actor>::with<
    machine_actor>>;

/// Spawns a spawner on `sys`, which must know libwsm (`wsm::config`). Like
/// any actor it lives until told to exit; a published one must be, before
/// its system shuts down (the system waits for it). When it ends, every
/// machine it placed is told to quit.
spawner_actor spawn_spawner(caf::actor_system& sys);

} // namespace wsm

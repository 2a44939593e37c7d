#pragma once

#include <caf/atom.hpp>

/// Atoms of the public message vocabulary. They live in `wsm::` because CAF
/// already defines `caf::subscribe_atom` and friends.
namespace wsm {

using subscribe_atom = caf::atom_constant<caf::atom("wsm_sub")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("wsm_unsub")>;
using get_atom = caf::atom_constant<caf::atom("wsm_get")>;
using status_atom = caf::atom_constant<caf::atom("wsm_status")>;
using stats_atom = caf::atom_constant<caf::atom("wsm_stats")>;
/// To a session gate: `(gate_atom, epoch)`, answered with nothing when the
/// session is ready, or with an error.
using gate_atom = caf::atom_constant<caf::atom("wsm_gate")>;

} // namespace wsm

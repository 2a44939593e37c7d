#pragma once

#include <caf/atom.hpp>

/// Atoms of the public message vocabulary. They live in `wsm::` because CAF
/// already defines `caf::subscribe_atom` and friends.
namespace wsm {

/// To a machine: `(subscribe_atom, actor)` adds a subscriber; the reply is
/// the current status.
using subscribe_atom = caf::atom_constant<caf::atom("wsm_sub")>;
/// To a machine: `(unsubscribe_atom, actor)` removes a subscriber.
using unsubscribe_atom = caf::atom_constant<caf::atom("wsm_unsub")>;
/// To a machine: `(get_atom, status_atom)` or `(get_atom, stats_atom)`.
using get_atom = caf::atom_constant<caf::atom("wsm_get")>;
/// With `get_atom`: asks for the current `status`.
using status_atom = caf::atom_constant<caf::atom("wsm_status")>;
/// With `get_atom`: asks for the counters, `stats`.
using stats_atom = caf::atom_constant<caf::atom("wsm_stats")>;
/// To a machine: `(room_atom, bytes)` is answered with `room` once one more
/// output of `bytes` bytes fits its queue without the overflow policy: at
/// once if it does now, else when enough has been written. A producer that
/// sends no more than the answer allows, then asks again, never loses an
/// output to a full queue. Bytes beyond `max_queue_bytes` never fit: an
/// error at once. A machine that ends answers with its reason.
using room_atom = caf::atom_constant<caf::atom("wsm_room")>;
/// To a session gate: `(gate_atom, epoch)`, answered with nothing when the
/// session is ready, or with an error.
using gate_atom = caf::atom_constant<caf::atom("wsm_gate")>;
/// To a request provider: `(request_atom, attempt)` before every attempt,
/// answered with a `request_update` (headers to set, another URL).
using request_atom = caf::atom_constant<caf::atom("wsm_reqst")>;

} // namespace wsm

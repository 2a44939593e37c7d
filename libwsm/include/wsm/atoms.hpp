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
/// To a machine: `(confirm_atom, id)`, the server confirmed the output sent
/// with `confirm_id` `id` (see `output::confirm_id`): it is done, and its
/// room goes to producers. An id no output waits under is ignored (a
/// server may confirm a duplicate twice).
using confirm_atom = caf::atom_constant<caf::atom("wsm_confrm")>;
/// To a session gate: `(gate_atom, epoch)` after every CONNECTED, from the
/// machine (its sender). The gate may send the machine outputs of its own
/// (log in, subscribe again): they go out at once, ahead of everything
/// queued, and take no room in the queue. It answers with nothing when the
/// session is ready (then the queue goes, outputs written before and not
/// confirmed first), or with an error, which drops the link, as does no
/// answer within `gate_timeout`. `options::gate` is a strong reference:
/// the gate lives at least as long as the machines that use it, and one
/// gate may serve many. A gate that ends (quits, fails) fails each later
/// gate step, and the machine drops that link and retries.
using gate_atom = caf::atom_constant<caf::atom("wsm_gate")>;
/// To a request provider: `(request_atom, attempt)` before every attempt,
/// answered with a `request_update` (headers to set, another URL).
using request_atom = caf::atom_constant<caf::atom("wsm_reqst")>;

} // namespace wsm

#pragma once

// What the rest of the library needs of the machine's insides: its timers,
// its full type (what users may send, its connections' events and these
// timers) and spawning one for a request already checked. Internal: users
// hold a `wsm::machine_actor`, brokers a `wsm::machine_transport_actor`.
//
// CAF 0.17's timers cannot be cancelled, so each timer carries a stamp
// that tells a stale one apart: the generation of the phase that armed it
// (bumped on every transition), or for a timer that outlives phases, the
// counter named beside it.

#include <cstdint>
#include <memory>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "wsm/machine.hpp"

namespace wsm::detail {

class machine_observer;

/// The pause after a failed attempt (or a dropped link) is over: attempt
/// again. Stamped with the generation.
using retry_atom = caf::atom_constant<caf::atom("wsm_retry")>;
/// Time to see whether the link needs a ping. Stamped with the id of the
/// connection it watches: it lives as long as the link, across the gate.
using keepalive_atom = caf::atom_constant<caf::atom("wsm_keepal")>;
/// The close handshake took too long. Stamped with the generation.
using close_timeout_atom = caf::atom_constant<caf::atom("wsm_clto")>;
/// A quit that waits for queued outputs to be written has waited
/// close_timeout: what is left goes back. Its stamp means nothing; there
/// is one such wait in a machine's life, through any phases.
using quit_deadline_atom = caf::atom_constant<caf::atom("wsm_quitdl")>;
/// No pong nor any frame came after a ping: the peer is dead. Stamped with
/// the ping's deadline counter (a pause in reading re-arms it).
using pong_timeout_atom = caf::atom_constant<caf::atom("wsm_pongto")>;
/// The governor's slot has come: the attempt may start. Stamped with the
/// generation.
using slot_timer_atom = caf::atom_constant<caf::atom("wsm_slotgo")>;
/// `send_rate`'s token for the head of the queue has come: it may go.
/// Stamped with the generation.
using pace_atom = caf::atom_constant<caf::atom("wsm_pace")>;

/// Time to see whether the heartbeat is due. Stamped with the connection.
using heartbeat_atom = caf::atom_constant<caf::atom("wsm_heartb")>;
/// Time to see whether a data message came within liveness_timeout.
/// Stamped with the connection.
using liveness_atom = caf::atom_constant<caf::atom("wsm_alive")>;

/// The oldest output held for its confirmation may be overdue. Its stamp
/// means nothing: one such timer is armed at a time, whatever the phase.
using confirm_timeout_atom = caf::atom_constant<caf::atom("wsm_cnfto")>;

/// To a header reader: `(header_file_atom, path)`, answered with the
/// headers of the file (in a `request_update`) or with what is wrong with
/// it. A machine's actor never reads a file itself: a reader runs where
/// blocking is allowed.
using header_file_atom = caf::atom_constant<caf::atom("wsm_hfile")>;

/// To the timer relay: `(relay_atom, machine, timer)` delivers `timer` to
/// `machine` (a weak address) if it still exists.
using relay_atom = caf::atom_constant<caf::atom("wsm_fire")>;

/// Everything a machine handles.
using machine_impl_actor = machine_transport_actor::extend<
  caf::reacts_to<retry_atom, uint64_t>,
  caf::reacts_to<keepalive_atom, uint64_t>,
  caf::reacts_to<close_timeout_atom, uint64_t>,
  caf::reacts_to<quit_deadline_atom, uint64_t>,
  caf::reacts_to<pong_timeout_atom, uint64_t>,
  caf::reacts_to<slot_timer_atom, uint64_t>,
  caf::reacts_to<pace_atom, uint64_t>,
  caf::reacts_to<heartbeat_atom, uint64_t>,
  caf::reacts_to<liveness_atom, uint64_t>,
  caf::reacts_to<confirm_timeout_atom, uint64_t>>;

/// What a machine uses of its actor system, handed over at spawn.
struct machine_services {
  /// Opens its connections.
  broker_actor broker;
  /// Delivers its timers (see `spawn_timer_relay`).
  caf::actor timer_relay;
  /// Asked for a slot before each attempt; none: no governor.
  caf::actor governor;
  /// Reads `options::header_file` before each attempt (`header_file_atom`);
  /// needed only with a header file.
  caf::actor header_reader;
  /// Told of the machine's life; null: nobody watches.
  std::shared_ptr<machine_observer> observer;
};

/// Spawns a machine for a request already checked.
machine_actor spawn_checked_machine(caf::actor_system& sys,
                                    connect_request request, options opts,
                                    caf::actor first_subscriber,
                                    machine_services services);

} // namespace wsm::detail

#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "wsm/atoms.hpp"
#include "wsm/messages.hpp"
#include "wsm/options.hpp"
#include "wsm/transport.hpp"

namespace wsm {

/// A WebSocket client connection as a finite state machine: what users may
/// send it. A pool member (see wsm/pool.hpp) answers the same vocabulary,
/// so code written against it serves both.
///
/// Send it `output` and `command`; `subscribe` an actor to receive every
/// `status` and `input`. An `output` sent as a request is answered once the
/// frame is written, or with an error saying why it never will be
/// (`errc::undelivered`; `errc::machine_quit` when the machine quit
/// first); sent plainly, an output that is never written comes back to its
/// sender as `undelivered`. A machine that gives up ends with an exit
/// reason of `errc::handshake_rejected` or `errc::retries_exhausted`.
/// `(command::ping, payload)` sends a ping that carries `payload` (at most
/// 125 bytes; a longer one is refused with `errc::invalid_option`); any
/// other command with a payload is the command alone. `(room_atom, bytes)`
/// waits for room in the queue (see `room_atom`). `(confirm_atom, id)`
/// confirms an output sent with `confirm_id` `id` (see `output`).
using machine_actor = caf::typed_actor<
  caf::reacts_to<output>, caf::reacts_to<command>,
  caf::reacts_to<confirm_atom, std::string>,
  caf::reacts_to<command, std::string>,
  caf::replies_to<subscribe_atom, caf::actor>::with<status>,
  caf::reacts_to<unsubscribe_atom, caf::actor>,
  caf::replies_to<get_atom, status_atom>::with<status>,
  caf::replies_to<get_atom, stats_atom>::with<stats>,
  caf::replies_to<room_atom, uint64_t>::with<room>>;

/// A machine as its broker sees it: the user vocabulary and the events of
/// its connections (see wsm/transport.hpp). A custom transport, or a test's
/// fake broker, sends these to the machine that asked for the connection.
using machine_transport_actor = machine_actor::extend<
  caf::reacts_to<connected_atom, uint64_t, link_info>,
  caf::reacts_to<received_atom, uint64_t, input>,
  caf::reacts_to<received_atom, uint64_t, std::vector<input>>,
  caf::reacts_to<pong_atom, uint64_t>,
  caf::reacts_to<written_atom, uint64_t, uint64_t>,
  caf::reacts_to<closed_atom, uint64_t, disconnect_info>>;

/// Spawns a machine for `url` (`ws://host[:port][/path][?query]`) that starts
/// connecting at once. `first_subscriber`, if given, sees the very first
/// CONNECTING. A URL or header that is not valid is refused with an error
/// naming the problem, and no actor is spawned. The actor system must have
/// been configured with `wsm::config` or `wsm::add_message_types`.
caf::expected<machine_actor> spawn_machine(caf::actor_system& sys,
                                           const std::string& url,
                                           options opts = {},
                                           caf::actor first_subscriber = {});

/// Spawns a machine that talks to `broker`, arms its timers through
/// `timer_relay` (see `spawn_timer_relay`) and, if `governor` is set, asks it
/// for a slot before each attempt (see `spawn_governor`). For tests and
/// custom transports.
caf::expected<machine_actor>
spawn_machine_with(caf::actor_system& sys, const std::string& url,
                   options opts, caf::actor first_subscriber,
                   broker_actor broker, caf::actor timer_relay,
                   caf::actor governor = {});

/// Spawns the actor that delivers a machine's timers while holding only a weak
/// reference to it, so that pending timers never keep a machine alive.
caf::actor spawn_timer_relay(caf::actor_system& sys);

} // namespace wsm

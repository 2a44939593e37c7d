#pragma once

#include <cstddef>

#include <caf/fwd.hpp>

#include "wsm/transport.hpp"

namespace wsm::detail {

/// Spawns the broker that owns the Beast connections of an actor system and
/// the Asio context they run on, with `io_threads` threads. The threads stop
/// when the broker ends, which is when the actor system lets go of it.
broker_actor spawn_broker(caf::actor_system& sys, size_t io_threads);

} // namespace wsm::detail

#pragma once

#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>

#include "wsm/transport.hpp"

namespace wsm::detail {

/// The Asio context that runs every connection of an actor system, and its
/// threads. Opaque here so that no Asio header leaks out of broker.cpp.
class io_runtime;

/// Starts an Asio context on `threads` threads.
std::shared_ptr<io_runtime> start_io_runtime(size_t threads);

/// Stops the context and joins its threads; what is still on it is
/// abandoned. Idempotent.
void stop_io_runtime(io_runtime& io);

/// Spawns the broker that owns the Beast connections running on `io`.
broker_actor spawn_broker(caf::actor_system& sys,
                          std::shared_ptr<io_runtime> io);

} // namespace wsm::detail

#pragma once

#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>

#include "io/io_runtime_handle.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// Spawns the broker that owns the Beast connections running on `io`.
broker_actor spawn_broker(caf::actor_system& sys,
                          std::shared_ptr<io_runtime> io);

} // namespace wsm::detail

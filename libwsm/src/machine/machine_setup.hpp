#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "wsm/options.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// What a machine is spawned with and never changes: its request and its
/// options. Machines spawned alike share one, so that ten thousand machines
/// for one URL hold one copy instead of ten thousand (about 0.7 KiB each).
struct machine_setup {
  connect_request request;
  options opts;
};

/// The setup for `request` and `opts`: one already held by a machine
/// spawned alike, or a new one. Options with a gate or a request provider
/// are never shared (they are actors of the caller's, not values).
std::shared_ptr<const machine_setup>
share_setup(caf::actor_system& sys, connect_request request, options opts);

} // namespace wsm::detail

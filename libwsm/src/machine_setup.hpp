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
/// spawned alike, or a new one. Options with a gate are never shared (the
/// gate is an actor of the caller's, not a value).
std::shared_ptr<const machine_setup>
share_setup(caf::actor_system& sys, connect_request request, options opts);

} // namespace wsm::detail

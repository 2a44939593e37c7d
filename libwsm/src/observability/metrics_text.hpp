#pragma once

#include <string>

#include "observability/machine_registry.hpp"

namespace wsm::detail {

/// Renders a snapshot in Prometheus' text exposition format (version
/// 0.0.4): the process's machines by state, their counters summed with
/// those of machines that ended, ping round trips as a histogram,
/// `wsm_build_info`, and per-machine series (labelled `id` and `host`)
/// when the snapshot asks for them.
std::string render_metrics(const registry_snapshot& x);

} // namespace wsm::detail

#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <caf/fwd.hpp>

namespace wsm_apps {

/// `--metrics-address` and `--metrics-per-machine`, as every app takes them.
struct metrics_flags {
  std::string address;
  bool per_machine = false;
};

/// Adds both flags to `app`.
void add_metrics_options(CLI::App& app, metrics_flags& flags);

/// Checks the address and sets `wsm.metrics-address` and
/// `wsm.metrics-per-machine` in `cfg`. Returns the problem, empty if none.
std::string apply_metrics_options(const metrics_flags& flags,
                                  caf::actor_system_config& cfg);

/// Once the actor system runs: prints where the metrics and the status
/// page are served (`APP: metrics on http://HOST:PORT/metrics, status page
/// on http://HOST:PORT/`) on stderr, or the reason they could not be;
/// returns false then. With `json`, as one JSON object each:
/// `{"event":"metrics","metrics":URL,"status_page":URL}` or
/// `{"event":"error","message":TEXT}`.
bool announce_metrics(const caf::actor_system& sys, const std::string& app,
                      bool json = false);

} // namespace wsm_apps

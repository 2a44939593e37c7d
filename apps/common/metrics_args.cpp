#include "metrics_args.hpp"

#include <iostream>

#include <caf/actor_system_config.hpp>

#include "wsm/error.hpp"
#include "wsm/metrics.hpp"

namespace wsm_apps {

void add_metrics_options(CLI::App& app, metrics_flags& flags) {
  app.add_option("--metrics-address", flags.address,
                 "serve Prometheus metrics (/metrics) and a live status "
                 "page (/) on HOST:PORT, or on 127.0.0.1 given a port alone");
  app.add_flag("--metrics-per-machine", flags.per_machine,
               "metrics series per machine too, labelled by id and host");
}

std::string apply_metrics_options(const metrics_flags& flags,
                                  caf::actor_system_config& cfg) {
  if (flags.address.empty())
    return {};
  if (auto err = wsm::check_metrics_address(flags.address))
    return "--" + wsm::describe(err);
  cfg.set("wsm.metrics-address", flags.address);
  cfg.set("wsm.metrics-per-machine", flags.per_machine);
  return {};
}

bool announce_metrics(const caf::actor_system& sys, const std::string& app) {
  auto endpoint = wsm::metrics_endpoint(sys);
  if (!endpoint) {
    std::cerr << app << ": " << wsm::describe(endpoint.error()) << std::endl;
    return false;
  }
  if (!endpoint->empty())
    std::cerr << app << ": metrics on http://" << *endpoint
              << "/metrics, status page on http://" << *endpoint << "/"
              << std::endl;
  return true;
}

} // namespace wsm_apps

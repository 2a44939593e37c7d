#include "metrics_args.hpp"

#include <iostream>

#include <caf/actor_system_config.hpp>

#include "wsm/error.hpp"
#include "wsm/metrics.hpp"
#include "wsm/settings.hpp"
#include "wsm/json.hpp"

namespace wsm_apps {

namespace {

/// The help of a `[wsm]` key as the library describes it.
std::string help_of(const std::string& key) {
  for (auto& x : wsm::describe_settings())
    if (x.key == key)
      return x.help;
  return {};
}

} // namespace

void add_metrics_options(CLI::App& app, metrics_flags& flags) {
  app.add_option("--metrics-address", flags.address,
                 help_of("metrics-address"));
  app.add_flag("--metrics-per-machine", flags.per_machine,
               help_of("metrics-per-machine"));
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

bool announce_metrics(const caf::actor_system& sys, const std::string& app,
                      bool json) {
  auto endpoint = wsm::metrics_endpoint(sys);
  if (!endpoint) {
    auto problem = wsm::describe(endpoint.error());
    if (json)
      std::cerr << wsm::json_object{}
                     .text("event", "error")
                     .text("message", problem)
                     .str()
                << std::endl;
    else
      std::cerr << app << ": " << problem << std::endl;
    return false;
  }
  if (endpoint->empty())
    return true;
  auto metrics = "http://" + *endpoint + "/metrics";
  auto page = "http://" + *endpoint + "/";
  if (json)
    std::cerr << wsm::json_object{}
                   .text("event", "metrics")
                   .text("metrics", metrics)
                   .text("status_page", page)
                   .str()
              << std::endl;
  else
    std::cerr << app << ": metrics on " << metrics << ", status page on "
              << page << std::endl;
  return true;
}

} // namespace wsm_apps

// Finds or creates the per-actor-system pieces every machine shares: the
// broker (with the Asio context and its threads) and the timer relay. Both
// are hidden actors kept in the system's registry, so they live exactly as
// long as the actor system holds them.

#include <mutex>

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>

#include "broker.hpp"
#include "spawn.hpp"
#include "url.hpp"

namespace wsm {

namespace {

constexpr auto broker_name = caf::atom("wsm_broker");
constexpr auto relay_name = caf::atom("wsm_relay");

std::mutex runtime_mutex;

} // namespace

caf::expected<machine_actor> spawn_machine(caf::actor_system& sys,
                                           const std::string& url,
                                           options opts,
                                           caf::actor first_subscriber) {
  auto request = detail::make_connect_request(url, opts);
  if (!request)
    return std::move(request.error());
  broker_actor broker;
  caf::actor relay;
  {
    std::lock_guard<std::mutex> guard{runtime_mutex};
    auto& registry = sys.registry();
    broker = registry.get<broker_actor>(broker_name);
    if (!broker) {
      auto threads = caf::get_or(sys.config(), "wsm.io-threads", size_t{1});
      broker = detail::spawn_broker(sys, threads == 0 ? 1 : threads);
      registry.put(broker_name, broker);
    }
    relay = registry.get<caf::actor>(relay_name);
    if (!relay) {
      relay = spawn_timer_relay(sys);
      registry.put(relay_name, relay);
    }
  }
  return detail::spawn_checked_machine(sys, std::move(*request),
                                       std::move(opts),
                                       std::move(first_subscriber),
                                       std::move(broker), std::move(relay));
}

} // namespace wsm

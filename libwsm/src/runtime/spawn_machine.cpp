// Spawning machines: from a URL and options, checked first, onto the
// actor system's own broker, timer relay and governor, or onto given ones.

#include <caf/actor_system.hpp>

#include "io/io_scheduler.hpp"
#include "machine/machine_impl.hpp"
#include "runtime/runtime.hpp"
#include "request/url.hpp"
#include "wsm/error.hpp"
#include "wsm/machine.hpp"

namespace wsm {

caf::expected<machine_actor> spawn_machine(caf::actor_system& sys,
                                           const std::string& url,
                                           options opts,
                                           caf::actor first_subscriber) {
  auto request = detail::make_connect_request(url, opts);
  if (!request)
    return std::move(request.error());
  auto runtime = detail::runtime_module::of(sys);
  if (runtime == nullptr)
    return make_error(errc::not_configured,
                      "the actor system does not know libwsm: configure it "
                      "with wsm::config or wsm::init(cfg)");
  if (auto problem = detail::scheduler_problem(sys.config());
      !problem.empty())
    return make_error(errc::invalid_option, std::move(problem));
  auto shared = runtime->shared_handles();
  if (!shared.broker)
    return make_error(errc::not_configured, "the actor system is shutting down");
  detail::machine_services services{std::move(shared.broker),
                                    std::move(shared.timer_relay),
                                    std::move(shared.governor),
                                    {},
                                    runtime->registry()};
  if (!opts.header_file.empty())
    services.header_reader = runtime->header_reader();
  return detail::spawn_checked_machine(sys, std::move(*request),
                                       std::move(opts),
                                       std::move(first_subscriber),
                                       std::move(services));
}

caf::expected<machine_actor>
spawn_machine_with(caf::actor_system& sys, const std::string& url,
                   options opts, caf::actor first_subscriber,
                   broker_actor broker, caf::actor timer_relay,
                   caf::actor governor) {
  auto request = detail::make_connect_request(url, opts);
  if (!request)
    return std::move(request.error());
  detail::machine_services services{std::move(broker), std::move(timer_relay),
                                    std::move(governor), {},
                                    detail::registry_of(sys)};
  if (!opts.header_file.empty()) {
    auto runtime = detail::runtime_module::of(sys);
    services.header_reader = runtime ? runtime->header_reader()
                                     : detail::spawn_header_reader(sys);
  }
  return detail::spawn_checked_machine(sys, std::move(*request),
                                       std::move(opts),
                                       std::move(first_subscriber),
                                       std::move(services));
}

} // namespace wsm

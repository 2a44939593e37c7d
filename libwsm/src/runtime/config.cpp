#include "wsm/config.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <sched.h>

#include <caf/config_option_adder.hpp>

#include "io/io_scheduler.hpp"
#include "runtime/runtime.hpp"
#include "wsm/error.hpp"
#include "wsm/machine.hpp"
#include "wsm/messages.hpp"
#include "wsm/pool.hpp"
#include "wsm/transport.hpp"

namespace wsm {

namespace {

/// The CPUs this process may run on (its affinity mask), at least one.
size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0)
    return std::max(1u, std::thread::hardware_concurrency());
  return std::max(1, CPU_COUNT(&set));
}

} // namespace

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<output>("wsm::output");
  cfg.add_message_type<input>("wsm::input");
  cfg.add_message_type<command>("wsm::command");
  cfg.add_message_type<status>("wsm::status");
  cfg.add_message_type<undelivered>("wsm::undelivered");
  cfg.add_message_type<room>("wsm::room");
  cfg.add_message_type<header>("wsm::header");
  cfg.add_message_type<request_update>("wsm::request_update");
  cfg.add_message_type<connect_request>("wsm::connect_request");
  cfg.add_message_type<disconnect_info>("wsm::disconnect_info");
  cfg.add_message_type<link_info>("wsm::link_info");
  cfg.add_message_type<tls_options>("wsm::tls_options");
  cfg.add_message_type<deflate_options>("wsm::deflate_options");
  cfg.add_message_type<options>("wsm::options");
  // Handles cross nodes as what they are, so a reply holding one matches
  // its typed response handler on the other side.
  cfg.add_message_type<machine_actor>("wsm::machine_actor");
  cfg.add_message_type<stats>("wsm::stats");
  // Pools hand out members (machine_actor too) and their tables across
  // nodes.
  cfg.add_message_type<placement>("wsm::placement");
  cfg.add_message_type<std::vector<placement>>("std::vector<wsm::placement>");
}

void init(caf::actor_system_config& cfg) {
  add_message_types(cfg);
  cfg.module_factories.emplace_back(detail::make_scheduler);
  cfg.load<detail::runtime_module>();
}

config::config() {
  wsm::init(*this);
  add_error_category(caf::atom("wsm"),
                     [](uint8_t code, caf::atom_value,
                        const caf::message& context) {
                       return "wsm: " + describe(caf::error{
                                code, caf::atom("wsm"), context});
                     });
  // Machines spend their lives waiting for I/O: CAF's work-sharing
  // scheduler wakes a worker with a condition variable at once, where
  // work stealing polls and sleeps (50us at a time when moderate), which
  // multiplied a round trip's latency by three on a small machine. An INI
  // file or the command line can still choose `stealing`.
  set("scheduler.policy", caf::atom("sharing"));
  // CAF starts at least four workers; more workers than the CPUs this
  // process may run on only add wake-ups.
  set("scheduler.max-threads", usable_cpus());
  // Dead nodes are noticed like dead peers: without heartbeats a link to a
  // node that vanished without closing its connections (power loss, a
  // black-holed route, and at times a killed process on a TLS link) stays
  // up, and a pool never moves its machines. Used only with CAF's
  // middleman loaded.
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(4)});
  opt_group{custom_options_, "wsm"}
    .add<std::string>("scheduler",
                      "where actors run: 'io' (default) on the threads of "
                      "the Asio context the connections use, so a frame "
                      "and the actors it wakes run on one thread; 'caf' on "
                      "CAF's own scheduler (scheduler.policy), beside the "
                      "Asio threads")
    .add<size_t>("io-threads",
                 "threads that run the shared Asio context (default: "
                 "scheduler.max-threads with scheduler 'io', 1 with 'caf')")
    .add<double>("connect-rate",
                 "connection attempts a second per host the reconnect "
                 "governor allows; 0 turns it off (default 0)")
    .add<std::string>("metrics-address",
                      "serve Prometheus metrics (/metrics) and a live "
                      "status page (/) on HOST:PORT, or 127.0.0.1:PORT "
                      "given a port alone (default: off)")
    .add<bool>("metrics-per-machine",
               "metrics series per machine too, labelled by id and host "
               "(default: false)")
    .add<double>("connect-burst",
                 "attempts per host the governor allows at once (default: "
                 "a hundredth of connect-rate); no 100ms window sees more "
                 "than connect-rate/10 + connect-burst attempts per host");
}

} // namespace wsm

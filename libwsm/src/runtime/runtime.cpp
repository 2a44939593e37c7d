#include "runtime/runtime.hpp"

#include <map>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/send.hpp>
#include <caf/settings.hpp>

#include "io/io_scheduler.hpp"
#include "observability/metrics_server.hpp"
#include "wsm/error.hpp"
#include "wsm/governor.hpp"
#include "wsm/machine.hpp"
#include "wsm/metrics.hpp"

namespace wsm::detail {

namespace {

// CAF 0.17 offers no lookup of a module by slot from outside; the modules
// register themselves here instead.
std::mutex modules_mutex;
std::map<const caf::actor_system*, runtime_module*> modules;

} // namespace

runtime_module::runtime_module(caf::actor_system& sys) : sys_(sys) {
  std::lock_guard<std::mutex> guard{modules_mutex};
  modules[&sys] = this;
}

runtime_module::~runtime_module() {
  stop();
  std::lock_guard<std::mutex> guard{modules_mutex};
  modules.erase(&sys_);
}

caf::actor_system::module*
runtime_module::make(caf::actor_system& sys, caf::detail::type_list<>) {
  return new runtime_module(sys);
}

runtime_module* runtime_module::of(const caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{modules_mutex};
  auto i = modules.find(&sys);
  return i == modules.end() ? nullptr : i->second;
}

runtime_module::handles runtime_module::shared_handles() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopped_)
    return {};
  if (!handles_.broker) {
    // The I/O scheduler's context when actors run on it; else one of our
    // own beside CAF's scheduler.
    io_ = scheduler_io_runtime(sys_);
    owns_io_ = io_ == nullptr;
    if (owns_io_) {
      auto threads = caf::get_or(sys_.config(), "wsm.io-threads", size_t{1});
      io_ = start_io_runtime(threads == 0 ? 1 : threads);
    }
    handles_.broker = spawn_broker(sys_, io_);
    handles_.timer_relay = spawn_timer_relay(sys_);
    auto rate = caf::get_or(sys_.config(), "wsm.connect-rate", 0.0);
    if (rate > 0) {
      auto burst = caf::get_or(sys_.config(), "wsm.connect-burst", 0.0);
      handles_.governor = spawn_governor(sys_, rate,
                                         burst > 0 ? burst : rate / 100);
    }
  }
  return handles_;
}

caf::actor runtime_module::header_reader() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopped_)
    return {};
  if (!header_reader_)
    header_reader_ = spawn_header_reader(sys_);
  return header_reader_;
}

void runtime_module::start() {
  // Nothing else runs until the first machine asks for it; the metrics
  // are served from the start, machines or not. A problem leaves them off
  // and is kept for `metrics_endpoint`: throwing out of a module's start
  // would leave CAF's scheduler running under a half-made system.
  auto address = caf::get_or(sys_.config(), "wsm.metrics-address",
                             std::string{});
  if (address.empty())
    return;
  auto where = parse_listen_address(address);
  if (!where) {
    metrics_problem_ = where.error();
    return;
  }
  registry_ = std::make_shared<machine_registry>(
    caf::get_or(sys_.config(), "wsm.metrics-per-machine", false));
  shared_handles(); // the I/O runtime the server runs on
  std::lock_guard<std::mutex> guard{mutex_};
  auto server = start_metrics_server(*io_, sys_, registry_, *where);
  if (!server) {
    metrics_problem_ = server.error();
    registry_ = nullptr;
    return;
  }
  metrics_ = std::move(*server);
}

caf::expected<std::string> runtime_module::metrics_endpoint() const {
  if (metrics_problem_)
    return metrics_problem_;
  return metrics_ ? endpoint_of(*metrics_) : std::string{};
}

void runtime_module::stop() {
  std::lock_guard<std::mutex> guard{mutex_};
  stopped_ = true;
  if (metrics_)
    stop_metrics_server(*metrics_);
  metrics_ = nullptr;
  // Every machine has ended: dropping the handles ends the broker and the
  // relay here, while the scheduler still runs.
  handles_ = {};
  // Its own thread ends with it.
  if (header_reader_)
    caf::anon_send_exit(header_reader_, caf::exit_reason::user_shutdown);
  header_reader_ = nullptr;
  // The I/O scheduler's context stops with the scheduler, after this.
  if (io_ && owns_io_)
    stop_io_runtime(*io_);
  io_ = nullptr;
}

void runtime_module::init(caf::actor_system_config&) {
  // nop
}

caf::actor_system::module::id_t runtime_module::id() const {
  return network_manager;
}

void* runtime_module::subtype_ptr() {
  return this;
}

std::shared_ptr<machine_registry> registry_of(const caf::actor_system& sys) {
  auto module = runtime_module::of(sys);
  return module ? module->registry() : nullptr;
}

} // namespace wsm::detail

namespace wsm {

caf::expected<std::string> metrics_endpoint(const caf::actor_system& sys) {
  auto module = detail::runtime_module::of(sys);
  return module ? module->metrics_endpoint() : std::string{};
}

} // namespace wsm

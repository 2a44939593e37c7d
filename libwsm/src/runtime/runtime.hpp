#pragma once

#include <memory>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/detail/type_list.hpp>

#include "session/broker.hpp"
#include "observability/machine_registry.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

class metrics_server;

/// The pieces every machine of an actor system shares: the Asio context with
/// its threads, the broker, and the timer relay. A CAF module, because a
/// module is stopped after the system's last actor has ended and before its
/// scheduler stops: the one moment the shared pieces can go cleanly.
///
/// CAF 0.17 has a fixed set of module slots; libwsm takes `network_manager`,
/// which 0.17 leaves unused.
class runtime_module : public caf::actor_system::module {
public:
  explicit runtime_module(caf::actor_system& sys);
  ~runtime_module() override;

  static caf::actor_system::module* make(caf::actor_system& sys,
                                         caf::detail::type_list<>);

  /// Returns the module of `sys`, or null if `wsm::init` did not load it.
  static runtime_module* of(const caf::actor_system& sys);

  struct handles {
    broker_actor broker;
    caf::actor timer_relay;
    /// Set when `wsm.connect-rate` is above zero.
    caf::actor governor;
  };

  /// Returns the shared broker and relay, starting them on first use; empty
  /// handles once the module has stopped.
  handles shared_handles();

  /// The system's header reader, started on first use (on a thread of its
  /// own); none once the module has stopped.
  caf::actor header_reader();

  /// What the machines of the system are doing, for the metrics; null
  /// when `wsm.metrics-address` is not set.
  std::shared_ptr<machine_registry> registry() const noexcept {
    return registry_;
  }

  /// `HOST:PORT` of the metrics server; empty when there is none; the
  /// error that kept it from listening.
  caf::expected<std::string> metrics_endpoint() const;

  /// Starts the metrics server when `wsm.metrics-address` is set.
  void start() override;
  void stop() override;
  void init(caf::actor_system_config&) override;
  id_t id() const override;
  void* subtype_ptr() override;

private:
  caf::actor_system& sys_;
  std::mutex mutex_;
  std::shared_ptr<io_runtime> io_;
  /// False when `io_` is the I/O scheduler's.
  bool owns_io_ = false;
  handles handles_;
  caf::actor header_reader_;
  bool stopped_ = false;
  std::shared_ptr<machine_registry> registry_;
  std::shared_ptr<metrics_server> metrics_;
  caf::error metrics_problem_;
};

/// Spawns a header reader (see `header_file_atom`) on a thread of its own.
caf::actor spawn_header_reader(caf::actor_system& sys);

/// The registry of `sys`, or null when metrics are off (or `wsm::init` did
/// not load libwsm's module).
std::shared_ptr<machine_registry> registry_of(const caf::actor_system& sys);

} // namespace wsm::detail

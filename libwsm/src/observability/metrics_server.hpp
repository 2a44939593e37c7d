#pragma once

// The HTTP server of the metrics and the status page, on the I/O runtime's
// contexts. Opaque here so that Beast stays in metrics_server.cpp.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "io/io_runtime_handle.hpp"
#include "observability/machine_registry.hpp"

namespace wsm::detail {

class metrics_server;

/// An address to listen on, as `check_metrics_address` accepts it.
struct listen_address {
  std::string host;
  uint16_t port = 0;
};

/// Parses `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (127.0.0.1).
caf::expected<listen_address> parse_listen_address(const std::string& text);

/// Listens on `where` and serves `registry` until stopped. The error names
/// the address and what went wrong (a port in use, an address not here).
caf::expected<std::shared_ptr<metrics_server>>
start_metrics_server(io_runtime& io, caf::actor_system& sys,
                     std::shared_ptr<machine_registry> registry,
                     const listen_address& where);

/// `HOST:PORT` the server listens on.
std::string endpoint_of(const metrics_server& server);

/// Closes the listener and every connection. Idempotent.
void stop_metrics_server(metrics_server& server);

} // namespace wsm::detail

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace wsm_echo {

/// What an echo server does besides echoing.
struct server_options {
  /// Port on 127.0.0.1; 0 picks a free one.
  uint16_t port = 0;
};

/// A WebSocket echo server on 127.0.0.1 running on a thread of its own.
/// Each message comes back with its frame type; `/CLOSE` makes the server
/// close that connection with 1000, as the seed's test server does.
class echo_server {
public:
  explicit echo_server(server_options opts = {});
  ~echo_server();

  echo_server(const echo_server&) = delete;
  echo_server& operator=(const echo_server&) = delete;

  /// The port the server listens on.
  uint16_t port() const noexcept;

  /// Closes the listener and every connection, and ends the thread.
  void stop();

  /// Connections accepted so far (WebSocket upgrades that succeeded).
  size_t connections() const noexcept;

  /// Pings received so far, over all connections.
  size_t pings() const noexcept;

  /// Close frames received from clients so far, over all connections.
  size_t closes_received() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace wsm_echo

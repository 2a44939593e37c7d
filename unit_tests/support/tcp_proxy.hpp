#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace wsm_test {

/// A TCP proxy on 127.0.0.1 for fault injection: it forwards every
/// connection to 127.0.0.1:target, and can be told to stop forwarding
/// without closing (a half-open link), to reset every connection, or to
/// delay what it forwards. Runs on a thread of its own.
class tcp_proxy {
public:
  enum class mode {
    /// Forward bytes both ways.
    pass,
    /// Forward, each chunk after a delay.
    delay,
  };

  explicit tcp_proxy(uint16_t target_port);
  ~tcp_proxy();

  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  /// The port the proxy listens on.
  uint16_t port() const noexcept;

  /// Applies to every connection, current and future.
  void set_mode(mode m, std::chrono::milliseconds delay = {});

  /// Makes every current connection a half-open link (bytes dropped both
  /// ways, nothing closed) while new connections pass: a reconnect can't
  /// race a change of mode.
  void blackhole_current();

  /// Resets every current connection (TCP RST on both sides).
  void reset_all();

  /// Connections accepted so far.
  size_t connections() const noexcept;

  /// Bytes forwarded so far from clients to the server, over all
  /// connections.
  size_t bytes_to_server() const noexcept;

  /// Bytes forwarded so far from the server to clients.
  size_t bytes_to_client() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace wsm_test

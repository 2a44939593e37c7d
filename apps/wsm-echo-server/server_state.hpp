// What the echo server shares between its acceptor (echo_server.cpp) and
// its connections (connection.hpp): the counters, and a way to drop a
// connection without knowing its stream.
#pragma once

#include <atomic>
#include <cctype>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "echo_server.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace wsm_echo::detail {

/// What the server counts and remembers, read from other threads.
struct counters {
  std::atomic<size_t> connections{0};
  std::atomic<size_t> pings{0};
  std::atomic<size_t> pongs{0};
  std::atomic<size_t> closes{0};
  std::atomic<size_t> refused{0};
  std::atomic<size_t> tls_failures{0};
  mutable std::mutex mutex;
  /// The last upgrade request's headers, by lower-case name.
  std::map<std::string, std::string> last_request;
  std::string last_client_certificate;
  /// The host name the last TLS client asked for (SNI).
  std::string last_server_name;
  /// The address the last upgrade request came from.
  std::string last_peer_address;
  /// What the last ping carried.
  std::string last_ping_payload;
  /// When each TCP connection was accepted (CLOCK_MONOTONIC, ms).
  std::vector<double> accept_times;
  /// Messages received, with record_messages.
  std::vector<std::string> messages;
};

/// `x` with its ASCII letters in lower case: header names compare so.
inline std::string lower(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return x;
}

/// What the server keeps of a connection: a way to drop it.
class connection_base {
public:
  virtual ~connection_base() = default;
  virtual void start() = 0;
  /// Drops the TCP connection without a close handshake.
  virtual void abort() = 0;
};

/// A connection on a plain socket (plain_connection.cpp).
std::shared_ptr<connection_base>
make_plain_connection(boost::asio::ip::tcp::socket socket,
                      const server_options& opts, counters& stats);

/// A connection that first speaks TLS with `tls` (tls_connection.cpp).
std::shared_ptr<connection_base>
make_tls_connection(boost::asio::ip::tcp::socket socket,
                    const server_options& opts, counters& stats,
                    boost::asio::ssl::context& tls);

} // namespace wsm_echo::detail

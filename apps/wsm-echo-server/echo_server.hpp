#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wsm_echo {

/// What an echo server does besides echoing: the fault switches that tests
/// and demos use.
struct server_options {
  /// Address to listen on; a loopback one in tests.
  std::string address = "127.0.0.1";
  /// Port; 0 picks a free one.
  uint16_t port = 0;
  /// PEM files of the server's certificate (chain) and key: with both the
  /// server speaks TLS (wss://).
  std::string cert_file;
  std::string key_file;
  /// With TLS: asks every client for a certificate issued by a CA in this
  /// PEM file and refuses the TLS handshake without one.
  std::string client_ca_file;
  /// Subprotocols the server speaks: it picks the first the client offers.
  std::vector<std::string> subprotocols;
  /// Answers every upgrade with this subprotocol, offered or not, like a
  /// misconfigured server.
  std::string force_subprotocol;
  /// Accepts permessage-deflate when a client offers it.
  bool deflate = false;
  /// Answers every upgrade with this `Sec-WebSocket-Extensions` value,
  /// offered or not, like a server that insists on an extension.
  std::string force_extension;
  /// Upgrade requests for `target` (path and query) are answered with
  /// `status` and `Location: location`, where `{port}` stands for the
  /// server's own port.
  struct redirect_rule {
    std::string target;
    unsigned status = 302;
    std::string location;
  };
  std::vector<redirect_rule> redirects;
  /// Drops every connection (TCP reset, no close frame) this often; 0 never.
  std::chrono::milliseconds drop_every{0};
  /// Refuses every handshake with this HTTP status; 0 accepts.
  unsigned refuse_status = 0;
  /// Stops reading after the handshake: pings go unanswered and nothing is
  /// echoed, like a peer that hung.
  bool no_pong = false;
  /// Accepts TCP connections and never answers the upgrade request.
  bool stall_handshake = false;
  /// Waits this long before each echo.
  std::chrono::milliseconds echo_delay{0};
  /// Sends each connection a ping this often (pongs are logged); 0 never.
  std::chrono::milliseconds ping_every{0};
  /// Sent as text frames, one per line, after the first message of each
  /// connection (which is not echoed), like a feed after a subscribe.
  std::vector<std::string> play;
  /// Closes the connection with 1001 once `play` has been sent.
  bool close_after_play = false;
  /// Prints one line per event on stdout.
  bool log = false;
  /// Keeps every message received, for `messages_received`.
  bool record_messages = false;
};

/// A WebSocket echo server (TLS optional) running on a thread of its own.
/// Each message comes back with its frame type; `/CLOSE` makes the server
/// close that connection with 1000, as the seed's test server does, and
/// `/CLOSE CODE [REASON]` with that code and reason. `/FEED COUNT SIZE`
/// pushes COUNT binary messages of SIZE bytes as fast as the client takes
/// them, each starting with its number (8 bytes, little endian);
/// `/FEED COUNT SIZE text` pushes text messages, each its number in ten
/// digits, padded with `x` to SIZE.
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

  /// Pongs received so far (answers to `ping_every`), over all connections.
  size_t pongs() const noexcept;

  /// Close frames received from clients so far, over all connections.
  size_t closes_received() const noexcept;

  /// Handshakes refused so far.
  size_t refused() const noexcept;

  /// The value of header `name` in the last upgrade request that arrived,
  /// or "" if it had none.
  std::string last_request_header(const std::string& name) const;

  /// The subject of the certificate the last TLS client presented, e.g.
  /// `CN=wsm test client`, or "" if it presented none.
  std::string last_client_certificate() const;

  /// When each TCP connection was accepted, in milliseconds on
  /// CLOCK_MONOTONIC (comparable across processes).
  std::vector<double> accept_times_ms() const;

  /// What the last ping a client sent carried ("" for none).
  std::string last_ping_payload() const;

  /// The address the last upgrade request came from, e.g. `127.0.0.2`.
  std::string last_peer_address() const;

  /// The host name the last TLS client asked for with SNI, or "" if it
  /// sent none.
  std::string last_server_name() const;

  /// TLS handshakes that failed so far.
  size_t tls_failures() const noexcept;

  /// Every message received so far, in arrival order, with
  /// `record_messages` set.
  std::vector<std::string> messages_received() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace wsm_echo

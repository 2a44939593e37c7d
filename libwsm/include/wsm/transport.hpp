#pragma once

// The protocol between a machine and the broker that owns its connections.
// A machine never touches a socket: it sends these commands to a broker and
// receives the events below, each stamped with the connection's id so that
// events of an abandoned connection are recognised and ignored.
//
// Public on purpose: this is the seam where another transport, or a test's
// fake broker and fake `link`, plugs in (`spawn_machine_with`), as the
// machine's deterministic tests do. A user who only connects machines to
// servers needs none of it; `close_cause` (which `stats::disconnects` is
// indexed by) and its `to_string` live here too.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "wsm/options.hpp"

namespace wsm {

/// The kinds of proxy a connection can go through.
enum class proxy_kind : uint8_t {
  /// Straight to the server.
  none,
  /// HTTP CONNECT over TCP.
  http,
  /// HTTP CONNECT over TLS to the proxy.
  https,
  /// SOCKS5; the server's name is resolved here.
  socks5,
  /// SOCKS5; the proxy resolves the server's name.
  socks5h,
};

/// The proxy of one connection.
struct proxy_route {
  /// Which kind of proxy; `none` goes straight to the server.
  proxy_kind kind = proxy_kind::none;
  /// The proxy's name or address (IPv6 without brackets).
  std::string host = {};
  /// The proxy's TCP port, as digits.
  std::string port = {};
  /// The user name for the proxy (Basic for HTTP, user/password for
  /// SOCKS5); never printed.
  std::string user = {};
  /// The password for the proxy; never printed.
  std::string password = {};

  /// `host:port`, as reasons name the proxy.
  std::string name() const {
    return (host.find(':') == std::string::npos ? host : "[" + host + "]")
           + ":" + port;
  }
};

/// What a broker needs to open one WebSocket connection.
struct connect_request {
  /// Host name or address to resolve (IPv6 without brackets).
  std::string host;
  /// TCP port, as digits.
  std::string port;
  /// The `Host` header value (with brackets and port where needed).
  std::string host_header;
  /// Path and query of the upgrade request.
  std::string target;
  /// `wss://`: TLS with the certificates of `tls`.
  bool secure = false;
  /// Extra headers, the Authorization made of the URL's userinfo among them.
  std::vector<header> headers;
  /// Subprotocols to offer, in order of preference.
  std::vector<std::string> subprotocols;
  /// permessage-deflate to offer, if enabled.
  deflate_options deflate;
  /// Certificates and checks for `wss://`.
  tls_options tls;
  /// Bounds resolve, connect, TLS and upgrade together.
  caf::timespan handshake_timeout{};
  /// Bounds the TCP connect to each address.
  caf::timespan connect_timeout = std::chrono::seconds(10);
  /// The pause before the next address is tried while earlier ones are
  /// pending (happy eyeballs).
  caf::timespan connect_attempt_delay = std::chrono::milliseconds(250);
  /// Bounds each write.
  caf::timespan write_timeout{};
  /// Bounds the close handshake.
  caf::timespan close_timeout{};
  /// The largest message accepted; a larger one closes the link with 1009.
  uint64_t max_message_size = 0;
  /// Sets TCP_NODELAY on the socket: small frames go out at once instead
  /// of waiting for the peer's acknowledgement (Nagle's algorithm).
  bool tcp_nodelay = true;
  /// The URL this request was made of, without credentials: what statuses
  /// show, and what a relative redirect is resolved against.
  std::string url = {};
  /// The IP address to connect from; empty: the system chooses.
  std::string local_address = {};
  /// The proxy to go through, if any.
  proxy_route proxy = {};
};

/// Why a connection ended.
enum class close_cause : uint8_t {
  /// Resolve, connect, read or write failed, or the peer dropped the link.
  network,
  /// The handshake or a write took longer than its timeout.
  timeout,
  /// The server answered the upgrade with an HTTP status other than 101.
  handshake_rejected,
  /// The peer sent a close frame.
  closed_by_peer,
  /// The machine closed it (quit, or abandoning an attempt).
  closed_by_machine,
  /// A message larger than max_message_size arrived; closed with 1009.
  message_too_big,
  /// No pong nor any other frame within pong_timeout after a ping.
  dead_peer,
  /// The TLS handshake failed, e.g. the certificate did not verify.
  tls,
  /// The server's answer broke the handshake's rules, e.g. it chose a
  /// subprotocol that was not offered.
  protocol_violation,
  /// An exception inside the library while serving the link (memory
  /// exhausted, say): the link is dropped and the machine reconnects.
  internal_error,
};

/// The number of close causes, for counters indexed by cause.
constexpr size_t close_cause_count =
  static_cast<size_t>(close_cause::internal_error) + 1;

/// A connection that is up, as a broker may hand it to its machine: the
/// machine then writes, pings and closes through it instead of sending the
/// broker a message each time (one actor hop less per frame). Every call
/// returns at once and may come from any thread; the calls of one caller
/// take effect in their order. A machine whose broker hands none over uses
/// the broker's messages below.
class link {
public:
  virtual ~link();
  /// As `(write_atom, id, payload, text)`. The payload is shared, not
  /// copied: the caller keeps it until the frame is acknowledged.
  virtual void write(std::shared_ptr<const std::string> payload, bool text)
    = 0;
  /// As `(ping_atom, id)`, or `(ping_atom, id, payload)` when the ping
  /// carries one (at most 125 bytes).
  virtual void ping(const std::string& payload) = 0;
  /// As `(close_atom, id)`.
  virtual void close() = 0;
  /// As `(abort_atom, id)`.
  virtual void abort() = 0;
  /// As `(pause_atom, id)`: no more messages are read from the socket after
  /// the one being read, so that TCP pushes back on the peer.
  virtual void pause_reading() = 0;
  /// As `(resume_atom, id)`: reading goes on.
  virtual void resume_reading() = 0;
  /// The machine has taken `count` more of the inputs sent to it. A link
  /// sends the machine only so many it has not taken, so that a machine
  /// slow to run does not let its mailbox grow; the broker's messages need
  /// no such credit (the default does nothing).
  virtual void consumed(uint64_t count);
};

/// What was agreed in the handshake of a connection that is up.
struct link_info {
  /// The subprotocol the server chose; empty if none.
  std::string subprotocol;
  /// permessage-deflate was negotiated.
  bool compressed = false;
  /// The connection itself, if the broker hands it over; local only (it
  /// never crosses nodes, and is not compared).
  std::shared_ptr<wsm::link> direct;
};

/// The name of a close cause, e.g. `dead_peer`.
const char* to_string(close_cause x) noexcept;

/// How a connection ended, as a broker reports it.
struct disconnect_info {
  /// Which kind of end it was, for counters and retry decisions.
  close_cause cause = close_cause::network;
  /// For people: what happened, e.g. `connect: Connection refused`.
  std::string reason;
  /// The status of a refused handshake; 0 otherwise.
  uint16_t http_status = 0;
  /// The close code sent or received; 0 when none was.
  uint16_t close_code = 0;
  /// The text of the close frame sent or received; empty when none was.
  std::string close_reason = {};
  /// The `Location` of a refused handshake that redirects (3xx); empty
  /// otherwise.
  std::string location = {};
};

/// Field-wise equality, for tests.
bool operator==(const disconnect_info& x, const disconnect_info& y) noexcept;

/// Field-wise equality, for tests.
bool operator==(const connect_request& x, const connect_request& y) noexcept;

/// Field-wise equality, for tests.
bool operator==(const link_info& x, const link_info& y) noexcept;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proxy_route& x) {
  // Rendered for people, the credentials are not shown.
  if constexpr (std::is_same<Inspector,
                             caf::detail::stringification_inspector>::value) {
    std::string hidden = x.user.empty() ? "" : "<hidden>";
    return f(caf::meta::type_name("wsm::proxy_route"), x.kind, x.host, x.port,
             hidden, hidden);
  } else {
    return f(caf::meta::type_name("wsm::proxy_route"), x.kind, x.host, x.port,
             x.user, x.password);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_request& x) {
  return f(caf::meta::type_name("wsm::connect_request"), x.host, x.port,
           x.host_header, x.target, x.secure, x.headers, x.subprotocols,
           x.deflate, x.tls, x.handshake_timeout, x.write_timeout,
           x.close_timeout, x.max_message_size, x.tcp_nodelay, x.url,
           x.local_address, x.connect_timeout, x.connect_attempt_delay,
           x.proxy);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_info& x) {
  return f(caf::meta::type_name("wsm::link_info"), x.subprotocol,
           x.compressed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, disconnect_info& x) {
  return f(caf::meta::type_name("wsm::disconnect_info"), x.cause, x.reason,
           x.http_status, x.close_code, x.close_reason, x.location);
}

/// Machine to broker: `(open_atom, id, connect_request)` starts a connection.
using open_atom = caf::atom_constant<caf::atom("wsm_open")>;
/// Machine to broker: `(write_atom, id, payload, text)` sends one frame.
using write_atom = caf::atom_constant<caf::atom("wsm_write")>;
/// Machine to broker: `(ping_atom, id)` sends a ping; `(ping_atom, id,
/// payload)` one that carries `payload`.
using ping_atom = caf::atom_constant<caf::atom("wsm_ping")>;
/// Machine to broker: `(close_atom, id)` writes what is queued, then closes
/// with 1000.
using close_atom = caf::atom_constant<caf::atom("wsm_close")>;
/// Machine to broker: `(abort_atom, id)` drops the connection at once.
using abort_atom = caf::atom_constant<caf::atom("wsm_abort")>;
/// Machine to broker: `(pause_atom, id)` stops reading from the socket after
/// the message being read (the machine's subscribers are behind).
using pause_atom = caf::atom_constant<caf::atom("wsm_pause")>;
/// Machine to broker: `(resume_atom, id)` reads again.
using resume_atom = caf::atom_constant<caf::atom("wsm_resume")>;

/// Broker to machine: `(connected_atom, id, link_info)`, the link is up.
using connected_atom = caf::atom_constant<caf::atom("wsm_up")>;
/// Broker to machine: `(received_atom, id, input)`, one message arrived;
/// `(received_atom, id, std::vector<input>)`, those that one read from the
/// socket brought, in order.
using received_atom = caf::atom_constant<caf::atom("wsm_recv")>;
/// Broker to machine: `(pong_atom, id)`, a pong arrived.
using pong_atom = caf::atom_constant<caf::atom("wsm_pong")>;
/// Broker to machine: `(closed_atom, id, disconnect_info)`, the connection
/// ended.
using closed_atom = caf::atom_constant<caf::atom("wsm_down")>;
/// Broker to machine: `(written_atom, id, count)`, that many frames were
/// written since the last such message.
using written_atom = caf::atom_constant<caf::atom("wsm_wrote")>;

/// The broker's interface. `open` starts a connection under a fresh id;
/// `write` queues one frame (`true` = text); `ping` sends a ping; `close`
/// closes gracefully with 1000 after the queued frames (or abandons an attempt
/// still in progress) and forgets the id; `abort` drops the link at once,
/// without a close handshake, and forgets the id; `pause` stops reading
/// after the current message and `resume` reads again.
///
/// Events back to the machine: `(connected_atom, id, link_info)`, `(received_atom, id,
/// input)`, `(pong_atom, id)`, `(written_atom, id, count)` after `count` more
/// frames went to the socket, and `(closed_atom, id, disconnect_info)` once,
/// at the end.
using broker_actor = caf::typed_actor<
  caf::reacts_to<open_atom, uint64_t, connect_request>,
  caf::reacts_to<write_atom, uint64_t, std::string, bool>,
  caf::reacts_to<ping_atom, uint64_t>,
  caf::reacts_to<ping_atom, uint64_t, std::string>,
  caf::reacts_to<close_atom, uint64_t>,
  caf::reacts_to<abort_atom, uint64_t>, caf::reacts_to<pause_atom, uint64_t>,
  caf::reacts_to<resume_atom, uint64_t>>;

/// Returns a connection id never returned before in this process.
uint64_t next_connection_id() noexcept;

} // namespace wsm

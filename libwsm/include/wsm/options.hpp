#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include "wsm/backoff.hpp"

namespace caf::detail {
// CAF's renderer for people (to_string, logs), named to keep header values
// out of what it renders; declared only, so no detail header is included.
class stringification_inspector;
} // namespace caf::detail

namespace wsm {

/// One extra header of the WebSocket upgrade request.
struct header {
  /// The header's name, an HTTP token.
  std::string name;
  /// Its value, without CR, LF or NUL; never printed.
  std::string value;
};

/// A request provider's answer before an attempt (see
/// `options::request_provider`).
struct request_update {
  /// Headers to set: each replaces any of the same name, or is added.
  std::vector<header> headers;
  /// Another URL to connect to in this attempt; empty keeps the machine's.
  std::string url;
};

/// What a full outbound queue does with one output too many. Whatever goes
/// is handed back to its sender as `undelivered`: nothing is lost silently.
enum class overflow_policy : uint8_t {
  /// The new output is refused (reason `queue full`).
  reject,
  /// The oldest queued output makes room (reason `queue full: dropped the
  /// oldest`).
  drop_oldest,
  /// The newest queued output makes room for the new one, for feeds where
  /// only the latest value matters (reason `queue full: replaced by a newer
  /// one`).
  drop_newest,
};

/// The name of a policy as config files write it, e.g. `drop-oldest`.
const char* to_string(overflow_policy x) noexcept;

/// How `wss://` connections prove who the server is, and who we are.
struct tls_options {
  /// PEM file of CA certificates to trust instead of the system's store.
  std::string ca_file;
  /// Directory of CA certificates (hashed names, as `openssl rehash` makes
  /// them) to trust instead of the system's store.
  std::string ca_path;
  /// PEM file with our certificate (chain), presented when a server asks.
  std::string cert_file;
  /// PEM file with the private key of `cert_file`.
  std::string key_file;
  /// Accepts any certificate for any host name: no protection against
  /// anyone on the path. For tests against throwaway certificates only.
  bool insecure_skip_verify = false;
};

/// permessage-deflate (RFC 7692), offered in the upgrade request when
/// enabled; messages are compressed both ways if the server agrees.
///
/// What a connection holds for it, once messages went each way: our
/// compressor 2^(max_window_bits + 2) + 2^(mem_level + 9) bytes, the
/// decompressor 2^max_window_bits bytes, and about 9 KiB of state between
/// them from the upgrade on. With the defaults (11, 3) a connection takes
/// about 42 KiB in all after a compressed message each way, 22 KiB more
/// than without deflate; with 15 and 4 (Beast's own defaults) 134 KiB. A
/// JSON feed compresses to 17% with the defaults, 16% with those (see
/// docs/cost.md). Each setting holds in both directions: the server must answer
/// the window and `no_context_takeover` asked of it (or the attempt fails,
/// naming what it left out), and where its answer does not bind our own
/// compressor to them, our messages go uncompressed (the server's still
/// come compressed).
struct deflate_options {
  /// Offer the extension (off by default: it costs memory per connection).
  bool enabled = false;
  /// The LZ77 window both sides are asked to use, 9..15 (2^bits bytes).
  int max_window_bits = 11;
  /// How much memory our compressor gives its hash chains, 1..9 (zlib's
  /// memLevel): 2^(mem_level + 9) bytes.
  int mem_level = 3;
  /// Ask both sides to compress each message on its own: less compression;
  /// the memory stays.
  bool no_context_takeover = false;
  /// zlib compression level of our messages, 0..9.
  int level = 6;
  /// Messages shorter than this (bytes) go uncompressed.
  size_t threshold = 0;
};

/// Everything a machine can be told at spawn time.
struct options {
  /// Extra headers of the upgrade request. A name that is not an HTTP token,
  /// a value with CR, LF or NUL, or a header the handshake sets itself
  /// (Host, Upgrade, Connection, Sec-WebSocket-*) is refused at spawn.
  /// `User-Agent` replaces the library's own (`wsm/VERSION`). Values are
  /// never printed.
  std::vector<header> headers;
  /// The pause in WAITING after the first failed attempt; the backoff's
  /// initial delay.
  caf::timespan retry_delay = backoff_policy{}.initial;
  /// Each further failure multiplies the pause by this.
  double backoff_factor = backoff_policy{}.factor;
  /// The pause never exceeds this.
  caf::timespan backoff_max = backoff_policy{}.max;
  /// The pause varies by up to this fraction either way.
  double backoff_jitter = backoff_policy{}.jitter;
  /// Failed attempts in a row after which the machine gives up and ends
  /// with `retries_exhausted`; 0 never gives up.
  uint32_t max_retries = 0;
  /// After a link that was up drops, the next attempt starts at once plus a
  /// random pause below this, so that machines that lost one server do not
  /// all come back in the same instant.
  caf::timespan reconnect_jitter = std::chrono::milliseconds(100);
  /// HTTP statuses of a refused handshake that are worth retrying besides
  /// 5xx and 429; any other refusal ends the machine (`handshake_rejected`).
  std::vector<uint16_t> retryable_statuses;
  /// Subprotocols to offer (`Sec-WebSocket-Protocol`), most preferred
  /// first; each must be an HTTP token. The server's choice is in the
  /// CONNECTED status; a choice that was not offered fails the attempt.
  std::vector<std::string> subprotocols;
  /// permessage-deflate; off by default.
  deflate_options deflate;
  /// Certificates for `wss://` URLs; ignored for `ws://`.
  tls_options tls;
  /// A keepalive ping goes out after this long without hearing from the peer.
  caf::timespan ping_interval = std::chrono::seconds(30);
  /// No pong nor any other frame this long after a keepalive ping: the peer
  /// is dead, the link is dropped and the machine reconnects.
  caf::timespan pong_timeout = std::chrono::seconds(10);
  /// Bounds resolve, TCP connect and the WebSocket upgrade together.
  caf::timespan handshake_timeout = std::chrono::seconds(10);
  /// Bounds the TCP connect to each address of the server's name.
  caf::timespan connect_timeout = std::chrono::seconds(10);
  /// Happy eyeballs (RFC 8305): while earlier addresses are still pending,
  /// the next address of the name (families alternating) is tried after
  /// this long; the first to connect wins, the others are closed.
  caf::timespan connect_attempt_delay = std::chrono::milliseconds(250);
  /// Bounds every write: a peer that stops reading does not stall the link.
  caf::timespan write_timeout = std::chrono::seconds(10);
  /// Bounds the close handshake after `quit`, and how long `quit` waits for
  /// a link to write what is still queued.
  caf::timespan close_timeout = std::chrono::seconds(5);
  /// A message larger than this closes the link with 1009.
  size_t max_message_size = 16 * 1024 * 1024;
  /// Outputs not yet written, connected or not: those queued while there is
  /// no link or the pacing holds them back, and those handed to the link
  /// whose frames are not yet out. One more follows `overflow`.
  size_t max_queue = 1024;
  /// Bytes of those same outputs, at most: one that would pass this follows
  /// `overflow` too, and one larger than this on its own is refused. A
  /// producer that must not lose any waits for room (`room_atom`).
  size_t max_queue_bytes = 32 * 1024 * 1024;
  /// How long an output that asked for confirmation (`output::confirm_id`)
  /// may wait for it after each write before it comes back undelivered
  /// (`not confirmed within ...`). The wait counts while a link is up: an
  /// output queued again after a drop waits for its next write. 0: no
  /// limit.
  caf::timespan confirm_timeout = std::chrono::seconds(30);
  /// How often an output that asked for confirmation is written again on a
  /// later link before it comes back undelivered (`not confirmed after N
  /// writes`): a message that makes the server fail every time is not sent
  /// for ever.
  uint32_t max_resends = 5;
  /// What a full queue does with one output too many.
  overflow_policy overflow = overflow_policy::reject;
  /// Inputs delivered to a subscriber and not yet handled by it, at most.
  /// While any subscriber is at this bound the machine reads nothing from
  /// the socket, so TCP pushes back on the server and memory stays bounded;
  /// reading resumes as subscribers catch up. Nothing is dropped. 0 means no
  /// bound: a slow subscriber's mailbox then grows without limit.
  size_t max_inbox = 32;
  /// Outputs written per second at most (0: as fast as the link takes
  /// them), for servers that cut off clients above a rate. Outputs beyond
  /// the rate wait in the queue and count against `max_queue`.
  double send_rate = 0;
  /// Outputs that may go at once after a quiet spell, with `send_rate`.
  size_t send_burst = 1;
  /// Sets TCP_NODELAY: small frames go out at once instead of waiting for
  /// the peer's acknowledgement of the previous ones (Nagle's algorithm).
  bool tcp_nodelay = true;
  /// Start in text mode (as after `command::use_text`); binary otherwise.
  bool text = false;
  /// The session gate, if any: after every CONNECTED it is asked
  /// `(gate_atom, epoch)` and may send outputs of its own (to log in, to
  /// subscribe again) that go out at once; everything else waits until it
  /// answers with nothing. An error or no answer within `gate_timeout` drops
  /// the link.
  caf::actor gate;
  /// How long the gate may take to answer before the link is dropped.
  caf::timespan gate_timeout = std::chrono::seconds(10);
  /// Asked before every attempt, the first included, with
  /// `(request_atom, attempt)`; answers with a `request_update`: fresh
  /// credentials for each attempt (tokens that expire). A bad answer (a
  /// header or URL that would be refused at spawn), an error, or no answer
  /// within `request_timeout` fails the attempt with a reason that says
  /// which, and the backoff follows.
  caf::actor request_provider;
  /// How long the request provider may take to answer.
  caf::timespan request_timeout = std::chrono::seconds(10);
  /// A file of `Name: value` lines, read again before every attempt, whose
  /// headers are set on its request (tokens rotated on disk). A missing or
  /// unreadable file, or a bad line, fails the attempt with a reason that
  /// names the file (and the line), and the backoff follows.
  std::string header_file;
  /// A link that drops before it has been up this long does not count as a
  /// success (flap protection): the next attempt waits as after a failed
  /// one and the attempt count goes on. A link up longer reconnects at once
  /// when it drops. 0 counts every link as a success.
  caf::timespan min_uptime = std::chrono::seconds(5);
  /// A data message sent, in the machine's current frame type, when
  /// nothing was sent for `heartbeat_interval`: for servers that want an
  /// application-level ping (`{"op":"ping"}`) and ignore WebSocket pings.
  /// Empty: none.
  std::string heartbeat;
  /// How long the link may stay without a message sent before `heartbeat`
  /// goes.
  caf::timespan heartbeat_interval = std::chrono::seconds(30);
  /// No data message received for this long (pongs do not count) drops the
  /// link as a dead peer: a feed that answers pings but stopped sending is
  /// dead for its user. 0: no limit. Not counted while reading is paused.
  caf::timespan liveness_timeout{};
  /// The proxy to connect through: `http://[user:password@]host:port`
  /// (HTTP CONNECT, Basic credentials), `https://...` (TLS to the proxy;
  /// for `ws://` URLs), `socks5://[user:password@]host:port` (the server's
  /// name resolved here), `socks5h://...` (resolved by the proxy), or
  /// `none`. Empty: the environment's, as curl reads it: for `ws://`
  /// `ws_proxy` then `http_proxy`, for `wss://` `wss_proxy` then
  /// `https_proxy`, then `all_proxy` (lower case first, then upper case),
  /// unless `no_proxy` (names, `.domain` suffixes, addresses, `*`) matches
  /// the host. TLS to the server runs through the tunnel as without a
  /// proxy. A proxy's refusal follows the retry rules of the server's
  /// statuses: 4xx ends the machine, 5xx and an unreachable proxy are
  /// retried. The credentials are never printed.
  std::string proxy;
  /// Redirects (301, 302, 303, 307, 308 with a `Location`) followed within
  /// one attempt; reaching the cap fails the attempt (`too many redirects`),
  /// retried with backoff. `wss://` is never redirected to `ws://`, and
  /// credentials (the URL's, an `Authorization` header) are not sent to
  /// another host or port. 0 refuses redirects: a 3xx then ends the machine
  /// as any other refusal that is not retried.
  uint32_t max_redirects = 5;
  /// The IP address to connect from (multi-homed hosts; more connections
  /// to one server than one source address has ports). Empty: the system
  /// chooses. Only the server's addresses of its family are tried.
  std::string local_address;

  /// The backoff these options describe.
  backoff_policy backoff() const noexcept {
    return {retry_delay, backoff_factor, backoff_max, backoff_jitter};
  }
};

// -- inspection: serializing (options cross nodes whole, so that a remote
// node can spawn a machine with them, see `wsm::spawner_actor`) and
// rendering for people ------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, header& x) {
  // Rendered for people (logs, to_string), a value is never shown: it may
  // be a credential.
  if constexpr (std::is_same<Inspector,
                             caf::detail::stringification_inspector>::value) {
    std::string hidden = "<hidden>";
    return f(caf::meta::type_name("wsm::header"), x.name, hidden);
  } else {
    return f(caf::meta::type_name("wsm::header"), x.name, x.value);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_update& x) {
  return f(caf::meta::type_name("wsm::request_update"), x.headers, x.url);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tls_options& x) {
  return f(caf::meta::type_name("wsm::tls_options"), x.ca_file, x.ca_path,
           x.cert_file, x.key_file, x.insecure_skip_verify);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deflate_options& x) {
  return f(caf::meta::type_name("wsm::deflate_options"), x.enabled,
           x.max_window_bits, x.mem_level, x.no_context_takeover, x.level,
           x.threshold);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, options& x) {
  return f(caf::meta::type_name("wsm::options"), x.headers, x.subprotocols,
           x.deflate, x.tls, x.retry_delay, x.backoff_factor, x.backoff_max,
           x.backoff_jitter, x.max_retries, x.reconnect_jitter,
           x.retryable_statuses, x.ping_interval, x.pong_timeout,
           x.handshake_timeout, x.write_timeout, x.close_timeout,
           x.max_message_size, x.max_queue, x.max_queue_bytes, x.overflow,
           x.max_inbox,
           x.send_rate, x.send_burst, x.tcp_nodelay, x.text, x.gate,
           x.gate_timeout, x.min_uptime, x.heartbeat, x.heartbeat_interval,
           x.liveness_timeout, x.local_address, x.connect_timeout,
           x.connect_attempt_delay, x.max_redirects, x.request_provider,
           x.request_timeout, x.header_file, x.proxy, x.confirm_timeout,
           x.max_resends);
}

} // namespace wsm

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include "wsm/state.hpp"

namespace wsm {

/// How an output goes on the wire.
enum class frame_format : uint8_t {
  /// The machine's current format: binary until `command::use_text`.
  machine_default,
  /// A text frame (the payload should be UTF-8).
  text,
  /// A binary frame.
  binary,
};

/// The name of a frame format, e.g. `text`.
const char* to_string(frame_format x) noexcept;

/// To a machine: send one message. Every output not yet settled (written,
/// or written and confirmed) counts against the machine's `max_queue`.
struct output {
  /// The bytes of the message (unless `shared` is set).
  std::string payload;
  /// Overrides the machine's current format for this message alone.
  frame_format format = frame_format::machine_default;
  /// The bytes of the message when set, instead of `payload`: one buffer
  /// that any number of machines write without a copy each (see
  /// `shared_output`). Crossing nodes, its bytes travel as the payload.
  std::shared_ptr<const std::string> shared;
  /// Asks for the server's confirmation under this id, chosen by the
  /// application; empty, the output is done once written. Once written, a
  /// confirmed output is held until `(confirm_atom, id)` reaches the
  /// machine, and written again first on every new link until then (at
  /// least once: the id lets a server drop duplicates), or it comes back
  /// undelivered after `confirm_timeout` or `max_resends`. A request's
  /// answer comes once it is confirmed. See `confirmed_output`.
  std::string confirm_id = {};

  /// The bytes of the message, wherever they are.
  const std::string& bytes() const noexcept {
    return shared ? *shared : payload;
  }
};

/// An output whose payload is `buffer`, shared with every machine it is
/// sent to: a message for a thousand machines is one buffer.
output shared_output(std::shared_ptr<const std::string> buffer,
                     frame_format format = frame_format::machine_default);

/// An output that asks for the server's confirmation under `id` (see
/// `output::confirm_id`).
output confirmed_output(std::string payload, std::string id,
                        frame_format format = frame_format::machine_default);

/// From a machine: one message received, to every subscriber.
struct input {
  /// The bytes of the message.
  std::string payload;
  /// Whether the peer sent it as a text frame.
  bool text = false;
};

/// To a machine: the seed's four commands (quit, ping, use_text,
/// use_binary) and three of wsm's own (reconnect, suspend, resume).
enum class command : uint8_t {
  /// Close gracefully (1000), report DISCONNECTED, end.
  quit,
  /// Send a WebSocket ping now (when connected).
  ping,
  /// Later outputs go as text frames.
  use_text,
  /// Later outputs go as binary frames (the default).
  use_binary,
  /// Connect now: drop the link (or the attempt, or the wait) and start a
  /// fresh attempt at once.
  reconnect,
  /// Close the link and stay DISCONNECTED, queueing outputs, until `resume`.
  suspend,
  /// Leave a `suspend`: connect again.
  resume,
};

/// The name of a command, e.g. `quit`.
const char* to_string(command x) noexcept;

/// From a machine: every change of state, to every subscriber.
struct status {
  /// The state entered.
  wsm::state state = wsm::state::connecting;
  /// Why the link went down or the attempt failed; empty when there is no
  /// error to report.
  std::string error;
  /// The number of the current connection attempt since the last success
  /// (1 for the first).
  uint32_t attempt = 0;
  /// The number of successful connections so far.
  uint64_t epoch = 0;
  /// In WAITING: the pause chosen before the next attempt.
  caf::timespan retry_delay{};
  /// In DISCONNECTED after a refused handshake: the HTTP status.
  uint16_t http_status = 0;
  /// In DISCONNECTED after a close frame: the code the peer sent, or the one
  /// the machine sent.
  uint16_t close_code = 0;
  /// In CONNECTED: the subprotocol the server chose; empty if none.
  std::string subprotocol;
  /// In CONNECTED: permessage-deflate was negotiated.
  bool compressed = false;
  /// In DISCONNECTED after a close frame: its text, the peer's or ours;
  /// empty if it had none.
  std::string close_reason = {};
  /// In CONNECTED: the URL of the link that is up (after redirects, or as
  /// the request provider chose), without credentials.
  std::string url = {};
  /// In the status that ends an attempt (CONNECTED, or DISCONNECTED and
  /// WAITING after a failure): the redirects it followed, in order, each
  /// URL without credentials; empty when it followed none.
  std::vector<std::string> redirects = {};
};

/// From a machine: an output that will never be written, back to its sender.
struct undelivered {
  /// The payload as it was sent.
  std::string payload;
  /// Why it will not be written (`queue full`, `quit`).
  std::string reason;
};

/// A machine's answer to `(room_atom, bytes)`: what its queue takes now
/// without its overflow policy, given once an output of `bytes` fits.
struct room {
  /// Outputs, below `max_queue`.
  uint64_t outputs = 0;
  /// Bytes, below `max_queue_bytes`.
  uint64_t bytes = 0;
};

/// Why an output came back undelivered, as `stats::undelivered_by` counts.
enum class undelivered_cause : uint8_t {
  /// The queue was at `max_queue` (the overflow policy refused or dropped
  /// it).
  queue_full,
  /// The machine quit before it could be written (or confirmed).
  quit,
  /// The machine gave up (retries exhausted, a refusal that ends it).
  gave_up,
  /// Written, but its confirmation did not come within `confirm_timeout`,
  /// or it was written `max_resends + 1` times.
  not_confirmed,
  /// A session gate's output whose link dropped before it was written (the
  /// gate is asked again on the next link).
  link_lost,
};

/// How many causes `undelivered_cause` has.
constexpr size_t undelivered_cause_count =
  static_cast<size_t>(undelivered_cause::link_lost) + 1;

/// The name of a cause as metrics label it, e.g. `queue_full`.
const char* to_string(undelivered_cause x) noexcept;

/// A machine's counters, the reply to `(get_atom, stats_atom)`.
struct stats {
  /// Successful connections (the epoch).
  uint64_t connects = 0;
  /// Links lost or attempts failed, by cause, indexed by `close_cause`
  /// (wsm/transport.hpp): `disconnects[static_cast<size_t>(c)]` for cause
  /// `c`, whose name `to_string(c)` gives (`network`, `timeout`,
  /// `handshake_rejected`, `closed_by_peer`, `closed_by_machine`,
  /// `message_too_big`, `dead_peer`, `tls`, `protocol_violation`,
  /// `internal_error`).
  std::vector<uint64_t> disconnects;
  /// Messages received.
  uint64_t messages_in = 0;
  /// Bytes received, in message payloads.
  uint64_t bytes_in = 0;
  /// Messages written to the socket.
  uint64_t messages_out = 0;
  /// Bytes written to the socket, in message payloads.
  uint64_t bytes_out = 0;
  /// Outputs that count against `max_queue`: queued, in flight, or written
  /// and waiting for their confirmation.
  uint64_t queue_depth = 0;
  /// Their bytes, against `max_queue_bytes`.
  uint64_t queue_bytes = 0;
  /// Of those, outputs that asked for confirmation, were handed to a link
  /// and are not confirmed yet (held, or to be written again on the next
  /// link).
  uint64_t unconfirmed = 0;
  /// Outputs confirmed by the application (`confirm_atom`).
  uint64_t confirmed = 0;
  /// Writes of outputs written before, on an earlier link.
  uint64_t resent = 0;
  /// Outputs handed back as undelivered.
  uint64_t undelivered = 0;
  /// The same by cause, indexed by `undelivered_cause` (`to_string` names
  /// each).
  std::vector<uint64_t> undelivered_by;
  /// Connection attempts after the first (each retry, reconnect and
  /// resume).
  uint64_t reconnect_attempts = 0;
  /// The round trip of the last ping answered by a pong; 0 before any.
  caf::timespan last_rtt{};
  /// How often reading stopped because a subscriber was `max_inbox` inputs
  /// behind.
  uint64_t read_pauses = 0;
  /// How long reading was stopped in all, the pause under way included.
  caf::timespan read_paused{};
  /// Whether reading is stopped now.
  bool reading_paused = false;
};

/// Field-wise equality, for tests (`expect(...).with(...)`).
bool operator==(const output& x, const output& y) noexcept;
/// Field-wise equality, for tests.
bool operator==(const input& x, const input& y) noexcept;
/// Field-wise equality, for tests.
bool operator==(const status& x, const status& y) noexcept;
/// Field-wise equality, for tests.
bool operator==(const undelivered& x, const undelivered& y) noexcept;
/// Field-wise equality, for tests.
bool operator==(const room& x, const room& y) noexcept;

/// Renders a status the way logs and tests print it, e.g.
/// `WAITING: connect: Connection refused (attempt 1, epoch 0, retry in 500ms)`.
std::string to_string(const status& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, output& x) {
  // A shared buffer is written as the payload; it arrives as one.
  if constexpr (Inspector::reads_state) {
    if (x.shared) {
      auto bytes = *x.shared;
      return f(caf::meta::type_name("wsm::output"), bytes, x.format,
               x.confirm_id);
    }
  }
  return f(caf::meta::type_name("wsm::output"), x.payload, x.format,
           x.confirm_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, input& x) {
  return f(caf::meta::type_name("wsm::input"), x.payload, x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status& x) {
  return f(caf::meta::type_name("wsm::status"), x.state, x.error, x.attempt,
           x.epoch, x.retry_delay, x.http_status, x.close_code, x.subprotocol,
           x.compressed, x.close_reason, x.url, x.redirects);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stats& x) {
  return f(caf::meta::type_name("wsm::stats"), x.connects, x.disconnects,
           x.messages_in, x.bytes_in, x.messages_out, x.bytes_out,
           x.queue_depth, x.queue_bytes, x.unconfirmed, x.confirmed, x.resent,
           x.undelivered, x.undelivered_by,
           x.reconnect_attempts, x.last_rtt, x.read_pauses, x.read_paused,
           x.reading_paused);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, room& x) {
  return f(caf::meta::type_name("wsm::room"), x.outputs, x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, undelivered& x) {
  return f(caf::meta::type_name("wsm::undelivered"), x.payload, x.reason);
}

} // namespace wsm

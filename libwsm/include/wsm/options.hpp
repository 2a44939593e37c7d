#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/timespan.hpp>

#include "wsm/backoff.hpp"

namespace wsm {

/// One extra header of the WebSocket upgrade request.
struct header {
  std::string name;
  std::string value;
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

const char* to_string(overflow_policy x) noexcept;

/// Everything a machine can be told at spawn time.
struct options {
  /// Extra headers of the upgrade request. A name that is not an HTTP token,
  /// or a value with CR, LF or NUL, is refused at spawn.
  std::vector<header> headers;
  /// The pause in WAITING after the first failed attempt; the backoff's
  /// initial delay.
  caf::timespan retry_delay = std::chrono::seconds(1);
  /// Each further failure multiplies the pause by this.
  double backoff_factor = 2.0;
  /// The pause never exceeds this.
  caf::timespan backoff_max = std::chrono::seconds(30);
  /// The pause varies by up to this fraction either way.
  double backoff_jitter = 0.2;
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
  /// A keepalive ping goes out after this long without hearing from the peer.
  caf::timespan ping_interval = std::chrono::seconds(30);
  /// No pong nor any other frame this long after a keepalive ping: the peer
  /// is dead, the link is dropped and the machine reconnects.
  caf::timespan pong_timeout = std::chrono::seconds(10);
  /// Bounds resolve, TCP connect and the WebSocket upgrade together.
  caf::timespan handshake_timeout = std::chrono::seconds(10);
  /// Bounds every write: a peer that stops reading does not stall the link.
  caf::timespan write_timeout = std::chrono::seconds(10);
  /// Bounds the close handshake after `quit`, and how long `quit` waits for
  /// a link to write what is still queued.
  caf::timespan close_timeout = std::chrono::seconds(5);
  /// A message larger than this closes the link with 1009.
  size_t max_message_size = 16 * 1024 * 1024;
  /// Outputs held while not connected.
  size_t max_queue = 1024;
  /// What a full queue does with one output too many.
  overflow_policy overflow = overflow_policy::reject;
  /// Start in text mode (as after `command::use_text`); binary otherwise.
  bool text = false;
  /// The session gate, if any: after every CONNECTED it is asked
  /// `(gate_atom, epoch)` and may send outputs of its own (to log in, to
  /// subscribe again) that go out at once; everything else waits until it
  /// answers with nothing. An error or no answer within `gate_timeout` drops
  /// the link.
  caf::actor gate;
  caf::timespan gate_timeout = std::chrono::seconds(10);

  /// The backoff these options describe.
  backoff_policy backoff() const noexcept {
    return {retry_delay, backoff_factor, backoff_max, backoff_jitter};
  }
};

} // namespace wsm

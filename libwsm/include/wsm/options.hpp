#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <caf/timespan.hpp>

namespace wsm {

/// One extra header of the WebSocket upgrade request.
struct header {
  std::string name;
  std::string value;
};

/// Everything a machine can be told at spawn time.
struct options {
  /// Extra headers of the upgrade request. A name that is not an HTTP token,
  /// or a value with CR, LF or NUL, is refused at spawn.
  std::vector<header> headers;
  /// The pause in WAITING after a failed attempt.
  caf::timespan retry_delay = std::chrono::seconds(1);
  /// A keepalive ping goes out after this long without hearing from the peer.
  caf::timespan ping_interval = std::chrono::seconds(30);
  /// Bounds resolve, TCP connect and the WebSocket upgrade together.
  caf::timespan handshake_timeout = std::chrono::seconds(10);
  /// Bounds the close handshake after `quit`.
  caf::timespan close_timeout = std::chrono::seconds(5);
  /// Outputs held while not connected; past this they are returned as
  /// `undelivered` with reason `queue full`.
  size_t max_queue = 1024;
  /// Start in text mode (as after `command::use_text`); binary otherwise.
  bool text = false;
};

} // namespace wsm

#pragma once

#include <cstdint>
#include <string>

namespace wsm {

/// The four states of a machine, as the seed names them.
enum class state : uint8_t {
  /// A connection attempt is in progress (resolve, TCP, WebSocket upgrade).
  connecting,
  /// The link is up: outputs are written, inputs are delivered.
  connected,
  /// The link is down; the machine decides what comes next.
  disconnected,
  /// A failed attempt is followed by a pause before the next one.
  waiting,
};

/// Returns the seed's name of a state: `CONNECTING`, `CONNECTED`, ...
const char* to_string(state x) noexcept;

} // namespace wsm

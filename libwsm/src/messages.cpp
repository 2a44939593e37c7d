#include "wsm/messages.hpp"

#include "wsm/transport.hpp"

#include <atomic>

namespace wsm {

const char* to_string(state x) noexcept {
  switch (x) {
    case state::connecting:
      return "CONNECTING";
    case state::connected:
      return "CONNECTED";
    case state::disconnected:
      return "DISCONNECTED";
    case state::waiting:
      return "WAITING";
  }
  return "UNKNOWN";
}

const char* to_string(frame_format x) noexcept {
  switch (x) {
    case frame_format::machine_default:
      return "machine_default";
    case frame_format::text:
      return "text";
    case frame_format::binary:
      return "binary";
  }
  return "unknown";
}

const char* to_string(command x) noexcept {
  switch (x) {
    case command::quit:
      return "quit";
    case command::ping:
      return "ping";
    case command::use_text:
      return "use_text";
    case command::use_binary:
      return "use_binary";
  }
  return "unknown";
}

std::string to_string(const status& x) {
  std::string result = to_string(x.state);
  if (!x.error.empty()) {
    result += ": ";
    result += x.error;
  }
  result += " (attempt ";
  result += std::to_string(x.attempt);
  result += ", epoch ";
  result += std::to_string(x.epoch);
  result += ')';
  return result;
}

bool operator==(const output& x, const output& y) noexcept {
  return x.payload == y.payload && x.format == y.format;
}

bool operator==(const input& x, const input& y) noexcept {
  return x.payload == y.payload && x.text == y.text;
}

bool operator==(const status& x, const status& y) noexcept {
  return x.state == y.state && x.error == y.error && x.attempt == y.attempt
         && x.epoch == y.epoch;
}

bool operator==(const undelivered& x, const undelivered& y) noexcept {
  return x.payload == y.payload && x.reason == y.reason;
}

bool operator==(const connect_request& x, const connect_request& y) noexcept {
  auto same_headers = [](const std::vector<header>& a,
                         const std::vector<header>& b) {
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].name != b[i].name || a[i].value != b[i].value)
        return false;
    return true;
  };
  return x.host == y.host && x.port == y.port && x.host_header == y.host_header
         && x.target == y.target && same_headers(x.headers, y.headers)
         && x.handshake_timeout == y.handshake_timeout
         && x.close_timeout == y.close_timeout;
}

uint64_t next_connection_id() noexcept {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

} // namespace wsm

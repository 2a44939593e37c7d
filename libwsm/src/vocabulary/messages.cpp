#include "vocabulary/wording.hpp"
#include "wsm/messages.hpp"

#include <chrono>

namespace wsm {

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
    case command::reconnect:
      return "reconnect";
    case command::suspend:
      return "suspend";
    case command::resume:
      return "resume";
  }
  return "unknown";
}

const char* to_string(undelivered_cause x) noexcept {
  switch (x) {
    case undelivered_cause::queue_full:
      return "queue_full";
    case undelivered_cause::quit:
      return "quit";
    case undelivered_cause::gave_up:
      return "gave_up";
    case undelivered_cause::not_confirmed:
      return "not_confirmed";
    case undelivered_cause::link_lost:
      return "link_lost";
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
  if (x.state == state::waiting) {
    result += ", retry in ";
    result += detail::in_milliseconds(x.retry_delay);
  }
  if (x.http_status != 0)
    result += ", HTTP " + std::to_string(x.http_status);
  if (x.close_code != 0)
    result += ", close code " + std::to_string(x.close_code);
  if (!x.close_reason.empty())
    result += ", close reason " + x.close_reason;
  if (!x.url.empty())
    result += ", " + x.url;
  for (auto& hop : x.redirects)
    result += ", redirected to " + hop;
  if (!x.subprotocol.empty())
    result += ", subprotocol " + x.subprotocol;
  if (x.compressed)
    result += ", compressed";
  result += ')';
  return result;
}

bool operator==(const output& x, const output& y) noexcept {
  return x.bytes() == y.bytes() && x.format == y.format
         && x.confirm_id == y.confirm_id;
}

output confirmed_output(std::string payload, std::string id,
                        frame_format format) {
  output result;
  result.payload = std::move(payload);
  result.format = format;
  result.confirm_id = std::move(id);
  return result;
}

output shared_output(std::shared_ptr<const std::string> buffer,
                     frame_format format) {
  output result;
  result.format = format;
  result.shared = std::move(buffer);
  return result;
}

bool operator==(const input& x, const input& y) noexcept {
  return x.payload == y.payload && x.text == y.text;
}

bool operator==(const status& x, const status& y) noexcept {
  return x.state == y.state && x.error == y.error && x.attempt == y.attempt
         && x.epoch == y.epoch && x.retry_delay == y.retry_delay
         && x.http_status == y.http_status && x.close_code == y.close_code
         && x.subprotocol == y.subprotocol && x.compressed == y.compressed
         && x.close_reason == y.close_reason && x.url == y.url
         && x.redirects == y.redirects;
}

bool operator==(const undelivered& x, const undelivered& y) noexcept {
  return x.payload == y.payload && x.reason == y.reason;
}

bool operator==(const room& x, const room& y) noexcept {
  return x.outputs == y.outputs && x.bytes == y.bytes;
}

} // namespace wsm

#include "observability/json_text.hpp"

#include <cstdio>

#include "wsm/status_json.hpp"

namespace wsm::detail {

namespace {

/// The length of the valid UTF-8 sequence at `x[i]`, or 0 if none starts
/// there.
size_t utf8_sequence(std::string_view x, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(x[k]); };
  auto lead = byte(i);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xE  ? 3
                  : (lead >> 3) == 0x1E ? 4
                                        : 0;
  if (length == 0 || i + length > x.size())
    return 0;
  for (size_t k = 1; k < length; ++k)
    if ((byte(i + k) >> 6) != 0x2)
      return 0;
  // Overlong forms, surrogates and code points above U+10FFFF are invalid.
  if (length == 2 && lead < 0xC2)
    return 0;
  if (length == 3
      && ((lead == 0xE0 && byte(i + 1) < 0xA0)
          || (lead == 0xED && byte(i + 1) >= 0xA0)))
    return 0;
  if (length == 4
      && ((lead == 0xF0 && byte(i + 1) < 0x90) || lead > 0xF4
          || (lead == 0xF4 && byte(i + 1) >= 0x90)))
    return 0;
  return length;
}

} // namespace

void append_json_string(std::string& out, std::string_view x) {
  out += '"';
  for (size_t i = 0; i < x.size();) {
    auto c = static_cast<unsigned char>(x[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (auto length = utf8_sequence(x, i); length > 0) {
      out.append(x.substr(i, length));
      i += length;
      continue;
    } else {
      out += "\\ufffd";
    }
    ++i;
  }
  out += '"';
}

std::string json_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", seconds);
  return text;
}

} // namespace wsm::detail

namespace wsm {

std::string json_string(std::string_view x) {
  std::string result;
  detail::append_json_string(result, x);
  return result;
}

std::string to_json(const status& x) {
  using detail::append_json_string;
  std::string out = "{\"state\":";
  append_json_string(out, to_string(x.state));
  out += ",\"error\":";
  append_json_string(out, x.error);
  out += ",\"attempt\":" + std::to_string(x.attempt);
  out += ",\"epoch\":" + std::to_string(x.epoch);
  out += ",\"retry_delay\":"
         + detail::json_seconds(
           std::chrono::duration<double>(x.retry_delay).count());
  out += ",\"http_status\":" + std::to_string(x.http_status);
  out += ",\"close_code\":" + std::to_string(x.close_code);
  out += ",\"close_reason\":";
  append_json_string(out, x.close_reason);
  out += ",\"subprotocol\":";
  append_json_string(out, x.subprotocol);
  out += ",\"compressed\":";
  out += x.compressed ? "true" : "false";
  out += ",\"url\":";
  append_json_string(out, x.url);
  out += ",\"redirects\":[";
  for (size_t i = 0; i < x.redirects.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, x.redirects[i]);
  }
  out += "]}";
  return out;
}

} // namespace wsm

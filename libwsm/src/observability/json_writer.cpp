// The JSON writer (wsm/json.hpp) and a status in JSON (wsm/status_json.hpp).

#include "wsm/json.hpp"

#include <chrono>
#include <cstdio>

#include "wsm/status_json.hpp"

namespace wsm {

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

/// Appends `x` as a JSON string, quotes included.
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

} // namespace

std::string json_string(std::string_view x) {
  std::string result;
  append_json_string(result, x);
  return result;
}

void json_object::key(std::string_view name) {
  if (out_.size() > 1)
    out_ += ',';
  append_json_string(out_, name);
  out_ += ':';
}

json_object& json_object::text(std::string_view key, std::string_view value) {
  this->key(key);
  append_json_string(out_, value);
  return *this;
}

json_object& json_object::number(std::string_view key, uint64_t value) {
  this->key(key);
  out_ += std::to_string(value);
  return *this;
}

json_object& json_object::seconds(std::string_view key, double value) {
  this->key(key);
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  out_ += text;
  return *this;
}

json_object& json_object::boolean(std::string_view key, bool value) {
  this->key(key);
  out_ += value ? "true" : "false";
  return *this;
}

json_object& json_object::json(std::string_view key, std::string_view value) {
  this->key(key);
  out_ += value;
  return *this;
}

std::string json_object::str() const {
  return out_ + '}';
}

void json_array::next() {
  if (out_.size() > 1)
    out_ += ',';
}

json_array& json_array::text(std::string_view value) {
  next();
  append_json_string(out_, value);
  return *this;
}

json_array& json_array::json(std::string_view value) {
  next();
  out_ += value;
  return *this;
}

std::string json_array::str() const {
  return out_ + ']';
}

std::string to_json(const status& x) {
  json_array redirects;
  for (auto& url : x.redirects)
    redirects.text(url);
  return json_object{}
    .text("state", to_string(x.state))
    .text("error", x.error)
    .number("attempt", x.attempt)
    .number("epoch", x.epoch)
    .seconds("retry_delay",
             std::chrono::duration<double>(x.retry_delay).count())
    .number("http_status", x.http_status)
    .number("close_code", x.close_code)
    .text("close_reason", x.close_reason)
    .text("subprotocol", x.subprotocol)
    .boolean("compressed", x.compressed)
    .text("url", x.url)
    .json("redirects", redirects.str())
    .str();
}

} // namespace wsm

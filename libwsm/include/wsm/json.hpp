#pragma once

// The one JSON writer of wsm: what the programs print with --json, the
// status page serves and `to_json(status)` returns. Strings are escaped
// (RFC 8259) and bytes that are not UTF-8 become U+FFFD, so whatever a
// server sent, the result is valid JSON.

#include <cstdint>
#include <string>
#include <string_view>

namespace wsm {

/// `x` as a JSON string, quotes included: `"`, `\` and control characters
/// escaped, bytes that are not UTF-8 as U+FFFD.
std::string json_string(std::string_view x);

/// One JSON object, built a field at a time in the order given:
/// `json_object{}.text("event", "error").number("line", 3).str()` is
/// `{"event":"error","line":3}`.
class json_object {
public:
  /// A string field.
  json_object& text(std::string_view key, std::string_view value);
  /// A whole number.
  json_object& number(std::string_view key, uint64_t value);
  /// A duration in seconds, e.g. `0.25`.
  json_object& seconds(std::string_view key, double value);
  /// `true` or `false`.
  json_object& boolean(std::string_view key, bool value);
  /// A value written as JSON already (by a `json_object` or `json_array`).
  json_object& json(std::string_view key, std::string_view value);
  /// The object, closed.
  std::string str() const;

private:
  void key(std::string_view name);
  std::string out_ = "{";
};

/// One JSON array, built an item at a time.
class json_array {
public:
  /// A string item.
  json_array& text(std::string_view value);
  /// An item written as JSON already.
  json_array& json(std::string_view value);
  /// The array, closed.
  std::string str() const;

private:
  void next();
  std::string out_ = "[";
};

} // namespace wsm

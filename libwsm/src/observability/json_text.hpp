#pragma once

// Writing JSON by hand, for the few small objects libwsm sends out (a
// status, the status page's tables): a JSON library would be one more
// dependency for every user of the package.

#include <string>
#include <string_view>

namespace wsm::detail {

/// Appends `x` to `out` as a JSON string, quotes included: `"`, `\` and
/// control characters escaped; bytes that are not valid UTF-8 become
/// U+FFFD, so the result is always valid JSON.
void append_json_string(std::string& out, std::string_view x);

/// Seconds as a JSON number, e.g. `0.25`.
std::string json_seconds(double seconds);

} // namespace wsm::detail

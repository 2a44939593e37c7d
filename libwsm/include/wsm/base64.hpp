#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace wsm {

/// Encodes `x` in base64 (RFC 4648, the standard alphabet, with padding).
std::string base64_encode(std::string_view x);

/// Decodes base64 (RFC 4648, the standard alphabet; padding required for a
/// length that is not a multiple of four). The error names the first
/// character that does not belong and its position.
caf::expected<std::string> base64_decode(std::string_view x);

} // namespace wsm

#pragma once

#include <string>
#include <string_view>

#include "wsm/options.hpp"

namespace wsm::detail {

/// Checks the server's `Sec-WebSocket-Extensions` answer against what was
/// offered (RFC 6455 4.1: an extension the client did not ask for fails the
/// handshake; RFC 7692 7.1: so does a permessage-deflate parameter it did
/// not offer, or a window larger than offered). Returns what is wrong, for
/// people, or nothing when the answer is acceptable.
std::string check_extension_answer(std::string_view answer,
                                   const deflate_options& offered);

} // namespace wsm::detail

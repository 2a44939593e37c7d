#pragma once

#include <string>
#include <string_view>

#include "wsm/options.hpp"

namespace wsm::detail {

/// The server's `Sec-WebSocket-Extensions` answer, read as Beast reads it.
struct extension_answer {
  /// What is wrong with it, for people; empty when it is acceptable.
  std::string problem;
  /// It accepts permessage-deflate (Beast compresses then).
  bool deflate = false;
  /// It binds our compressor to what was offered (the window, and no
  /// context takeover if asked): Beast compresses with what the answer
  /// says, not with what we asked, so otherwise our messages go
  /// uncompressed.
  bool compress_ours = false;
};

/// Reads the server's `Sec-WebSocket-Extensions` answer with Beast's parser
/// of extension lists and checks it against what was offered (RFC 6455
/// 4.1: an extension the client did not ask for fails the handshake; RFC
/// 7692 7.1: so does a permessage-deflate parameter it did not offer, a
/// window larger than offered, or leaving out a server_max_window_bits
/// below 15 or a server_no_context_takeover that was offered). Names
/// compare without regard to case, as
/// Beast's own negotiation does; text the parser cannot read is a problem
/// too, not ignored.
extension_answer read_extension_answer(std::string_view answer,
                                       const deflate_options& offered);

} // namespace wsm::detail

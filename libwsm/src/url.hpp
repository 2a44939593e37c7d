#pragma once

#include <string>

#include <caf/expected.hpp>

#include "wsm/options.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// Parses a `ws://` URL and checks the headers of `opts`; the error names
/// what is wrong.
caf::expected<connect_request> make_connect_request(const std::string& url,
                                                    const options& opts);

/// Checks one header: the name must be an HTTP token, the value free of CR,
/// LF and NUL.
caf::error check_header(const header& x);

} // namespace wsm::detail

#pragma once

#include <string>

#include <caf/expected.hpp>

#include "request/request_checks.hpp"
#include "request/url_text.hpp"
#include "wsm/options.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// Parses a `ws://` or `wss://` URL and checks `opts` as far as the
/// handshake goes (see `check_request_options`). The error names what is
/// wrong; it never shows the URL's credentials nor a header's value.
caf::expected<connect_request>
make_connect_request(const std::string& url, const options& opts,
                     tls_files tls = tls_files::load);

/// The URL a redirect's `location` (absolute, or relative to `base`) leads
/// to, with `http(s)://` mapped to `ws(s)://` and any fragment dropped; an
/// error names what is wrong with it.
caf::expected<std::string> resolve_redirect(const std::string& base,
                                            const std::string& location);

} // namespace wsm::detail

#pragma once

// How a URL appears in what wsm says, and its port as the request keeps
// it: small pure functions that the URL and the proxy route both use.

#include <string>

namespace wsm::detail {

/// A URL's port as digits without leading zeros, or nothing if `digits` is
/// not a TCP port (1..65535; the URL grammar admits any run of digits).
std::string canonical_port(const std::string& digits);

/// Returns `url` with its userinfo, if any, replaced by `***`; works on
/// text that is not a valid URL too.
std::string redact_url(const std::string& url);

} // namespace wsm::detail

#pragma once

// Which proxy, if any, a connection goes through: from the `proxy` option,
// or from the environment as curl and python-websockets read it.

#include <functional>
#include <string>

#include <caf/expected.hpp>

#include "wsm/transport.hpp"

namespace wsm::detail {

/// Reads one environment variable; empty when unset.
using environment_lookup = std::function<std::string(const char*)>;

/// The process's environment.
std::string process_environment(const char* name);

/// Parses `http://[user:password@]host:port`, `https://...`,
/// `socks5://...`, `socks5h://...` or `none`. The error names what is
/// wrong, never the credentials.
caf::expected<proxy_route> parse_proxy(const std::string& text);

/// The proxy for a connection to `host`: `option` if set (`none` for
/// none), else the environment's: for `ws://` `ws_proxy` then
/// `http_proxy`, for `wss://` `wss_proxy` then `https_proxy`, then
/// `all_proxy` (each lower case first, then upper case), unless `no_proxy`
/// matches `host`.
caf::expected<proxy_route> choose_proxy(const std::string& option,
                                        bool secure, const std::string& host,
                                        const environment_lookup& env
                                        = process_environment);

/// Whether `no_proxy` (comma-separated names, `.domain` suffixes, IP
/// addresses, `*`) exempts `host`.
bool is_exempt(const std::string& no_proxy, const std::string& host);

} // namespace wsm::detail

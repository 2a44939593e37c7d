#pragma once

// The checks of what a machine's options put into its handshake. Each error
// names what is wrong and never shows a header's value.

#include <string>

#include <caf/error.hpp>

#include "wsm/options.hpp"

namespace wsm::detail {

/// Whether the TLS files of `wss://` options are loaded at the check (on
/// the node that will run the machine) or left to the node that will (a
/// pool checks on its own node, where the files need not exist).
enum class tls_files : uint8_t { load, leave_to_node };

/// Checks headers, subprotocols, the permessage-deflate parameters and,
/// for a `secure` URL with `tls_files::load`, the TLS files.
caf::error check_request_options(const options& opts, bool secure,
                                 tls_files tls);

/// Whether `text` is an IPv4 or IPv6 address (without brackets).
bool is_ip_address(const std::string& text);

/// Checks that `address`, if given, is an IPv4 or IPv6 address.
caf::error check_local_address(const std::string& address);

/// Checks one header: the name must be an HTTP token that the handshake
/// does not set itself, the value free of CR, LF and NUL.
caf::error check_header(const header& x);

/// Whether header names `x` and `y` are the same (ASCII, any case).
bool same_header_name(const std::string& x, const char* y);

} // namespace wsm::detail

#pragma once

// TLS for wss:// connections, in OpenSSL's terms: a client context built
// from tls_options, the per-connection checks of the server's name, and
// words for what went wrong. OpenSSL's own headers stay out of this one.

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "wsm/options.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace wsm::detail {

/// An OpenSSL client context (`SSL_CTX`), freed with the last reference.
using tls_context = std::shared_ptr<ssl_ctx_st>;

/// Makes a client context: TLS 1.2 or later, the server's certificate
/// verified against `ca_file`/`ca_path` or else the system's store (unless
/// `insecure_skip_verify`), our certificate and key if given. A file that
/// can't be read or used is an error naming the file and the problem.
caf::expected<tls_context> make_tls_context(const tls_options& opts);

/// Prepares one connection to `host` (a name or an address): SNI for a
/// name, and a check that the certificate is for `host` unless
/// verification is off. Returns false if OpenSSL refused.
bool prepare_tls_session(ssl_st* ssl, const std::string& host,
                         bool verify);

/// Says why the TLS handshake of `ssl` failed, e.g. `certificate verify
/// failed: certificate has expired`, given the failing operation's message.
std::string describe_tls_failure(ssl_st* ssl, const std::string& message);

} // namespace wsm::detail

#pragma once

// What a client says to a proxy and what the proxy's answers mean: HTTP
// CONNECT (RFC 9110 9.3.6) and SOCKS5 (RFC 1928, user/password RFC 1929),
// apart from the I/O, which is the broker's.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace wsm::detail {

/// `CONNECT host:port HTTP/1.1` with its headers; Basic credentials when
/// `user` is given.
std::string http_connect_request(const std::string& host,
                                 const std::string& port,
                                 const std::string& user,
                                 const std::string& password,
                                 const std::string& user_agent);

/// The methods we offer: none, and user/password with credentials.
std::string socks5_greeting(bool with_credentials);

/// The user/password sub-negotiation (each at most 255 bytes).
std::string socks5_login(const std::string& user, const std::string& password);

/// CONNECT to a name the proxy resolves (socks5h).
std::string socks5_connect_by_name(const std::string& host, uint16_t port);

/// CONNECT to an address of 4 (IPv4) or 16 (IPv6) bytes.
std::string socks5_connect_by_address(const uint8_t* bytes, size_t size,
                                      uint16_t port);

/// What a SOCKS5 reply code other than 0 means, for people, and the HTTP
/// status it is treated as for retrying: 403 for a ruleset's refusal, 502
/// for failures to reach the server (retried).
std::pair<std::string, uint16_t> socks5_refusal(uint8_t reply);

} // namespace wsm::detail

// The checks of what a machine's options put into its handshake: headers,
// subprotocols, permessage-deflate parameters and the TLS files.

#include "request/request_checks.hpp"

#include <algorithm>
#include <cctype>

#include <arpa/inet.h>

#include "request/tls_context.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm::detail {

namespace {

// RFC 7230 tchar: the characters an HTTP header name may hold.
bool is_token_char(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(const std::string& x) {
  return !x.empty() && std::all_of(x.begin(), x.end(), is_token_char);
}

} // namespace

bool same_header_name(const std::string& x, const char* y) {
  return std::equal(x.begin(), x.end(), y, y + std::char_traits<char>::length(y),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a))
                             == std::tolower(static_cast<unsigned char>(b));
                    });
}

namespace {

/// Headers the handshake writes itself, and what to use instead.
const char* set_by_handshake(const std::string& name) {
  struct entry {
    const char* name;
    const char* instead;
  };
  static constexpr entry reserved[] = {
    {"Host", "it comes from the URL"},
    {"Upgrade", "the handshake sets it"},
    {"Connection", "the handshake sets it"},
    {"Sec-WebSocket-Key", "the handshake sets it"},
    {"Sec-WebSocket-Version", "the handshake sets it"},
    {"Sec-WebSocket-Protocol", "offer subprotocols with the subprotocols "
                               "option"},
    {"Sec-WebSocket-Extensions", "enable permessage-deflate with the deflate "
                                 "option"},
  };
  for (auto& x : reserved)
    if (same_header_name(name, x.name))
      return x.instead;
  return nullptr;
}

caf::error bad_option(const std::string& what) {
  return make_error(errc::invalid_option, what);
}

caf::error check_deflate(const deflate_options& x) {
  if (!x.enabled)
    return {};
  // zlib cannot make a raw deflate stream with an 8-bit window.
  if (x.max_window_bits < 9 || x.max_window_bits > 15)
    return bad_option("deflate max_window_bits "
                      + std::to_string(x.max_window_bits)
                      + " is not between 9 and 15");
  if (x.mem_level < 1 || x.mem_level > 9)
    return bad_option("deflate mem_level " + std::to_string(x.mem_level)
                      + " is not between 1 and 9");
  if (x.level < 0 || x.level > 9)
    return bad_option("deflate level " + std::to_string(x.level)
                      + " is not between 0 and 9");
  return {};
}

caf::error check_subprotocols(const std::vector<std::string>& xs) {
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!is_token(xs[i]))
      return bad_option("subprotocol " + quoted(xs[i])
                        + " is not a token (letters, digits and !#$%&'*+-.^_`|~)");
    if (std::find(xs.begin(), xs.begin() + i, xs[i]) != xs.begin() + i)
      return bad_option("subprotocol " + quoted(xs[i]) + " is offered twice");
  }
  return {};
}

} // namespace

caf::error check_header(const header& x) {
  if (x.name.empty())
    return make_error(errc::invalid_header, "header name is empty");
  if (!is_token(x.name))
    return make_error(errc::invalid_header,
                      "header name " + quoted(x.name)
                        + " holds a character not allowed in a name");
  for (char c : x.value)
    if (c == '\r' || c == '\n' || c == '\0')
      return make_error(errc::invalid_header,
                        "header " + quoted(x.name)
                          + " has a value with CR, LF or NUL in it");
  if (auto instead = set_by_handshake(x.name))
    return make_error(errc::invalid_header,
                      "header " + quoted(x.name) + " cannot be set: "
                        + instead);
  return {};
}

bool is_ip_address(const std::string& text) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, text.c_str(), bytes) == 1
         || inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

caf::error check_local_address(const std::string& address) {
  if (address.empty() || is_ip_address(address))
    return {};
  return make_error(errc::invalid_option,
                    "local_address " + quoted(address)
                      + " is not an IP address (write it like 127.0.0.2 or "
                        "::1)");
}

caf::error check_request_options(const options& opts, bool secure,
                                 tls_files tls) {
  for (auto& h : opts.headers)
    if (auto err = check_header(h))
      return err;
  if (auto err = check_subprotocols(opts.subprotocols))
    return err;
  if (auto err = check_deflate(opts.deflate))
    return err;
  if (auto err = check_local_address(opts.local_address))
    return err;
  if (!opts.heartbeat.empty() && opts.heartbeat_interval.count() <= 0)
    return make_error(errc::invalid_option,
                      "heartbeat_interval must be longer than 0 when a "
                      "heartbeat is given");
  if (secure && tls == tls_files::load) {
    // Loads the files once now, so that a missing or bad one is an error at
    // spawn rather than a failed attempt after every backoff.
    if (auto context = make_tls_context(opts.tls); !context)
      return std::move(context.error());
  }
  return {};
}

} // namespace wsm::detail

// From a URL and options to a checked connect_request: everything that can
// be wrong with them is found here, at spawn, before anything goes on the
// wire.

#include "wording.hpp"
#include "url.hpp"

#include <algorithm>
#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "tls_context.hpp"
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

bool same_name(const std::string& x, const char* y) {
  return std::equal(x.begin(), x.end(), y, y + std::char_traits<char>::length(y),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a))
                             == std::tolower(static_cast<unsigned char>(b));
                    });
}

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
    if (same_name(name, x.name))
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

std::string redact_url(const std::string& url) {
  auto scheme_end = url.find("://");
  auto authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string::npos)
    authority_end = url.size();
  auto at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < authority)
    return url;
  return url.substr(0, authority) + "***" + url.substr(at);
}

std::string base64(const std::string& x) {
  static constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string result;
  result.reserve((x.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&x](size_t k) { return static_cast<unsigned char>(x[k]); };
  for (; i + 2 < x.size(); i += 3) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += alphabet[n & 63];
  }
  if (i + 1 == x.size()) {
    auto n = byte(i) << 16;
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += "==";
  } else if (i + 2 == x.size()) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += '=';
  }
  return result;
}

caf::expected<connect_request> make_connect_request(const std::string& url,
                                                    const options& opts) {
  auto bad = [&url](const std::string& why) {
    return make_error(errc::invalid_url,
                      "invalid URL " + quoted(redact_url(url)) + ": " + why);
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed)
    return bad("not a URL of the form ws[s]://host[:port][/path][?query]");
  auto& view = *parsed;
  connect_request result;
  switch (view.scheme_id()) {
    case boost::urls::scheme::ws:
      break;
    case boost::urls::scheme::wss:
      result.secure = true;
      break;
    default:
      return bad("scheme must be ws:// or wss://, not "
                 + std::string{view.scheme()} + "://");
  }
  if (!view.has_authority() || view.encoded_host().empty())
    return bad("host is missing");
  if (view.has_fragment())
    return bad("a WebSocket URL cannot have a fragment");
  switch (view.host_type()) {
    case boost::urls::host_type::ipv6:
      result.host = view.encoded_host_address();
      break;
    case boost::urls::host_type::ipvfuture:
      return bad("IPvFuture addresses are not supported");
    default:
      result.host = view.host_address();
  }
  // Boost.URL 1.81 reads "h:8080p/x" as port 8080 and path "p/x"; after a
  // host, RFC 3986 wants a path that starts with '/'.
  if (!view.encoded_path().empty() && view.encoded_path().front() != '/')
    return bad("the port must be digits only, followed by '/', '?' or the "
               "end");
  if (view.has_port()) {
    // The grammar admits any run of digits; TCP ports stop at 65535.
    std::string digits{view.port()};
    if (digits.empty() || digits.size() > 5
        || digits.find_first_not_of("0123456789") != std::string::npos
        || std::stoul(digits) == 0 || std::stoul(digits) > 65535)
      return bad("port " + quoted(digits) + " is not valid");
    result.port = std::to_string(std::stoul(digits));
  } else {
    result.port = result.secure ? "443" : "80";
  }
  // A default port stays out of the Host header, as browsers do.
  result.host_header = std::string{view.encoded_host_address()};
  if (view.host_type() == boost::urls::host_type::ipv6)
    result.host_header = "[" + result.host_header + "]";
  if (result.port != (result.secure ? "443" : "80"))
    result.host_header += ":" + result.port;
  result.target = view.encoded_path().empty() ? "/"
                                              : std::string{view.encoded_path()};
  if (view.has_query()) {
    result.target += '?';
    result.target += view.encoded_query();
  }
  for (auto& h : opts.headers)
    if (auto err = check_header(h))
      return err;
  result.headers = opts.headers;
  if (view.has_userinfo()) {
    auto given = std::find_if(opts.headers.begin(), opts.headers.end(),
                              [](const header& h) {
                                return same_name(h.name, "Authorization");
                              });
    if (given != opts.headers.end())
      return bad("it has credentials and an Authorization header is given "
                 "too; use one of them");
    // RFC 7617: user and password, percent-decoded, joined by a colon.
    result.headers.push_back(
      {"Authorization", "Basic " + base64(std::string{view.user()} + ":"
                                          + std::string{view.password()})});
  }
  if (auto err = check_subprotocols(opts.subprotocols))
    return err;
  result.subprotocols = opts.subprotocols;
  if (auto err = check_deflate(opts.deflate))
    return err;
  result.deflate = opts.deflate;
  if (result.secure) {
    // Loads the files once now, so that a missing or bad one is an error at
    // spawn rather than a failed attempt after every backoff.
    if (auto context = make_tls_context(opts.tls); !context)
      return std::move(context.error());
    result.tls = opts.tls;
  }
  result.handshake_timeout = opts.handshake_timeout;
  result.write_timeout = opts.write_timeout;
  result.close_timeout = opts.close_timeout;
  result.max_message_size = opts.max_message_size;
  result.tcp_nodelay = opts.tcp_nodelay;
  return result;
}

} // namespace wsm::detail

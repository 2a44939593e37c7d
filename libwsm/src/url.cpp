#include "url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

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

std::string quoted(const std::string& x) {
  return "'" + x + "'";
}

} // namespace

caf::error check_header(const header& x) {
  if (x.name.empty())
    return make_error(errc::invalid_header, "header name is empty");
  for (char c : x.name)
    if (!is_token_char(c))
      return make_error(errc::invalid_header,
                        "header name " + quoted(x.name)
                          + " holds a character not allowed in a name");
  for (char c : x.value)
    if (c == '\r' || c == '\n' || c == '\0')
      return make_error(errc::invalid_header,
                        "header " + quoted(x.name)
                          + " has a value with CR, LF or NUL in it");
  return {};
}

caf::expected<connect_request> make_connect_request(const std::string& url,
                                                    const options& opts) {
  auto bad = [&url](const std::string& why) {
    return make_error(errc::invalid_url,
                      "invalid URL " + quoted(url) + ": " + why);
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed)
    return bad("not a URL of the form ws://host[:port][/path][?query]");
  auto& view = *parsed;
  if (view.scheme_id() != boost::urls::scheme::ws) {
    if (view.scheme_id() == boost::urls::scheme::wss)
      return bad("wss:// is not supported yet, use ws://");
    return bad("scheme must be ws://, not " + std::string{view.scheme()}
               + "://");
  }
  if (!view.has_authority() || view.encoded_host().empty())
    return bad("host is missing");
  if (view.has_userinfo())
    return bad("credentials in the URL are not supported");
  if (view.has_fragment())
    return bad("a WebSocket URL cannot have a fragment");
  connect_request result;
  switch (view.host_type()) {
    case boost::urls::host_type::ipv6:
      result.host = view.encoded_host_address();
      break;
    case boost::urls::host_type::ipvfuture:
      return bad("IPvFuture addresses are not supported");
    default:
      result.host = view.host_address();
  }
  if (view.has_port()) {
    // The grammar admits any run of digits; TCP ports stop at 65535.
    std::string digits{view.port()};
    if (digits.empty() || digits.size() > 5 || std::stoul(digits) == 0
        || std::stoul(digits) > 65535)
      return bad("port " + quoted(digits) + " is not valid");
    result.port = std::to_string(std::stoul(digits));
  } else {
    result.port = "80";
  }
  result.host_header = std::string{view.encoded_host_and_port()};
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
  result.handshake_timeout = opts.handshake_timeout;
  result.write_timeout = opts.write_timeout;
  result.close_timeout = opts.close_timeout;
  result.max_message_size = opts.max_message_size;
  return result;
}

} // namespace wsm::detail

// From a URL and options to a checked connect_request: the URL is parsed
// here, the options checked in request_checks.cpp; everything that can be
// wrong with them is found at spawn, before anything goes on the wire.

#include "vocabulary/wording.hpp"
#include "request/url.hpp"

#include <algorithm>
#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>

#include "request/proxy_route.hpp"
#include "request/request_checks.hpp"
#include "wsm/base64.hpp"
#include "wsm/error.hpp"

namespace wsm::detail {

caf::expected<std::string> resolve_redirect(const std::string& base,
                                            const std::string& location) {
  auto bad = [&location](const std::string& why) {
    return make_error(errc::invalid_url,
                      "redirect to " + quoted(redact_url(location)) + ": "
                        + why);
  };
  auto from = boost::urls::parse_uri(base);
  auto reference = boost::urls::parse_uri_reference(location);
  if (!from || !reference)
    return bad("not a URL");
  boost::urls::url result;
  if (!boost::urls::resolve(*from, *reference, result))
    return bad("cannot be resolved against " + quoted(base));
  switch (result.scheme_id()) {
    case boost::urls::scheme::http:
      result.set_scheme_id(boost::urls::scheme::ws);
      break;
    case boost::urls::scheme::https:
      result.set_scheme_id(boost::urls::scheme::wss);
      break;
    case boost::urls::scheme::ws:
    case boost::urls::scheme::wss:
      break;
    default:
      return bad("the scheme must be ws, wss, http or https");
  }
  result.remove_fragment();
  return std::string{result.buffer()};
}

caf::expected<connect_request> make_connect_request(const std::string& url,
                                                    const options& opts,
                                                    tls_files tls) {
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
    std::string digits{view.port()};
    result.port = canonical_port(digits);
    if (result.port.empty())
      return bad("port " + quoted(digits) + " is not valid");
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
  if (auto err = check_request_options(opts, result.secure, tls))
    return err;
  result.headers = opts.headers;
  if (view.has_userinfo()) {
    auto given = std::find_if(opts.headers.begin(), opts.headers.end(),
                              [](const header& h) {
                                return same_header_name(h.name,
                                                        "Authorization");
                              });
    if (given != opts.headers.end())
      return bad("it has credentials and an Authorization header is given "
                 "too; use one of them");
    // RFC 7617: user and password, percent-decoded, joined by a colon.
    result.headers.push_back(
      {"Authorization", "Basic " + base64_encode(std::string{view.user()} + ":"
                                          + std::string{view.password()})});
  }
  result.subprotocols = opts.subprotocols;
  result.deflate = opts.deflate;
  if (result.secure)
    result.tls = opts.tls;
  result.handshake_timeout = opts.handshake_timeout;
  result.write_timeout = opts.write_timeout;
  result.close_timeout = opts.close_timeout;
  result.max_message_size = opts.max_message_size;
  result.tcp_nodelay = opts.tcp_nodelay;
  result.url = (result.secure ? "wss://" : "ws://") + result.host_header
               + result.target;
  result.local_address = opts.local_address;
  auto proxy = choose_proxy(opts.proxy, result.secure, result.host);
  if (!proxy)
    return std::move(proxy.error());
  if (proxy->kind == proxy_kind::https && result.secure)
    return make_error(errc::invalid_option,
                      "proxy " + quoted(proxy->name())
                        + ": wss:// through an https:// proxy (TLS inside "
                          "TLS) is not supported; use http://, whose tunnel "
                          "carries the TLS to the server just the same");
  result.proxy = std::move(*proxy);
  // TLS to an https:// proxy checks its certificate the same way.
  if (result.proxy.kind == proxy_kind::https)
    result.tls = opts.tls;
  result.connect_timeout = opts.connect_timeout;
  result.connect_attempt_delay = opts.connect_attempt_delay;
  return result;
}

} // namespace wsm::detail

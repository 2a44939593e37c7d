// Choosing the proxy of a connection: the option, or the environment's
// variables as curl reads them, with no_proxy's exemptions.

#include "request/proxy_route.hpp"

#include <cstdlib>
#include <sstream>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "request/request_checks.hpp"
#include "request/url_text.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm::detail {

std::string process_environment(const char* name) {
  auto value = std::getenv(name);
  return value ? value : "";
}

namespace {

std::string lower(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return x;
}

std::string upper(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return x;
}

} // namespace

caf::expected<proxy_route> parse_proxy(const std::string& text) {
  if (text == "none")
    return proxy_route{};
  auto bad = [&text](const std::string& why) {
    return make_error(errc::invalid_option,
                      "proxy " + quoted(redact_url(text)) + ": " + why);
  };
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed)
    return bad("not a URL of the form http://[user:password@]host:port "
               "(or https://, socks5://, socks5h://), nor none");
  auto& view = *parsed;
  proxy_route result;
  auto scheme = lower(std::string{view.scheme()});
  std::string default_port;
  if (scheme == "http") {
    result.kind = proxy_kind::http;
    default_port = "80";
  } else if (scheme == "https") {
    result.kind = proxy_kind::https;
    default_port = "443";
  } else if (scheme == "socks5") {
    result.kind = proxy_kind::socks5;
    default_port = "1080";
  } else if (scheme == "socks5h") {
    result.kind = proxy_kind::socks5h;
    default_port = "1080";
  } else {
    return bad("the scheme must be http, https, socks5 or socks5h, not "
               + quoted(scheme));
  }
  if (view.encoded_host().empty())
    return bad("the host is missing");
  if (!view.encoded_path().empty() && view.encoded_path() != "/")
    return bad("a proxy URL has no path");
  result.host = view.host_type() == boost::urls::host_type::ipv6
                  ? std::string{view.encoded_host_address()}
                  : std::string{view.host_address()};
  if (view.has_port()) {
    std::string digits{view.port()};
    result.port = canonical_port(digits);
    if (result.port.empty())
      return bad("port " + quoted(digits) + " is not valid");
  } else {
    result.port = default_port;
  }
  if (view.has_userinfo()) {
    result.user = std::string{view.user()};
    result.password = std::string{view.password()};
    if (result.user.size() > 255 || result.password.size() > 255)
      return bad("SOCKS5 and this library take user names and passwords "
                 "of at most 255 bytes");
  }
  return result;
}

namespace {

/// The variable `name` in lower case, else in upper case, and which it was.
std::pair<std::string, std::string> lookup(const environment_lookup& env,
                                           const std::string& name) {
  for (auto& spelled : {lower(name), upper(name)})
    if (auto value = env(spelled.c_str()); !value.empty())
      return {spelled, value};
  return {};
}

} // namespace

bool is_exempt(const std::string& no_proxy, const std::string& host) {
  auto name = lower(host);
  if (!name.empty() && name.back() == '.')
    name.pop_back();
  std::istringstream in{no_proxy};
  std::string entry;
  while (std::getline(in, entry, ',')) {
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    entry = lower(entry);
    if (entry.empty())
      continue;
    if (entry == "*")
      return true;
    // [::1] as an entry is ::1.
    if (entry.size() > 2 && entry.front() == '[' && entry.back() == ']')
      entry = entry.substr(1, entry.size() - 2);
    if (entry.front() == '.')
      entry.erase(0, 1);
    if (name == entry)
      return true;
    // A name entry covers its subdomains; an address only itself.
    if (!is_ip_address(entry) && name.size() > entry.size()
        && name.compare(name.size() - entry.size(), entry.size(), entry) == 0
        && name[name.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

caf::expected<proxy_route> choose_proxy(const std::string& option,
                                        bool secure, const std::string& host,
                                        const environment_lookup& env) {
  if (!option.empty())
    return parse_proxy(option);
  static constexpr const char* for_ws[] = {"ws_proxy", "http_proxy",
                                            "all_proxy"};
  static constexpr const char* for_wss[] = {"wss_proxy", "https_proxy",
                                             "all_proxy"};
  std::pair<std::string, std::string> found;
  for (auto name : secure ? for_wss : for_ws)
    if (found = lookup(env, name); !found.second.empty())
      break;
  if (found.second.empty())
    return proxy_route{};
  if (is_exempt(lookup(env, "no_proxy").second, host))
    return proxy_route{};
  auto result = parse_proxy(found.second);
  if (!result)
    return make_error(errc::invalid_option,
                      "environment variable " + found.first + ": "
                        + describe(result.error()));
  return result;
}

} // namespace wsm::detail

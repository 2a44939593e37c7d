// From a URL and options to what goes on the wire: host, port, Host header,
// target, credentials, headers, subprotocols, deflate parameters and TLS
// files, each refused at spawn with an error that names it.

#define CAF_SUITE url

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <map>

#include <caf/deep_to_string.hpp>

#include "request/extension_answer.hpp"
#include "request/proxy_protocol.hpp"
#include "request/proxy_route.hpp"
#include "support/test_pki.hpp"
#include "request/url.hpp"
#include "wsm/base64.hpp"
#include "wsm/error.hpp"

using wsm::detail::make_connect_request;

namespace {

/// The request for `url` with default options; fails the test if refused.
wsm::connect_request request_for(const std::string& url,
                                 const wsm::options& opts = {}) {
  auto result = make_connect_request(url, opts);
  if (!result)
    CAF_FAIL("refused " << url << ": " << wsm::describe(result.error()));
  return *result;
}

/// Why `url` with `opts` is refused; fails the test if accepted.
std::string refusal(const std::string& url, const wsm::options& opts = {}) {
  auto result = make_connect_request(url, opts);
  if (result)
    CAF_FAIL("accepted " << url);
  return wsm::describe(result.error());
}

wsm::options with_header(std::string name, std::string value) {
  wsm::options result;
  result.headers.push_back({std::move(name), std::move(value)});
  return result;
}

} // namespace

CAF_TEST(default ports stay out of the Host header) {
  auto plain = request_for("ws://feed.example/live");
  CAF_CHECK_EQUAL(plain.port, "80");
  CAF_CHECK_EQUAL(plain.host_header, "feed.example");
  CAF_CHECK(!plain.secure);
  auto secure = request_for("wss://feed.example/live");
  CAF_CHECK_EQUAL(secure.port, "443");
  CAF_CHECK_EQUAL(secure.host_header, "feed.example");
  CAF_CHECK(secure.secure);
  auto explicit_default = request_for("wss://feed.example:443/");
  CAF_CHECK_EQUAL(explicit_default.host_header, "feed.example");
  auto other = request_for("wss://feed.example:8443/");
  CAF_CHECK_EQUAL(other.port, "8443");
  CAF_CHECK_EQUAL(other.host_header, "feed.example:8443");
}

CAF_TEST(paths and queries become the target) {
  CAF_CHECK_EQUAL(request_for("ws://h").target, "/");
  CAF_CHECK_EQUAL(request_for("ws://h/a/b%20c?x=1&y=%2F").target,
                  "/a/b%20c?x=1&y=%2F");
  CAF_CHECK_EQUAL(request_for("ws://h?only=query").target, "/?only=query");
}

CAF_TEST(IPv6 literals connect without brackets and keep them in Host) {
  auto loopback = request_for("ws://[::1]:9001/echo");
  CAF_CHECK_EQUAL(loopback.host, "::1");
  CAF_CHECK_EQUAL(loopback.port, "9001");
  CAF_CHECK_EQUAL(loopback.host_header, "[::1]:9001");
  CAF_CHECK_EQUAL(request_for("wss://[2001:db8::7]/").host_header,
                  "[2001:db8::7]");
}

CAF_TEST(base64 follows RFC 4648) {
  auto base64 = [](const std::string& x) { return wsm::base64_encode(x); };
  CAF_CHECK_EQUAL(base64(""), "");
  CAF_CHECK_EQUAL(base64("f"), "Zg==");
  CAF_CHECK_EQUAL(base64("fo"), "Zm8=");
  CAF_CHECK_EQUAL(base64("foo"), "Zm9v");
  CAF_CHECK_EQUAL(base64("foob"), "Zm9vYg==");
  CAF_CHECK_EQUAL(base64("fooba"), "Zm9vYmE=");
  CAF_CHECK_EQUAL(base64("foobar"), "Zm9vYmFy");
  CAF_CHECK_EQUAL(base64("\xff\xfe"), "//4=");
}

CAF_TEST(base64 decodes what it encodes and names what is not base64) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i)
    every_byte += static_cast<char>(i);
  for (size_t n = 0; n <= every_byte.size(); n += 37) {
    auto x = every_byte.substr(0, n) + "\n\r";
    auto back = wsm::base64_decode(wsm::base64_encode(x));
    CAF_REQUIRE(back);
    CAF_CHECK_EQUAL(*back, x);
  }
  auto padded = wsm::base64_decode("Zm9vYg==");
  CAF_REQUIRE(padded);
  CAF_CHECK_EQUAL(*padded, "foob");
  auto describe = [](const char* text) {
    auto x = wsm::base64_decode(text);
    return x ? std::string{"decoded"} : wsm::describe(x.error());
  };
  CAF_CHECK_EQUAL(describe("Zm9"), "not base64: 3 characters, not a multiple of 4");
  CAF_CHECK_EQUAL(describe("Zm9v!A=="), "not base64: character 33 at position 5");
  CAF_CHECK_EQUAL(describe("Zg==Zm9v"), "not base64: '=' before the end at position 3");
  CAF_CHECK_EQUAL(describe("Z=9v"), "not base64: '=' before the end at position 2");
}

CAF_TEST(URL credentials become a Basic Authorization header) {
  auto request = request_for("wss://alice:s%40cret@feed.example/");
  CAF_REQUIRE_EQUAL(request.headers.size(), 1u);
  CAF_CHECK_EQUAL(request.headers[0].name, "Authorization");
  // "alice:s@cret", percent-decoded first.
  CAF_CHECK_EQUAL(request.headers[0].value, "Basic YWxpY2U6c0BjcmV0");
  CAF_CHECK_EQUAL(request.host_header, "feed.example");
  auto both = refusal("ws://alice:pw@h/", with_header("authorization", "x"));
  CAF_CHECK_EQUAL(both, "invalid URL 'ws://***@h/': it has credentials and "
                        "an Authorization header is given too; use one of "
                        "them");
}

CAF_TEST(a port is digits only) {
  // Found by fuzz_url: Boost.URL read "8080p/path" as port 8080 and path
  // "p/path".
  CAF_CHECK_EQUAL(refusal("ws://127.0.0.1:8080p/path"),
                  "invalid URL 'ws://127.0.0.1:8080p/path': the port must be "
                  "digits only, followed by '/', '?' or the end");
  CAF_CHECK_EQUAL(refusal("ws://h:+80/"),
                  "invalid URL 'ws://h:+80/': the port must be digits only, "
                  "followed by '/', '?' or the end");
}

CAF_TEST(errors never show credentials) {
  CAF_CHECK_EQUAL(refusal("ws://alice:hunter2@h:99999/"),
                  "invalid URL 'ws://***@h:99999/': port '99999' is not "
                  "valid");
  CAF_CHECK_EQUAL(refusal("http://alice:hunter2@h/"),
                  "invalid URL 'http://***@h/': scheme must be ws:// or "
                  "wss://, not http://");
  using wsm::detail::redact_url;
  CAF_CHECK_EQUAL(redact_url("ws://a:b@c@host/p@q"), "ws://***@host/p@q");
  CAF_CHECK_EQUAL(redact_url("ws://host/p@q"), "ws://host/p@q");
  CAF_CHECK_EQUAL(redact_url("not a url:pw@x"), "***@x");
}

CAF_TEST(rendered headers never show their values) {
  wsm::header secret{"Authorization", "Bearer hunter2"};
  auto text = caf::deep_to_string(secret);
  CAF_CHECK(text.find("Authorization") != std::string::npos);
  CAF_CHECK(text.find("hunter2") == std::string::npos);
  auto request = request_for("ws://alice:hunter2@h/");
  CAF_CHECK(caf::deep_to_string(request).find("aHVudGVyMg")
            == std::string::npos);
  CAF_CHECK(caf::deep_to_string(request).find("hunter2") == std::string::npos);
}

CAF_TEST(bad headers are refused with their name and never their value) {
  auto url = "ws://h/";
  CAF_CHECK_EQUAL(refusal(url, with_header("X-Token", "a\r\nInjected: yes")),
                  "header 'X-Token' has a value with CR, LF or NUL in it");
  CAF_CHECK_EQUAL(refusal(url, with_header("X-Token", std::string{"a\0b", 3})),
                  "header 'X-Token' has a value with CR, LF or NUL in it");
  CAF_CHECK_EQUAL(refusal(url, with_header("Bad Name", "x")),
                  "header name 'Bad Name' holds a character not allowed in a "
                  "name");
  CAF_CHECK_EQUAL(refusal(url, with_header("X:Y", "x")),
                  "header name 'X:Y' holds a character not allowed in a name");
  CAF_CHECK_EQUAL(refusal(url, with_header("", "x")), "header name is empty");
  CAF_CHECK_EQUAL(refusal(url, with_header("sec-websocket-protocol", "x")),
                  "header 'sec-websocket-protocol' cannot be set: offer "
                  "subprotocols with the subprotocols option");
  CAF_CHECK_EQUAL(refusal(url, with_header("Host", "elsewhere")),
                  "header 'Host' cannot be set: it comes from the URL");
  for (auto name : {"Upgrade", "Connection", "Sec-WebSocket-Key",
                    "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"})
    CAF_CHECK(refusal(url, with_header(name, "x")).find("cannot be set")
              != std::string::npos);
  // Anything else goes, User-Agent included.
  CAF_CHECK_EQUAL(request_for(url, with_header("User-Agent", "mine/1"))
                    .headers.size(),
                  1u);
}

CAF_TEST(subprotocols must be distinct tokens) {
  wsm::options opts;
  opts.subprotocols = {"chat.v2", "chat.v1"};
  CAF_CHECK(request_for("ws://h/", opts).subprotocols == opts.subprotocols);
  opts.subprotocols = {"chat v2"};
  CAF_CHECK_EQUAL(refusal("ws://h/", opts),
                  "subprotocol 'chat v2' is not a token (letters, digits and "
                  "!#$%&'*+-.^_`|~)");
  opts.subprotocols = {"a", "b", "a"};
  CAF_CHECK_EQUAL(refusal("ws://h/", opts), "subprotocol 'a' is offered twice");
  opts.subprotocols = {""};
  CAF_CHECK(refusal("ws://h/", opts).find("is not a token") != std::string::npos);
}

CAF_TEST(deflate parameters are checked when deflate is on) {
  wsm::options opts;
  opts.deflate.max_window_bits = 8;
  CAF_CHECK(make_connect_request("ws://h/", opts)); // off: not looked at
  opts.deflate.enabled = true;
  CAF_CHECK_EQUAL(refusal("ws://h/", opts),
                  "deflate max_window_bits 8 is not between 9 and 15");
  opts.deflate.max_window_bits = 12;
  opts.deflate.level = 10;
  CAF_CHECK_EQUAL(refusal("ws://h/", opts),
                  "deflate level 10 is not between 0 and 9");
  opts.deflate.level = 1;
  opts.deflate.mem_level = 0;
  CAF_CHECK_EQUAL(refusal("ws://h/", opts),
                  "deflate mem_level 0 is not between 1 and 9");
  opts.deflate.mem_level = 9;
  CAF_CHECK_EQUAL(request_for("ws://h/", opts).deflate.max_window_bits, 12);
  CAF_CHECK_EQUAL(request_for("ws://h/", opts).deflate.mem_level, 9);
}

CAF_TEST(TLS files are loaded at spawn and a bad one is named) {
  wsm_test::test_pki pki;
  auto client = pki.issue("client", "wsm test client", {},
                          wsm_test::test_pki::role::client);
  auto other = pki.issue("other", "other", {}, wsm_test::test_pki::role::client);
  wsm::options opts;
  opts.tls.ca_file = pki.ca_file();
  opts.tls.cert_file = client.cert_file;
  opts.tls.key_file = client.key_file;
  CAF_CHECK(request_for("wss://h/", opts).tls.ca_file == pki.ca_file());
  // ws:// never looks at them.
  opts.tls.ca_file = "/nonexistent/ca.pem";
  CAF_CHECK(make_connect_request("ws://h/", opts));
  CAF_CHECK_EQUAL(refusal("wss://h/", opts),
                  "tls ca_file '/nonexistent/ca.pem': No such file or "
                  "directory");
  opts.tls.ca_file = client.key_file;
  CAF_CHECK(refusal("wss://h/", opts).rfind("tls ca_file '" + client.key_file
                                              + "': no CA certificate in it",
                                            0)
            == 0);
  opts.tls.ca_file = pki.ca_file();
  opts.tls.key_file = other.key_file;
  CAF_CHECK_EQUAL(refusal("wss://h/", opts),
                  "tls key_file '" + other.key_file
                    + "': does not match the certificate in '"
                    + client.cert_file + "'");
  opts.tls.key_file.clear();
  CAF_CHECK_EQUAL(refusal("wss://h/", opts),
                  "tls cert_file is given without a key_file");
}

// -- the server's extension answer -------------------------------------------

CAF_TEST(an extension answer is checked against the offer) {
  auto check_extension_answer = [](std::string_view answer,
                                   const wsm::deflate_options& offered) {
    return wsm::detail::read_extension_answer(answer, offered).problem;
  };
  wsm::deflate_options off;
  wsm::deflate_options on;
  on.enabled = true;
  on.max_window_bits = 12;
  // Nothing accepted, or what was offered within its bounds: fine.
  CAF_CHECK_EQUAL(check_extension_answer("", off), "");
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; server_max_window_bits=12", on),
    "");
  // What was asked of the server must be in its answer: left out, the
  // server's window would be 15 bits and its context kept.
  CAF_CHECK_EQUAL(check_extension_answer("permessage-deflate", on),
                  "handshake: the server's permessage-deflate answer leaves "
                  "out server_max_window_bits, offered as 12");
  auto each_on_its_own = on;
  each_on_its_own.no_context_takeover = true;
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; server_max_window_bits=12",
                           each_on_its_own),
    "handshake: the server's permessage-deflate answer leaves out "
    "server_no_context_takeover, which was offered");
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; server_no_context_takeover; "
                           "client_no_context_takeover; "
                           "server_max_window_bits=10; "
                           "client_max_window_bits=\"12\"",
                           on),
    "");
  // Compression the client never offered, or another extension.
  CAF_CHECK_EQUAL(check_extension_answer("permessage-deflate", off),
                  "handshake: the server accepted extension "
                  "'permessage-deflate', which was not offered");
  CAF_CHECK_EQUAL(check_extension_answer(
                    "permessage-deflate; server_max_window_bits=12, x-webkit", on),
                  "handshake: the server accepted extension 'x-webkit', "
                  "which was not offered");
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; server_max_window_bits=12, "
                           "permessage-deflate; server_max_window_bits=12",
                           on),
    "handshake: the server accepted permessage-deflate twice");
  // Parameters not offered, repeated, or out of bounds.
  CAF_CHECK_EQUAL(check_extension_answer("permessage-deflate; mode=fast", on),
                  "handshake: the server's permessage-deflate answer has "
                  "parameter 'mode', which was not offered");
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; server_max_window_bits=15", on),
    "handshake: the server's permessage-deflate answer asks "
    "'server_max_window_bits' 15, more than the 12 offered");
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; client_max_window_bits=7", on),
    "handshake: the server's permessage-deflate answer gives "
    "'client_max_window_bits' the value '7', not a window size of 8 to 15");
  CAF_CHECK_EQUAL(
    check_extension_answer(
      "permessage-deflate; server_no_context_takeover; "
      "server_no_context_takeover",
      on),
    "handshake: the server's permessage-deflate answer names parameter "
    "'server_no_context_takeover' twice");
  // Text the parser cannot read is not skipped over.
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate; server_max_window_bits=10 x",
                           on),
    "handshake: the server's Sec-WebSocket-Extensions answer "
    "'permessage-deflate; server_max_window_bits=10 x' is not a list of "
    "extensions");
  CAF_CHECK_EQUAL(check_extension_answer(
                    "permessage-deflate; server_max_window_bits=12, {}", on),
                  "handshake: the server's Sec-WebSocket-Extensions answer "
                  "'permessage-deflate; server_max_window_bits=12, {}' is not "
                  "a list of extensions");
}

CAF_TEST(an extension answer accepts deflate as Beast reads it) {
  using wsm::detail::read_extension_answer;
  wsm::deflate_options on;
  on.enabled = true;
  on.max_window_bits = 15; // nothing the answer must name
  // Names without regard to case, empty list elements skipped: as Beast's
  // negotiation reads them, so the link says compressed when Beast
  // compresses.
  auto answer = read_extension_answer(
    " , Permessage-Deflate ; Server_No_Context_Takeover", on);
  CAF_CHECK_EQUAL(answer.problem, "");
  CAF_CHECK(answer.deflate);
  answer = read_extension_answer(
    "permessage-deflate; client_max_window_bits=\"10\" , ", on);
  CAF_CHECK_EQUAL(answer.problem, "");
  CAF_CHECK(answer.deflate);
  CAF_CHECK(!read_extension_answer("", on).deflate);
  // A refused answer says nothing is compressed.
  CAF_CHECK(!read_extension_answer("permessage-deflate; mode=fast", on).deflate);
}

CAF_TEST(our messages are compressed only where the answer binds our window) {
  using wsm::detail::read_extension_answer;
  wsm::deflate_options on;
  on.enabled = true;
  on.max_window_bits = 12;
  auto ours = [&](std::string_view answer) {
    auto result = read_extension_answer(answer, on);
    CAF_CHECK_EQUAL(result.problem, "");
    CAF_CHECK(result.deflate);
    return result.compress_ours;
  };
  // 12 bits offered: Beast compresses with the window the
  // answer names, 15 bits when it names none.
  CAF_CHECK(!ours("permessage-deflate; server_max_window_bits=12"));
  CAF_CHECK(ours("permessage-deflate; server_max_window_bits=12; "
                 "client_max_window_bits=12"));
  CAF_CHECK(ours("permessage-deflate; server_max_window_bits=10; "
                 "client_max_window_bits=9"));
  // Each message on its own asked of ourselves too.
  on.no_context_takeover = true;
  CAF_CHECK(!ours("permessage-deflate; server_max_window_bits=12; "
                  "client_max_window_bits=12; server_no_context_takeover"));
  CAF_CHECK(ours("permessage-deflate; server_max_window_bits=12; "
                 "client_max_window_bits=12; server_no_context_takeover; "
                 "client_no_context_takeover"));
  // 15 bits offered: the answer need name no window.
  on.no_context_takeover = false;
  on.max_window_bits = 15;
  CAF_CHECK(ours("permessage-deflate"));
}

// -- proxies: the option, the environment, no_proxy, what goes on the wire ----

namespace {

/// An environment of the given variables only.
wsm::detail::environment_lookup environment(
  std::map<std::string, std::string> variables) {
  return [variables](const char* name) {
    auto i = variables.find(name);
    return i == variables.end() ? std::string{} : i->second;
  };
}

std::string route_of(const std::string& option, bool secure,
                     const std::string& host,
                     std::map<std::string, std::string> variables) {
  auto route = wsm::detail::choose_proxy(option, secure, host,
                                         environment(std::move(variables)));
  if (!route)
    return "error: " + wsm::describe(route.error());
  if (route->kind == wsm::proxy_kind::none)
    return "direct";
  return std::to_string(static_cast<int>(route->kind)) + " " + route->name()
         + (route->user.empty() ? "" : " as " + route->user);
}

} // namespace

CAF_TEST(the proxy option is parsed and checked) {
  auto route = wsm::detail::parse_proxy("socks5h://bob:p%40ss@[::1]:1081");
  CAF_REQUIRE(route);
  CAF_CHECK(route->kind == wsm::proxy_kind::socks5h);
  CAF_CHECK_EQUAL(route->host, "::1");
  CAF_CHECK_EQUAL(route->name(), "[::1]:1081");
  CAF_CHECK_EQUAL(route->user, "bob");
  CAF_CHECK_EQUAL(route->password, "p@ss");
  auto plain = wsm::detail::parse_proxy("http://proxy.example");
  CAF_REQUIRE(plain);
  CAF_CHECK_EQUAL(plain->port, "80");
  CAF_CHECK(wsm::detail::parse_proxy("none")->kind == wsm::proxy_kind::none);
  auto refusal = [](const std::string& text) {
    return wsm::describe(wsm::detail::parse_proxy(text).error());
  };
  CAF_CHECK_EQUAL(refusal("ftp://h:21"),
                  "proxy 'ftp://h:21': the scheme must be http, https, socks5 "
                  "or socks5h, not 'ftp'");
  CAF_CHECK_EQUAL(refusal("http://alice:secret@h:99999"),
                  "proxy 'http://***@h:99999': port '99999' is not valid");
  CAF_CHECK_EQUAL(refusal("http://h:3128/path"),
                  "proxy 'http://h:3128/path': a proxy URL has no path");
}

CAF_TEST(the environment chooses the proxy as curl does) {
  std::map<std::string, std::string> env{{"http_proxy", "http://web:3128"},
                                         {"HTTPS_PROXY", "http://tls:3128"},
                                         {"all_proxy", "socks5://any:1080"}};
  // ws:// takes http_proxy, wss:// https_proxy (here in upper case).
  CAF_CHECK_EQUAL(route_of("", false, "feed.example", env), "1 web:3128");
  CAF_CHECK_EQUAL(route_of("", true, "feed.example", env), "1 tls:3128");
  // ws_proxy and wss_proxy come first.
  env["ws_proxy"] = "http://u:p@ws:8080";
  CAF_CHECK_EQUAL(route_of("", false, "feed.example", env), "1 ws:8080 as u");
  // all_proxy when nothing more specific is set.
  CAF_CHECK_EQUAL(route_of("", false, "feed.example", {{"all_proxy", "socks5://any:1080"}}),
                  "3 any:1080");
  // The option wins, and none means none.
  CAF_CHECK_EQUAL(route_of("none", false, "feed.example", env), "direct");
  CAF_CHECK_EQUAL(route_of("socks5h://s:1", false, "feed.example", env),
                  "4 s:1");
  // A bad variable is named.
  CAF_CHECK_EQUAL(route_of("", false, "feed.example", {{"http_proxy", "nonsense"}}),
                  "error: environment variable http_proxy: proxy 'nonsense': "
                  "not a URL of the form http://[user:password@]host:port (or "
                  "https://, socks5://, socks5h://), nor none");
  // no_proxy exempts names, their subdomains, addresses, or everything.
  env["no_proxy"] = "internal.example, .corp.example,10.0.0.1,[::1]";
  CAF_CHECK_EQUAL(route_of("", false, "internal.example", env), "direct");
  CAF_CHECK_EQUAL(route_of("", false, "a.internal.example", env), "direct");
  CAF_CHECK_EQUAL(route_of("", false, "corp.example", env), "direct");
  CAF_CHECK_EQUAL(route_of("", false, "x.corp.example", env), "direct");
  CAF_CHECK_EQUAL(route_of("", false, "notinternal.example", env),
                  "1 ws:8080 as u");
  CAF_CHECK_EQUAL(route_of("", false, "10.0.0.1", env), "direct");
  CAF_CHECK_EQUAL(route_of("", false, "10.0.0.10", env), "1 ws:8080 as u");
  CAF_CHECK_EQUAL(route_of("", false, "::1", env), "direct");
  CAF_CHECK(wsm::detail::is_exempt("*", "anything.example"));
  // The option is not subject to no_proxy: it was asked for.
  CAF_CHECK_EQUAL(route_of("http://p:1", false, "internal.example", env),
                  "1 p:1");
}

CAF_TEST(what goes to a proxy is byte for byte the protocol) {
  using namespace wsm::detail;
  CAF_CHECK_EQUAL(http_connect_request("::1", "8080", "alice", "s3cret", "wsm/1"),
                  "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n"
                  "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"
                  "User-Agent: wsm/1\r\n\r\n");
  CAF_CHECK_EQUAL(socks5_greeting(false), std::string("\x05\x01\x00", 3));
  CAF_CHECK_EQUAL(socks5_greeting(true), std::string("\x05\x02\x00\x02", 4));
  CAF_CHECK_EQUAL(socks5_login("bob", "pw"), std::string("\x01\x03" "bob" "\x02" "pw", 8));
  CAF_CHECK_EQUAL(socks5_connect_by_name("h.example", 443),
                  std::string("\x05\x01\x00\x03\x09" "h.example" "\x01\xbb", 16));
  uint8_t loopback[] = {127, 0, 0, 1};
  CAF_CHECK_EQUAL(socks5_connect_by_address(loopback, 4, 80),
                  std::string("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50", 10));
  CAF_CHECK_EQUAL(socks5_refusal(2).second, 403u);
  CAF_CHECK_EQUAL(socks5_refusal(5).first, "connection refused by the server (5)");
  CAF_CHECK_EQUAL(socks5_refusal(5).second, 502u);
}

CAF_TEST(a redirect resolves against the URL it came from) {
  using wsm::detail::resolve_redirect;
  std::string base = "ws://h.example:8080/a/b?x=1";
  auto to = [&](const std::string& location) -> std::string {
    auto result = resolve_redirect(base, location);
    return result ? *result : wsm::describe(result.error());
  };
  CAF_CHECK_EQUAL(to("/c"), "ws://h.example:8080/c");
  CAF_CHECK_EQUAL(to("c?y=2"), "ws://h.example:8080/a/c?y=2");
  CAF_CHECK_EQUAL(to("https://other.example/d#frag"), "wss://other.example/d");
  CAF_CHECK_EQUAL(to("//other.example:9/e"), "ws://other.example:9/e");
  CAF_CHECK_EQUAL(wsm::describe(resolve_redirect(base, "ftp://f/").error()),
                  "redirect to 'ftp://f/': the scheme must be ws, wss, http or "
                  "https");
}

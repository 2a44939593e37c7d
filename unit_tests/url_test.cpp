// From a URL and options to what goes on the wire: host, port, Host header,
// target, credentials, headers, subprotocols, deflate parameters and TLS
// files, each refused at spawn with an error that names it.

#define CAF_SUITE url

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <caf/deep_to_string.hpp>

#include "extension_answer.hpp"
#include "support/test_pki.hpp"
#include "url.hpp"
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
  using wsm::detail::base64;
  CAF_CHECK_EQUAL(base64(""), "");
  CAF_CHECK_EQUAL(base64("f"), "Zg==");
  CAF_CHECK_EQUAL(base64("fo"), "Zm8=");
  CAF_CHECK_EQUAL(base64("foo"), "Zm9v");
  CAF_CHECK_EQUAL(base64("foob"), "Zm9vYg==");
  CAF_CHECK_EQUAL(base64("fooba"), "Zm9vYmE=");
  CAF_CHECK_EQUAL(base64("foobar"), "Zm9vYmFy");
  CAF_CHECK_EQUAL(base64("\xff\xfe"), "//4=");
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
  CAF_CHECK_EQUAL(request_for("ws://h/", opts).deflate.max_window_bits, 12);
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
  using wsm::detail::check_extension_answer;
  wsm::deflate_options off;
  wsm::deflate_options on;
  on.enabled = true;
  on.max_window_bits = 12;
  // Nothing accepted, or what was offered within its bounds: fine.
  CAF_CHECK_EQUAL(check_extension_answer("", off), "");
  CAF_CHECK_EQUAL(check_extension_answer("permessage-deflate", on), "");
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
  CAF_CHECK_EQUAL(check_extension_answer("permessage-deflate, x-webkit", on),
                  "handshake: the server accepted extension 'x-webkit', "
                  "which was not offered");
  CAF_CHECK_EQUAL(
    check_extension_answer("permessage-deflate, permessage-deflate", on),
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
}

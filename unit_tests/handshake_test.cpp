// The handshake against real servers on loopback: wss:// with certificates
// made at test time (a trusted chain, an unknown CA, a wrong name, an
// expired certificate, a client certificate), subprotocols, permessage-
// deflate, the headers a server receives, and IPv6. Each case checks the
// statuses a subscriber sees.

#define CAF_SUITE handshake

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "echo_server.hpp"
#include "support/live_fixture.hpp"
#include "support/raw_peer.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_pki.hpp"
#include "wsm/version.hpp"

using namespace std::chrono_literals;
using wsm::state;
using wsm_test::event_timeout;
using wsm_test::test_pki;

namespace {

/// [::1] on `port`: a listener whose backlog one connection fills, so that
/// the kernel leaves every further SYN unanswered (an address that never
/// answers, on loopback).
class silent_listener {
public:
  /// One on `port`, or null when [::1]:`port` is taken (the kernel gave the
  /// IPv4 server a port that a socket on [::1] holds).
  static std::unique_ptr<silent_listener> on(uint16_t port) {
    std::unique_ptr<silent_listener> result{new silent_listener};
    sockaddr_in6 where{};
    where.sin6_family = AF_INET6;
    where.sin6_addr = in6addr_loopback;
    where.sin6_port = htons(port);
    auto address = reinterpret_cast<sockaddr*>(&where);
    // A connection of an earlier test's filler may linger in TIME_WAIT on
    // this port.
    int on = 1;
    setsockopt(result->listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(result->listener_, address, sizeof(where)) != 0)
      return nullptr;
    CAF_REQUIRE_EQUAL(listen(result->listener_, 0), 0);
    CAF_REQUIRE_EQUAL(connect(result->filler_, address, sizeof(where)), 0);
    return result;
  }

  ~silent_listener() {
    close(filler_);
    close(listener_);
  }

  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;

private:
  silent_listener() = default;

  int listener_ = socket(AF_INET6, SOCK_STREAM, 0);
  int filler_ = socket(AF_INET6, SOCK_STREAM, 0);
};

/// An echo server on 127.0.0.1 and a silent listener on [::1] at the same
/// port: the two addresses of two.test. The kernel picks the IPv4 port;
/// when that port is taken on [::1], the pair is made again.
struct two_addresses {
  two_addresses() {
    for (int tries = 0; tries < 20 && !silent; ++tries) {
      server = std::make_unique<wsm_echo::echo_server>();
      silent = silent_listener::on(server->port());
    }
    CAF_REQUIRE(silent != nullptr);
  }
  std::unique_ptr<wsm_echo::echo_server> server;
  std::unique_ptr<silent_listener> silent;
};

struct fixture : wsm_test::live_fixture {
  test_pki pki;
  test_pki::issued server_cert = pki.issue("server", "localhost",
                                           {"localhost", "127.0.0.1"});

  /// Server options for TLS with `cert`.
  static wsm_echo::server_options tls_server(const test_pki::issued& cert) {
    wsm_echo::server_options result;
    result.cert_file = cert.cert_file;
    result.key_file = cert.key_file;
    return result;
  }

  static std::string wss_url(const std::string& host, uint16_t port) {
    return "wss://" + host + ":" + std::to_string(port) + "/echo";
  }

  /// Expects one failed attempt: CONNECTING, then DISCONNECTED with
  /// `error`, then WAITING; returns the DISCONNECTED status.
  wsm::status expect_failed_attempt(const std::string& error,
                                    uint32_t attempt) {
    auto connecting = next_status();
    CAF_CHECK_EQUAL(connecting, (wsm::status{state::connecting, "", attempt}));
    auto failed = next_status();
    CAF_CHECK_EQUAL(std::string{wsm::to_string(failed.state)}, "DISCONNECTED");
    CAF_CHECK_EQUAL(failed.error, error);
    auto waiting = next_status();
    CAF_CHECK_EQUAL(std::string{wsm::to_string(waiting.state)}, "WAITING");
    CAF_CHECK_EQUAL(waiting.attempt, attempt);
    return failed;
  }

  /// A certificate failure is retried like any failed attempt, and fails
  /// the same way again.
  void expect_failed_twice(const std::string& error) {
    expect_failed_attempt(error, 1);
    expect_failed_attempt(error, 2);
  }

  /// Serves `cert` over TLS: a machine that trusts our CA fails to connect
  /// to `host` for `reason`, and again when it retries.
  void expect_refused_certificate(const test_pki::issued& cert,
                                  const std::string& host,
                                  const std::string& reason) {
    wsm_echo::echo_server server{tls_server(cert)};
    opts.tls.ca_file = pki.ca_file();
    opts.retry_delay = 20ms;
    auto machine = spawn(wss_url(host, server.port()));
    expect_failed_twice("TLS handshake: certificate verify failed: " + reason);
    quit(machine);
  }

  /// Echoes one message through `machine` and checks it comes back.
  void expect_echo(const wsm::machine_actor& machine, const std::string& x) {
    self->send(machine, wsm::output{x});
    CAF_CHECK_EQUAL(next_input().payload, x);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(handshake_tests, fixture)

CAF_TEST(a trusted chain connects and echoes by address and by name) {
  wsm_echo::echo_server server{tls_server(server_cert)};
  opts.tls.ca_file = pki.ca_file();
  for (auto host : {"127.0.0.1", "localhost"}) {
    auto machine = spawn(wss_url(host, server.port()));
    expect_state(state::connecting);
    auto up = next_status();
    CAF_CHECK_EQUAL(up, connected_to(wss_url(host, server.port()), 1, 1));
    expect_echo(machine, std::string{"over TLS to "} + host);
    // SNI names the host; an address is not a name and is not sent.
    CAF_CHECK_EQUAL(server.last_server_name(),
                    std::string{host} == "localhost" ? "localhost" : "");
    quit(machine);
  }
  CAF_CHECK_EQUAL(server.tls_failures(), 0u);
}

CAF_TEST(a CA directory is trusted like a CA file) {
  wsm_echo::echo_server server{tls_server(server_cert)};
  opts.tls.ca_path = pki.ca_dir();
  auto machine = spawn(wss_url("127.0.0.1", server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  expect_echo(machine, "trusted by directory");
  quit(machine);
}

CAF_TEST(an unknown CA fails with its reason and is retried) {
  test_pki stranger{"some other CA"};
  auto cert = stranger.issue("server", "localhost", {"127.0.0.1"});
  wsm_echo::echo_server server{tls_server(cert)};
  opts.tls.ca_file = pki.ca_file();
  opts.retry_delay = 20ms;
  opts.backoff_factor = 100; // no third attempt while stats are asked
  auto machine = spawn(wss_url("127.0.0.1", server.port()));
  expect_failed_twice("TLS handshake: certificate verify failed: unable to "
                      "get local issuer certificate");
  CAF_CHECK_EQUAL(server.connections(), 0u);
  self->request(machine, event_timeout, wsm::get_atom::value,
                wsm::stats_atom::value)
    .receive(
      [](const wsm::stats& x) {
        CAF_CHECK_EQUAL(x.disconnects.at(
                          static_cast<size_t>(wsm::close_cause::tls)),
                        2u);
      },
      [](caf::error& err) { CAF_FAIL("no stats: " << wsm::describe(err)); });
  quit(machine);
}

CAF_TEST(the system store does not trust a test CA) {
  wsm_echo::echo_server server{tls_server(server_cert)};
  opts.retry_delay = 20ms;
  auto machine = spawn(wss_url("127.0.0.1", server.port()));
  expect_failed_attempt("TLS handshake: certificate verify failed: unable to "
                        "get local issuer certificate",
                        1);
  quit(machine);
}

CAF_TEST(a wrong host name fails with its reason and is retried) {
  auto elsewhere = pki.issue("elsewhere", "feed.example", {"feed.example"});
  expect_refused_certificate(elsewhere, "localhost", "hostname mismatch");
  expect_refused_certificate(elsewhere, "127.0.0.1", "IP address mismatch");
}

CAF_TEST(an expired certificate fails with its reason and is retried) {
  auto expired = pki.issue("expired", "localhost", {"127.0.0.1"},
                           test_pki::role::server, -48 * 3600, -24 * 3600);
  expect_refused_certificate(expired, "127.0.0.1", "certificate has expired");
}

CAF_TEST(insecure_skip_verify connects to any certificate) {
  test_pki stranger{"some other CA"};
  auto cert = stranger.issue("server", "feed.example", {"feed.example"},
                             test_pki::role::server, -48 * 3600, -24 * 3600);
  wsm_echo::echo_server server{tls_server(cert)};
  opts.tls.insecure_skip_verify = true;
  auto machine = spawn(wss_url("127.0.0.1", server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  expect_echo(machine, "unverified");
  quit(machine);
}

CAF_TEST(a client certificate is presented when the server asks) {
  auto client = pki.issue("client", "wsm test client", {},
                          test_pki::role::client);
  auto server_opts = tls_server(server_cert);
  server_opts.client_ca_file = pki.ca_file();
  wsm_echo::echo_server server{server_opts};
  opts.tls.ca_file = pki.ca_file();
  opts.retry_delay = 20ms;
  // Without one the server ends the TLS session: a failed attempt.
  auto anonymous = spawn(wss_url("127.0.0.1", server.port()));
  expect_state(state::connecting);
  auto refused = next_status();
  CAF_CHECK_EQUAL(std::string{wsm::to_string(refused.state)}, "DISCONNECTED");
  CAF_CHECK_EQUAL(refused.error, "handshake: TLS: tlsv13 alert certificate "
                                 "required (SSL routines)");
  quit(anonymous);
  CAF_CHECK_EQUAL(server.connections(), 0u);
  opts.tls.cert_file = client.cert_file;
  opts.tls.key_file = client.key_file;
  auto machine = spawn(wss_url("127.0.0.1", server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  CAF_CHECK_EQUAL(server.last_client_certificate(), "CN=wsm test client");
  expect_echo(machine, "with a certificate");
  quit(machine);
}

CAF_TEST(the subprotocol the server chose is in CONNECTED) {
  wsm_echo::server_options server_opts;
  server_opts.subprotocols = {"chat.v1", "chat.v2"};
  wsm_echo::echo_server server{server_opts};
  opts.subprotocols = {"chat.v2", "chat.v1"};
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  auto up = next_status();
  CAF_CHECK_EQUAL(std::string{wsm::to_string(up.state)}, "CONNECTED");
  // The server picks the first of our offer that it speaks.
  CAF_CHECK_EQUAL(up.subprotocol, "chat.v2");
  CAF_CHECK_EQUAL(server.last_request_header("Sec-WebSocket-Protocol"),
                  "chat.v2, chat.v1");
  expect_echo(machine, "in chat.v2");
  quit(machine);
}

CAF_TEST(a server that speaks none of the offer connects without one) {
  wsm_echo::server_options server_opts;
  server_opts.subprotocols = {"mqtt"};
  wsm_echo::echo_server server{server_opts};
  opts.subprotocols = {"chat.v2"};
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  auto up = next_status();
  CAF_CHECK_EQUAL(up, connected_to(url_of(server.port()), 1, 1));
  quit(machine);
}

CAF_TEST(a subprotocol that was not offered fails the handshake) {
  wsm_echo::server_options server_opts;
  server_opts.force_subprotocol = "evil";
  wsm_echo::echo_server server{server_opts};
  opts.subprotocols = {"chat.v2"};
  opts.retry_delay = 20ms;
  auto machine = spawn(url_of(server.port()));
  expect_failed_twice("handshake: the server chose subprotocol 'evil', which "
                      "was not offered");
  quit(machine);
  // Offering nothing, any choice is one that was not offered.
  opts.subprotocols.clear();
  machine = spawn(url_of(server.port()));
  expect_failed_attempt("handshake: the server chose subprotocol 'evil', "
                        "which was not offered",
                        1);
  quit(machine);
}

CAF_TEST(permessage deflate compresses both ways when negotiated) {
  wsm_echo::server_options server_opts;
  server_opts.deflate = true;
  wsm_echo::echo_server server{server_opts};
  wsm_test::tcp_proxy proxy{server.port()};
  opts.deflate.enabled = true;
  opts.deflate.max_window_bits = 12;
  auto machine = spawn(url_of(proxy.port()));
  expect_state(state::connecting);
  auto up = next_status();
  CAF_CHECK(up.compressed);
  auto offer = server.last_request_header("Sec-WebSocket-Extensions");
  CAF_CHECK(offer.find("permessage-deflate") != std::string::npos);
  CAF_CHECK(offer.find("client_max_window_bits=12") != std::string::npos);
  std::string payload;
  for (int i = 0; i < 4096; ++i)
    payload += "tick " + std::to_string(i % 8) + " ";
  expect_echo(machine, payload);
  // 32 KiB of repetitive text each way, a few hundred bytes on the wire.
  CAF_CHECK_LESS(proxy.bytes_to_server(), payload.size() / 10);
  CAF_CHECK_LESS(proxy.bytes_to_client(), payload.size() / 10);
  quit(machine);
}

CAF_TEST(deflate asks both sides for an 11 bit window by default) {
  wsm_echo::server_options server_opts;
  server_opts.deflate = true;
  wsm_echo::echo_server server{server_opts};
  wsm_test::tcp_proxy proxy{server.port()};
  opts.deflate.enabled = true;
  auto machine = spawn(url_of(proxy.port()));
  expect_state(state::connecting);
  CAF_CHECK(next_status().compressed);
  CAF_CHECK_EQUAL(server.last_request_header("Sec-WebSocket-Extensions"),
                  "permessage-deflate; server_max_window_bits=11; "
                  "client_max_window_bits=11");
  std::string payload;
  for (int i = 0; i < 2048; ++i)
    payload += "{\"n\":" + std::to_string(i % 16) + "} ";
  expect_echo(machine, payload);
  CAF_CHECK_LESS(proxy.bytes_to_server(), payload.size() / 10);
  CAF_CHECK_LESS(proxy.bytes_to_client(), payload.size() / 10);
  quit(machine);
}

CAF_TEST(a deflate answer that leaves out what was asked of the server fails) {
  opts.deflate.enabled = true;
  opts.retry_delay = 20ms;
  wsm_test::raw_script script;
  script.deflate = true;
  script.deflate_answer = "permessage-deflate; client_max_window_bits=11";
  {
    wsm_test::raw_peer peer{script};
    auto machine = spawn(url_of(peer.port()));
    expect_failed_attempt("handshake: the server's permessage-deflate answer "
                          "leaves out server_max_window_bits, offered as 11",
                          1);
    quit(machine);
  }
  // Each message on its own was asked, and the answer does not promise it.
  opts.deflate.no_context_takeover = true;
  script.deflate_answer = "permessage-deflate; server_max_window_bits=11; "
                          "client_max_window_bits=11; "
                          "client_no_context_takeover";
  wsm_test::raw_peer peer{script};
  auto machine = spawn(url_of(peer.port()));
  expect_failed_attempt("handshake: the server's permessage-deflate answer "
                        "leaves out server_no_context_takeover, which was "
                        "offered",
                        1);
  quit(machine);
}

CAF_TEST(our messages go uncompressed where the answer leaves our window open) {
  opts.deflate.enabled = true;
  opts.close_timeout = 200ms; // the raw peer never answers our close frame
  wsm_test::raw_script script;
  script.deflate = true;
  // The server's own messages come compressed all the same.
  script.bytes = wsm_test::frame(2, wsm_test::deflated("from the server"),
                                 true);
  auto send_and_see = [&](const std::string& answer) {
    script.deflate_answer = answer;
    wsm_test::raw_peer peer{script};
    auto machine = spawn(url_of(peer.port()));
    expect_state(state::connecting);
    CAF_CHECK(next_status().compressed);
    CAF_CHECK_EQUAL(next_input().payload, "from the server");
    self->send(machine, wsm::output{std::string(4096, 'a')});
    CAF_CHECK(peer.wait_for_data_frames(1, 5s));
    auto seen = peer.data_frames_compressed();
    quit(machine);
    CAF_REQUIRE_EQUAL(seen.size(), 1u);
    return static_cast<bool>(seen.front());
  };
  // client_max_window_bits left out: Beast would compress with 15 bits.
  CAF_CHECK(!send_and_see("permessage-deflate; server_max_window_bits=11"));
  // Bound to what was offered: compressed.
  CAF_CHECK(send_and_see("permessage-deflate; server_max_window_bits=11; "
                         "client_max_window_bits=11"));
}

CAF_TEST(without deflate nothing is offered and nothing is compressed) {
  wsm_echo::server_options server_opts;
  server_opts.deflate = true;
  wsm_echo::echo_server server{server_opts};
  wsm_test::tcp_proxy proxy{server.port()};
  auto machine = spawn(url_of(proxy.port()));
  expect_state(state::connecting);
  CAF_CHECK(!next_status().compressed);
  CAF_CHECK_EQUAL(server.last_request_header("Sec-WebSocket-Extensions"), "");
  std::string payload(32 * 1024, 'x');
  expect_echo(machine, payload);
  CAF_CHECK_GREATER(proxy.bytes_to_server(), payload.size());
  quit(machine);
}

CAF_TEST(the server receives our headers and the URL credentials) {
  wsm_echo::echo_server server;
  opts.headers.push_back({"X-Api-Key", "k-123"});
  opts.headers.push_back({"X-Trace", "one"});
  auto machine = spawn("ws://alice:s%40cret@127.0.0.1:"
                       + std::to_string(server.port()) + "/echo?depth=1");
  expect_state(state::connecting);
  auto up = next_status();
  // The status shows the URL without its credentials.
  CAF_CHECK_EQUAL(up, connected_to(url_of(server.port(), "/echo?depth=1"), 1,
                                   1));
  CAF_CHECK_EQUAL(server.last_request_header("User-Agent"),
                  std::string{"wsm/"} + wsm::version);
  CAF_CHECK_EQUAL(server.last_request_header("X-Api-Key"), "k-123");
  CAF_CHECK_EQUAL(server.last_request_header("Authorization"),
                  "Basic YWxpY2U6c0BjcmV0");
  CAF_CHECK_EQUAL(server.last_request_header("Host"),
                  "127.0.0.1:" + std::to_string(server.port()));
  quit(machine);
}

CAF_TEST(our User-Agent can be replaced) {
  wsm_echo::echo_server server;
  opts.headers.push_back({"User-Agent", "feed-reader/2.1"});
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  CAF_CHECK_EQUAL(server.last_request_header("User-Agent"), "feed-reader/2.1");
  quit(machine);
}

CAF_TEST(a header refused at spawn sends nothing) {
  wsm_test::tcp_proxy proxy{1}; // nothing listens behind it
  opts.headers.push_back({"X-Token", "a\r\nInjected: yes"});
  auto result = wsm::spawn_machine(sys, url_of(proxy.port()), opts);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(wsm::describe(result.error()),
                  "header 'X-Token' has a value with CR, LF or NUL in it");
  CAF_CHECK_EQUAL(proxy.connections(), 0u);
}

CAF_TEST(IPv6 loopback connects and echoes where the machine has it) {
  wsm_echo::server_options server_opts;
  server_opts.address = "::1";
  std::unique_ptr<wsm_echo::echo_server> server;
  try {
    server = std::make_unique<wsm_echo::echo_server>(server_opts);
  } catch (const std::exception& e) {
    CAF_MESSAGE("no IPv6 loopback here (" << e.what() << "): skipped");
    return;
  }
  auto machine = spawn("ws://[::1]:" + std::to_string(server->port())
                       + "/echo");
  expect_state(state::connecting);
  expect_state(state::connected);
  CAF_CHECK_EQUAL(server->last_request_header("Host"),
                  "[::1]:" + std::to_string(server->port()));
  expect_echo(machine, "over IPv6");
  quit(machine);
}

// -- what the server answers: extensions and redirects ------------------------

CAF_TEST(an extension that was not offered fails the attempt by name) {
  wsm_echo::server_options server_opts;
  server_opts.force_extension = "permessage-deflate";
  wsm_echo::echo_server server{server_opts};
  opts.retry_delay = 50ms;
  auto machine = spawn(url_of(server.port()));
  auto error = "handshake: the server accepted extension "
               "'permessage-deflate', which was not offered";
  auto failed = expect_failed_attempt(error, 1);
  CAF_CHECK_EQUAL(failed.epoch, 0u);
  // Retried like other handshake failures.
  expect_failed_attempt(error, 2);
  quit(machine);
}

CAF_TEST(redirects are followed within one attempt: relative and absolute) {
  wsm_echo::server_options server_opts;
  server_opts.redirects = {{"/a", 301, "/b"},
                           {"/b", 302, "http://127.0.0.1:{port}/c"},
                           {"/c", 307, "d?x=1"},
                           {"/d?x=1", 308, "/echo"}};
  wsm_echo::echo_server server{server_opts};
  auto machine = spawn(url_of(server.port(), "/a"));
  // One CONNECTING for the whole chain.
  CAF_CHECK_EQUAL(next_status(), (wsm::status{state::connecting, "", 1, 0}));
  auto up = next_status();
  auto expected = connected_to(url_of(server.port()), 1, 1);
  expected.redirects = {url_of(server.port(), "/b"), url_of(server.port(), "/c"),
                        url_of(server.port(), "/d?x=1"),
                        url_of(server.port())};
  CAF_CHECK_EQUAL(up, expected);
  expect_echo(machine, "after four redirects");
  quit(machine);
}

CAF_TEST(a redirect loop fails the attempt at max_redirects and is retried) {
  wsm_echo::server_options server_opts;
  server_opts.redirects = {{"/loop", 307, "/loop"}};
  wsm_echo::echo_server server{server_opts};
  opts.retry_delay = 50ms;
  opts.max_redirects = 3;
  auto machine = spawn(url_of(server.port(), "/loop"));
  auto failed = expect_failed_attempt("too many redirects (3)", 1);
  CAF_CHECK_EQUAL(failed.http_status, 307u);
  CAF_CHECK_EQUAL(failed.redirects.size(), 3u);
  // Each attempt starts again from the URL the machine was given.
  expect_failed_attempt("too many redirects (3)", 2);
  quit(machine);
}

CAF_TEST(max_redirects 0 refuses a redirect as any other refusal) {
  wsm_echo::server_options server_opts;
  server_opts.redirects = {{"/old", 301, "/echo"}};
  wsm_echo::echo_server server{server_opts};
  opts.max_redirects = 0;
  auto machine = spawn(url_of(server.port(), "/old"));
  self->monitor(machine);
  expect_state(state::connecting);
  auto down = next_status();
  CAF_CHECK_EQUAL(down.error, "handshake rejected: HTTP 301 Moved Permanently");
  self->receive([](const caf::down_msg&) {},
                caf::after(event_timeout) >> [] {
                  CAF_FAIL("the machine did not end");
                });
}

CAF_TEST(wss is never redirected to ws) {
  auto server_opts = tls_server(server_cert);
  server_opts.redirects = {{"/echo", 308, "ws://127.0.0.1:{port}/plain"}};
  wsm_echo::echo_server server{server_opts};
  opts.tls.ca_file = pki.ca_file();
  opts.retry_delay = 50ms;
  auto machine = spawn(wss_url("127.0.0.1", server.port()));
  expect_failed_attempt("redirect from wss:// to ws://127.0.0.1:"
                          + std::to_string(server.port())
                          + "/plain refused: it would drop TLS",
                        1);
  quit(machine);
}

CAF_TEST(credentials follow a redirect to the same origin only) {
  wsm_echo::echo_server elsewhere;
  wsm_echo::server_options server_opts;
  server_opts.redirects = {
    {"/here", 302, "/echo"},
    {"/away", 302,
     "ws://127.0.0.1:" + std::to_string(elsewhere.port()) + "/echo"}};
  wsm_echo::echo_server server{server_opts};
  auto with_credentials = [&](const std::string& path) {
    return "ws://alice:secret@127.0.0.1:" + std::to_string(server.port())
           + path;
  };
  auto same = spawn(with_credentials("/here"));
  expect_state(state::connecting);
  expect_state(state::connected);
  CAF_CHECK_EQUAL(server.last_request_header("Authorization"),
                  "Basic YWxpY2U6c2VjcmV0");
  quit(same);
  auto other = spawn(with_credentials("/away"));
  expect_state(state::connecting);
  auto up = next_status();
  CAF_CHECK_EQUAL(up.url, url_of(elsewhere.port()));
  CAF_CHECK_EQUAL(elsewhere.last_request_header("Authorization"), "");
  quit(other);
  // Nor does an Authorization header of the options.
  opts.headers = {{"Authorization", "Bearer t0ken"}};
  auto bearer = spawn(url_of(server.port(), "/away"));
  expect_state(state::connecting);
  expect_state(state::connected);
  CAF_CHECK_EQUAL(elsewhere.last_request_header("Authorization"), "");
  quit(bearer);
}

CAF_TEST(local_address is the address connections come from) {
  wsm_echo::echo_server server;
  opts.local_address = "127.0.0.2";
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  CAF_CHECK_EQUAL(server.last_peer_address(), "127.0.0.2");
  quit(machine);
  // An IPv6 source cannot reach an IPv4 address: said, and retried.
  opts.local_address = "::1";
  opts.retry_delay = 50ms;
  auto stranded = spawn(url_of(server.port()));
  expect_failed_attempt("connect: 127.0.0.1 has no IPv6 address to reach "
                        "from local_address ::1",
                        1);
  quit(stranded);
  // Not an address: refused at spawn, by name.
  opts.local_address = "eth0";
  auto refused = wsm::spawn_machine(sys, url_of(server.port()), opts);
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(wsm::describe(refused.error()),
                  "local_address 'eth0' is not an IP address (write it like "
                  "127.0.0.2 or ::1)");
}

CAF_TEST(happy eyeballs: the second address wins when the first never answers) {
  // ctest runs this with /etc/hosts of support/eyeballs_hosts.
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  CAF_REQUIRE_EQUAL(getaddrinfo("two.test", "80", &hints, &found), 0);
  std::vector<int> families;
  for (auto i = found; i != nullptr; i = i->ai_next)
    families.push_back(i->ai_family);
  freeaddrinfo(found);
  CAF_REQUIRE_EQUAL(families, (std::vector<int>{AF_INET6, AF_INET}));
  two_addresses both;
  auto& server = *both.server;
  opts.connect_attempt_delay = 300ms;
  opts.connect_timeout = 5s;
  auto started = std::chrono::steady_clock::now();
  auto machine = spawn("ws://two.test:" + std::to_string(server.port())
                       + "/echo");
  expect_state(state::connecting);
  expect_state(state::connected);
  auto took = std::chrono::steady_clock::now() - started;
  // The IPv4 address was tried once the delay passed, and won.
  CAF_CHECK_GREATER_OR_EQUAL(took, 300ms);
  CAF_CHECK_LESS(took, 3s);
  CAF_CHECK_EQUAL(server.last_peer_address(), "127.0.0.1");
  expect_echo(machine, "over the second address");
  quit(machine);
}

CAF_TEST(happy eyeballs: connect_timeout bounds each address) {
  two_addresses both;
  auto& server = *both.server;
  // The next address waits longer than the first may take: the first's
  // timeout starts it, sooner than the delay would.
  opts.connect_attempt_delay = 5s;
  opts.connect_timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto machine = spawn("ws://two.test:" + std::to_string(server.port())
                       + "/echo");
  expect_state(state::connecting);
  expect_state(state::connected);
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK_GREATER_OR_EQUAL(took, 200ms);
  CAF_CHECK_LESS(took, 2s);
  quit(machine);
}

CAF_TEST_FIXTURE_SCOPE_END()

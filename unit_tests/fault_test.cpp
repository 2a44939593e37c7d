// Fault injection on loopback: a TCP proxy that blackholes, resets or
// delays, and servers that stall the handshake, refuse it, close with a
// code, send an oversized message or stop reading. Each case checks the
// states, the reason, the reconnect, and that every output sent as a
// request was answered: written, or an error saying why not.

#define CAF_SUITE fault

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>

#include "echo_server.hpp"
#include "support/live_fixture.hpp"
#include "support/tcp_proxy.hpp"

using namespace std::chrono_literals;
using wsm::state;
using wsm_test::event_timeout;
using wsm_test::tcp_proxy;

namespace {

using fixture = wsm_test::live_fixture;

wsm_echo::server_options server_with(void (*tweak)(wsm_echo::server_options&)) {
  wsm_echo::server_options result;
  tweak(result);
  return result;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(fault_tests, fixture)

CAF_TEST(a half-open link is noticed by the missing pong and reconnected) {
  wsm_echo::echo_server server;
  tcp_proxy proxy{server.port()};
  opts.ping_interval = 100ms;
  opts.pong_timeout = 200ms;
  opts.reconnect_jitter = 0s;
  auto machine = spawn(url_of(proxy.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  // Only the current link goes quiet: the reconnect, which starts at once,
  // must not race a switch back to passing.
  proxy.blackhole_current();
  auto dropped = next_status();
  CAF_CHECK_EQUAL(dropped.error, "no pong within 200ms: the peer is gone");
  CAF_CHECK_EQUAL(std::string{wsm::to_string(dropped.state)}, "DISCONNECTED");
  auto back = wait_for(state::connected);
  CAF_CHECK_EQUAL(back.epoch, 2u);
  self->send(machine, wsm::output{"after"});
  CAF_CHECK_EQUAL(next_input().payload, "after");
  quit(machine);
}

CAF_TEST(a reset link reports the network error and reconnects) {
  wsm_echo::echo_server server;
  tcp_proxy proxy{server.port()};
  opts.reconnect_jitter = 0s;
  auto machine = spawn(url_of(proxy.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  proxy.reset_all();
  auto dropped = next_status();
  CAF_CHECK_EQUAL(std::string{wsm::to_string(dropped.state)}, "DISCONNECTED");
  CAF_CHECK_EQUAL(dropped.error, "read: Connection reset by peer");
  CAF_CHECK_EQUAL(wait_for(state::connected).epoch, 2u);
  quit(machine);
}

CAF_TEST(a slow link delays echoes but keeps the connection) {
  wsm_echo::echo_server server;
  tcp_proxy proxy{server.port()};
  auto machine = spawn(url_of(proxy.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  proxy.set_mode(tcp_proxy::mode::delay, 150ms);
  auto start = std::chrono::steady_clock::now();
  self->send(machine, wsm::output{"slow"});
  CAF_CHECK_EQUAL(next_input().payload, "slow");
  CAF_CHECK(std::chrono::steady_clock::now() - start >= 300ms); // both ways
  quit(machine);
}

CAF_TEST(a stalled handshake times out and waits) {
  wsm_echo::echo_server server{
    server_with([](auto& x) { x.stall_handshake = true; })};
  opts.handshake_timeout = 300ms;
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  auto failed = next_status();
  CAF_CHECK_EQUAL(failed.error, "handshake timed out after 300ms");
  auto waiting = next_status();
  CAF_CHECK_EQUAL(std::string{wsm::to_string(waiting.state)}, "WAITING");
  CAF_CHECK(waiting.retry_delay == opts.retry_delay);
  quit(machine);
}

CAF_TEST(a 503 refusal is retried and a 401 refusal ends the machine) {
  wsm_echo::echo_server unavailable{
    server_with([](auto& x) { x.refuse_status = 503; })};
  auto retried = spawn(url_of(unavailable.port()));
  expect_state(state::connecting);
  CAF_CHECK_EQUAL(next_status(),
                  (wsm::status{state::disconnected,
                               "handshake rejected: HTTP 503 Service "
                               "Unavailable",
                               1, 0, {}, 503}));
  CAF_CHECK_EQUAL(next_status().retry_delay, opts.retry_delay);
  quit(retried);

  wsm_echo::echo_server unauthorized{
    server_with([](auto& x) { x.refuse_status = 401; })};
  auto ended = spawn(url_of(unauthorized.port()));
  self->monitor(ended);
  expect_state(state::connecting);
  CAF_CHECK_EQUAL(next_status(),
                  (wsm::status{state::disconnected,
                               "handshake rejected: HTTP 401 Unauthorized", 1,
                               0, {}, 401}));
  self->receive(
    [](const caf::down_msg& x) {
      CAF_CHECK_EQUAL(x.reason.code(),
                      static_cast<uint8_t>(wsm::errc::handshake_rejected));
    },
    caf::after(event_timeout) >> [] { CAF_FAIL("the machine did not end"); });
}

CAF_TEST(the close code and reason of the peer are reported) {
  wsm_echo::echo_server server;
  opts.reconnect_jitter = 0s;
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  self->send(machine, wsm::output{"/CLOSE 4001 maintenance"});
  wsm::status down{state::disconnected, "closed by peer: 4001 maintenance", 1,
                   1, {}, 0, 4001};
  down.close_reason = "maintenance";
  CAF_CHECK_EQUAL(next_status(), down);
  auto up = wait_for(state::connected);
  CAF_CHECK_EQUAL(up.epoch, 2u);
  // The reason belonged to the link that closed.
  CAF_CHECK_EQUAL(up.close_reason, "");
  // Ours: a quit closes with 1000 and no text.
  self->send(machine, wsm::command::quit);
  auto end = wait_for(state::disconnected);
  CAF_CHECK_EQUAL(end.close_code, 1000u);
  CAF_CHECK_EQUAL(end.close_reason, "");
}

CAF_TEST(an oversized message closes the link with 1009 and reconnects) {
  wsm_echo::echo_server server;
  opts.max_message_size = 1000;
  opts.reconnect_jitter = 0s;
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  // The echo is as large as what was sent.
  send_requests(machine, 1, std::string(2000, 'x'));
  auto [written, failed] = answers();
  CAF_CHECK_EQUAL(written, 1u);
  CAF_CHECK_EQUAL(failed, 0u);
  CAF_CHECK_EQUAL(next_status(),
                  (wsm::status{state::disconnected,
                               "message larger than max_message_size (1000 "
                               "bytes): closed with 1009",
                               1, 1, {}, 0, 1009}));
  CAF_CHECK_EQUAL(wait_for(state::connected).epoch, 2u);
  quit(machine);
}

CAF_TEST(a peer that stops reading trips the write timeout and loses nothing) {
  wsm_echo::echo_server server{server_with([](auto& x) { x.no_pong = true; })};
  opts.write_timeout = 300ms;
  opts.close_timeout = 300ms;
  opts.reconnect_jitter = 0s;
  auto machine = spawn(url_of(server.port()));
  expect_state(state::connecting);
  expect_state(state::connected);
  // Far more than loopback buffers hold: the writes stall.
  constexpr size_t count = 64;
  send_requests(machine, count, std::string(1 << 20, 'w'));
  auto dropped = wait_for(state::disconnected);
  CAF_CHECK_EQUAL(dropped.error, "write timed out after 300ms");
  self->send(machine, wsm::command::quit);
  auto [written, failed] = answers();
  CAF_CHECK_EQUAL(written + failed, count);
  CAF_CHECK_GREATER(failed, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

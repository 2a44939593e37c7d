// The machine against a real Beast echo server on 127.0.0.1: the seed's own
// tests (bad URL, connect, reconnect after the server closes the link, echo
// in binary and text), quit while waiting, ping, and the shared I/O thread.
// Every wait is bounded.

#define CAF_SUITE integration

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <fstream>
#include <string>
#include <tuple>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "echo_server.hpp"
#include "support/http_get.hpp"
#include "support/live_fixture.hpp"
#include "support/slow_subscriber.hpp"
#include "wsm/wsm.hpp"

using namespace std::chrono_literals;
using wsm::state;

namespace {

/// A figure of /proc/self/status, in KiB (VmRSS, VmHWM).
long proc_status_kib(const std::string& field) {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stol(line.substr(field.size() + 1));
  return -1;
}

/// TCP_NODELAY of this process's socket connected to 127.0.0.1:`port`
/// (0 or 1), or -1 if there is none: found among the open descriptors.
int nodelay_towards(uint16_t port) {
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_in peer{};
    socklen_t size = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0
        || peer.sin_family != AF_INET || ntohs(peer.sin_port) != port)
      continue;
    int on = 0;
    socklen_t length = sizeof(on);
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &length) == 0)
      return on != 0 ? 1 : 0;
  }
  return -1;
}

/// Starts measuring the peak resident set anew (Linux: clear_refs 5).
void reset_peak_rss() {
  std::ofstream{"/proc/self/clear_refs"} << "5";
}

using wsm_test::event_timeout;

/// Threads of this process that run an Asio context of libwsm (named
/// `wsm-io`), from /proc. The tests connect to an address, which needs no
/// resolver thread (it would inherit the name).
size_t io_thread_count() {
  size_t result = 0;
  if (auto dir = opendir("/proc/self/task")) {
    while (auto entry = readdir(dir)) {
      if (entry->d_name[0] == '.')
        continue;
      std::ifstream comm{std::string{"/proc/self/task/"} + entry->d_name
                         + "/comm"};
      std::string name;
      if (std::getline(comm, name) && name == "wsm-io")
        ++result;
    }
    closedir(dir);
  }
  return result;
}

struct fixture : wsm_test::live_fixture {
  wsm_echo::echo_server server;

  std::string url() const {
    return url_of(server.port());
  }

  /// Sends `text` through `machine`, which reports to `watcher`, and checks
  /// that it comes back.
  static void expect_echo(caf::scoped_actor& watcher,
                          const wsm::machine_actor& machine,
                          const std::string& text) {
    watcher->send(machine, wsm::output{text});
    watcher->receive(
      [&](const wsm::input& x) { CAF_CHECK_EQUAL(x.payload, text); },
      caf::after(event_timeout) >> [] { CAF_FAIL("no echo"); });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(integration_tests, fixture)

CAF_TEST(a bad URL is refused and no actor is left running) {
  auto running_before = sys.registry().running();
  auto refused = [&](const std::string& target, const std::string& why) {
    auto result = wsm::spawn_machine(sys, target, opts,
                                     caf::actor_cast<caf::actor>(self));
    CAF_REQUIRE(!result);
    CAF_CHECK_EQUAL(wsm::describe(result.error()),
                    "invalid URL '" + target + "': " + why);
  };
  refused("http://127.0.0.1/", "scheme must be ws:// or wss://, not http://");
  refused("ws://", "host is missing");
  refused("ws://127.0.0.1:99999/", "port '99999' is not valid");
  refused("ws://127.0.0.1/#top", "a WebSocket URL cannot have a fragment");
  refused("no url at all",
          "not a URL of the form ws[s]://host[:port][/path][?query]");
  CAF_CHECK_EQUAL(sys.registry().running(), running_before);
  // The spawn-time subscriber sees nothing either.
  self->receive([](const wsm::status&) { CAF_FAIL("unexpected status"); },
                caf::after(0s) >> [] {});
}

CAF_TEST(a header with CR or LF is refused at spawn) {
  auto running_before = sys.registry().running();
  opts.headers.push_back({"X-Token", "a\r\nInjected: yes"});
  auto result = wsm::spawn_machine(sys, url(), opts);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(wsm::describe(result.error()),
                  "header 'X-Token' has a value with CR, LF or NUL in it");
  opts.headers = {{"Bad Name", "x"}};
  result = wsm::spawn_machine(sys, url(), opts);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(wsm::describe(result.error()),
                  "header name 'Bad Name' holds a character not allowed in a "
                  "name");
  CAF_CHECK_EQUAL(sys.registry().running(), running_before);
}

CAF_TEST(an unreachable host gives CONNECTING DISCONNECTED WAITING then quit) {
  auto closed_port = server.port();
  server.stop();
  auto machine = spawn("ws://127.0.0.1:" + std::to_string(closed_port) + "/");
  auto first = next_status();
  CAF_CHECK_EQUAL(first, (wsm::status{state::connecting, "", 1, 0}));
  auto failed = next_status();
  CAF_CHECK_EQUAL(std::string{wsm::to_string(failed.state)}, "DISCONNECTED");
  CAF_CHECK_EQUAL(failed.error, "connect: Connection refused");
  auto waiting = next_status();
  CAF_CHECK_EQUAL(waiting,
                  (wsm::status{state::waiting, failed.error, 1, 0, 10s}));
  quit(machine);
}

CAF_TEST(a reachable host gives CONNECTING then CONNECTED) {
  auto machine = spawn(url());
  CAF_CHECK_EQUAL(next_status(), (wsm::status{state::connecting, "", 1, 0}));
  CAF_CHECK_EQUAL(next_status(), connected_to(url(), 1, 1));
  quit(machine);
}

CAF_TEST(TCP_NODELAY is on unless tcp_nodelay is off) {
  for (bool nodelay : {true, false}) {
    opts.tcp_nodelay = nodelay;
    auto machine = spawn(url());
    expect_state(state::connecting);
    expect_state(state::connected);
    CAF_CHECK_EQUAL(nodelay_towards(server.port()), nodelay ? 1 : 0);
    quit(machine);
  }
}

CAF_TEST(messages echo as binary by default and as text after use_text) {
  auto machine = spawn(url());
  expect_state(state::connecting);
  expect_state(state::connected);
  self->send(machine, wsm::output{"hello"});
  CAF_CHECK_EQUAL(next_input(), (wsm::input{"hello", false}));
  self->send(machine, wsm::command::use_text);
  self->send(machine, wsm::output{"text now"});
  CAF_CHECK_EQUAL(next_input(), (wsm::input{"text now", true}));
  self->send(machine, wsm::output{"forced", wsm::frame_format::binary});
  CAF_CHECK_EQUAL(next_input(), (wsm::input{"forced", false}));
  self->send(machine, wsm::command::use_binary);
  std::string bytes{"\0\x01\xff", 3};
  self->send(machine, wsm::output{bytes});
  CAF_CHECK_EQUAL(next_input(), (wsm::input{bytes, false}));
  quit(machine);
}

CAF_TEST(messages of every size echo whole and in order) {
  // Around the session's first-piece buffer (128 bytes), Beast's frame
  // size (4 KiB: the server fragments larger ones) and well beyond.
  std::vector<size_t> sizes{0, 1, 127, 128, 129, 4095, 4097, 70000, 1 << 20};
  auto machine = spawn(url());
  expect_state(state::connecting);
  expect_state(state::connected);
  auto payload_of = [](size_t size) {
    std::string result(size, '\0');
    for (size_t i = 0; i < size; ++i)
      result[i] = static_cast<char>((i * 31 + size) % 251);
    return result;
  };
  for (auto size : sizes)
    self->send(machine, wsm::output{payload_of(size)});
  for (auto size : sizes) {
    auto echo = next_input();
    CAF_CHECK_EQUAL(echo.payload.size(), size);
    CAF_CHECK(echo.payload == payload_of(size));
  }
  quit(machine);
}

CAF_TEST(outputs sent before the link is up are written in order) {
  auto machine = spawn(url());
  for (int i = 0; i < 5; ++i)
    self->send(machine, wsm::output{"queued " + std::to_string(i)});
  expect_state(state::connecting);
  expect_state(state::connected);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(next_input().payload, "queued " + std::to_string(i));
  quit(machine);
}

CAF_TEST(the server closing the link gives DISCONNECTED CONNECTING CONNECTED) {
  auto machine = spawn(url());
  expect_state(state::connecting);
  expect_state(state::connected);
  self->send(machine, wsm::output{"/CLOSE"});
  CAF_CHECK_EQUAL(next_status(), (wsm::status{state::disconnected,
                                              "closed by peer: 1000", 1, 1,
                                              {}, 0, 1000}));
  CAF_CHECK_EQUAL(next_status(), (wsm::status{state::connecting, "", 1, 1}));
  CAF_CHECK_EQUAL(next_status(), connected_to(url(), 1, 2));
  self->send(machine, wsm::output{"after"});
  CAF_CHECK_EQUAL(next_input().payload, "after");
  CAF_CHECK_EQUAL(server.connections(), 2u);
  quit(machine);
}

CAF_TEST(ping sends a WebSocket ping) {
  auto machine = spawn(url());
  expect_state(state::connecting);
  expect_state(state::connected);
  self->send(machine, wsm::command::ping);
  // The server reads frames in order: once the echo is back, the ping
  // before it has been seen.
  self->send(machine, wsm::output{"marker"});
  CAF_CHECK_EQUAL(next_input().payload, "marker");
  CAF_CHECK_EQUAL(server.pings(), 1u);
  CAF_CHECK_EQUAL(server.last_ping_payload(), "");
  // A ping can carry a payload of its own.
  self->send(machine, wsm::command::ping, std::string{"probe-7"});
  self->send(machine, wsm::output{"marker 2"});
  CAF_CHECK_EQUAL(next_input().payload, "marker 2");
  CAF_CHECK_EQUAL(server.pings(), 2u);
  CAF_CHECK_EQUAL(server.last_ping_payload(), "probe-7");
  quit(machine);
}

CAF_TEST(quit closes with a close frame and the machine ends) {
  auto machine = spawn(url());
  expect_state(state::connecting);
  expect_state(state::connected);
  quit(machine);
  CAF_CHECK_EQUAL(server.closes_received(), 1u);
}

CAF_TEST(machines share the I/O threads) {
  // The I/O scheduler starts its threads with the actor system, one per
  // usable CPU (wsm::config's scheduler.max-threads); machines add none.
  auto threads = io_thread_count();
  CAF_CHECK_EQUAL(threads,
                  caf::get_or(sys.config(), "scheduler.max-threads",
                              size_t{0}));
  auto first = spawn(url());
  expect_state(state::connecting);
  expect_state(state::connected);
  std::vector<wsm::machine_actor> more;
  for (int i = 0; i < 50; ++i)
    more.push_back(spawn(url()));
  // Machines run side by side: their statuses interleave.
  size_t connected = 0;
  for (int i = 0; i < 100; ++i)
    if (next_status().state == state::connected)
      ++connected;
  CAF_CHECK_EQUAL(connected, 50u);
  CAF_CHECK_EQUAL(io_thread_count(), threads);
  for (auto& machine : more)
    quit(machine);
  quit(first);
}

CAF_TEST(two thousand machines echo through one server thread) {
  constexpr size_t count = 2000;
  std::vector<wsm::machine_actor> machines;
  for (size_t i = 0; i < count; ++i)
    machines.push_back(spawn(url()));
  size_t connected = 0;
  while (connected < count)
    if (next_status().state == state::connected)
      ++connected;
  for (auto& machine : machines)
    self->send(machine, wsm::output{"ping"});
  for (size_t i = 0; i < count; ++i)
    CAF_CHECK_EQUAL(next_input().payload, "ping");
  CAF_CHECK_EQUAL(server.connections(), count);
  for (auto& machine : machines)
    self->send(machine, wsm::command::quit);
  size_t ended = 0;
  while (ended < count)
    if (next_status().state == state::disconnected)
      ++ended;
}

CAF_TEST(wsm.io-threads sets the threads the I/O scheduler starts) {
  auto before = io_thread_count();
  wsm::config three_threads;
  CAF_REQUIRE(!three_threads.parse(caf::actor_system_config::string_list{
    "--wsm.io-threads=3"}));
  caf::actor_system other{three_threads};
  CAF_CHECK_EQUAL(io_thread_count(), before + 3);
  caf::scoped_actor watcher{other};
  auto machine = wsm::spawn_machine(other, url(), opts,
                                    caf::actor_cast<caf::actor>(watcher));
  CAF_REQUIRE(machine);
  CAF_CHECK_EQUAL(wsm_test::wait_for(watcher, state::connected).epoch, 1u);
  expect_echo(watcher, *machine, "on the I/O threads");
  CAF_CHECK_EQUAL(io_thread_count(), before + 3);
  watcher->send(*machine, wsm::command::quit);
  wsm_test::wait_for(watcher, state::disconnected);
}

CAF_TEST(with wsm.scheduler=caf the I/O threads start with the first machine) {
  auto before = io_thread_count();
  wsm::config caf_scheduler;
  CAF_REQUIRE(!caf_scheduler.parse(caf::actor_system_config::string_list{
    "--wsm.scheduler=caf", "--wsm.io-threads=2"}));
  caf::actor_system other{caf_scheduler};
  caf::scoped_actor watcher{other};
  CAF_CHECK_EQUAL(io_thread_count(), before); // none until a machine needs one
  auto machine = wsm::spawn_machine(other, url(), opts,
                                    caf::actor_cast<caf::actor>(watcher));
  CAF_REQUIRE(machine);
  CAF_CHECK_EQUAL(io_thread_count(), before + 2);
  CAF_CHECK_EQUAL(wsm_test::wait_for(watcher, state::connected).epoch, 1u);
  expect_echo(watcher, *machine, "beside CAF's workers");
  watcher->send(*machine, wsm::command::quit);
  wsm_test::wait_for(watcher, state::disconnected);
}

CAF_TEST(an unknown wsm.scheduler is refused by name) {
  wsm::config bad;
  CAF_REQUIRE(!bad.parse(caf::actor_system_config::string_list{
    "--wsm.scheduler=fast"}));
  caf::actor_system other{bad};
  auto machine = wsm::spawn_machine(other, url(), opts);
  CAF_REQUIRE(!machine);
  auto why = wsm::describe(machine.error());
  CAF_CHECK_EQUAL(why,
                  "wsm.scheduler: 'fast' is not a scheduler; use 'io' or "
                  "'caf'");
}

/// Feeds `count` messages of `size` bytes from the server to a subscriber
/// that takes `delay` per input; returns (received, in order, most inputs
/// waiting in its mailbox at once, read pauses).
std::tuple<uint64_t, bool, size_t, uint64_t>
slow_feed(fixture& f, size_t count, size_t size,
          std::chrono::microseconds delay) {
  auto machine = f.spawn(f.url());
  f.expect_state(state::connecting);
  f.expect_state(state::connected);
  auto slow = f.sys.spawn<caf::detached>(wsm_test::slow_subscriber, delay,
                                         count,
                                         caf::actor_cast<caf::actor>(f.self));
  f.self->request(machine, event_timeout, wsm::subscribe_atom::value, slow)
    .receive([](const wsm::status&) {},
             [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  // Only the slow one listens from here on.
  f.self->send(machine, wsm::unsubscribe_atom::value,
               caf::actor_cast<caf::actor>(f.self));
  f.self->send(machine, wsm::output{"/FEED " + std::to_string(count) + " "
                                    + std::to_string(size)});
  std::tuple<uint64_t, bool, size_t, uint64_t> result;
  f.self->receive(
    [&](wsm_test::fed_atom, uint64_t received, bool in_order,
        size_t most_waiting) {
      result = {received, in_order, most_waiting, 0};
    },
    caf::after(std::chrono::seconds(60)) >> [] {
      CAF_FAIL("the feed did not arrive within 60s");
    });
  f.self->request(machine, event_timeout, wsm::get_atom::value,
                  wsm::stats_atom::value)
    .receive([&](const wsm::stats& x) { std::get<3>(result) = x.read_pauses; },
             [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  f.self->send(machine, wsm::command::quit);
  caf::anon_send_exit(slow, caf::exit_reason::user_shutdown);
  return result;
}

CAF_TEST(a slow subscriber stops the reading and memory stays bounded) {
  // 40 MiB through a subscriber that takes 25us (and a sleep's overhead)
  // per input: without flow control its mailbox would hold most of it.
  constexpr size_t count = 40000;
  auto rss_before = proc_status_kib("VmRSS");
  reset_peak_rss();
  auto [received, in_order, most_waiting, pauses] =
    slow_feed(*this, count, 1024, std::chrono::microseconds(25));
  auto peak_growth = proc_status_kib("VmHWM") - rss_before;
  CAF_MESSAGE("peak RSS growth " << peak_growth << " KiB, at most "
                                 << most_waiting << " inputs waiting, "
                                 << pauses << " read pauses");
  CAF_CHECK_EQUAL(received, count);
  CAF_CHECK(in_order);
  // What arrived after the bound waited in the machine, not here.
  CAF_CHECK_LESS_OR_EQUAL(most_waiting, opts.max_inbox);
  CAF_CHECK_GREATER(pauses, 0u);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine: RSS says nothing.
  CAF_MESSAGE("RSS not checked under AddressSanitizer");
#else
  CAF_CHECK_LESS(peak_growth, 16 * 1024);
#endif
}

CAF_TEST(max_inbox 0 lets the mailbox of a slow subscriber grow) {
  // The same feed, shorter, without the bound: the contrast that shows what
  // the bound does. The subscriber is slower than in the test above, so
  // that the feed outruns it even on a loaded machine under a sanitizer
  // (with 25us per input it once kept up there: at most 1,000 waited).
  opts.max_inbox = 0;
  constexpr size_t count = 5000;
  auto [received, in_order, most_waiting, pauses] =
    slow_feed(*this, count, 64, std::chrono::microseconds(200));
  CAF_CHECK_EQUAL(received, count);
  CAF_CHECK(in_order);
  CAF_CHECK_GREATER(most_waiting, 1000u);
  CAF_CHECK_EQUAL(pauses, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

// Outside the fixture: a system of its own with metrics on, under both
// schedulers (the scrape's collector and the HTTP sessions cross from the
// actors' threads to the Asio ones either way).
CAF_TEST(metrics are scraped while machines echo and keep what they did) {
  using wsm_test::http_get;
  using wsm_test::metric_value;
  wsm_echo::echo_server server;
  auto url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
  constexpr size_t machines = 3;
  constexpr size_t per_machine = 200;
  for (auto scheduler : {"io", "caf"}) {
    CAF_MESSAGE("wsm.scheduler=" << scheduler);
    wsm::config cfg;
    cfg.set("wsm.metrics-address", "127.0.0.1:0");
    cfg.set("wsm.scheduler", scheduler);
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    std::vector<wsm::machine_actor> spawned;
    for (size_t i = 0; i < machines; ++i) {
      auto machine = wsm::spawn_machine(sys, url, {},
                                        caf::actor_cast<caf::actor>(self));
      CAF_REQUIRE(machine);
      spawned.push_back(*machine);
    }
    size_t connected = 0;
    while (connected < machines)
      if (wsm_test::next_status(self).state == wsm::state::connected)
        ++connected;
    for (auto& machine : spawned)
      for (size_t i = 0; i < per_machine; ++i)
        self->send(machine, wsm::output{"m" + std::to_string(i)});
    // Scrapes while the echoes come: the totals only grow.
    double last = 0;
    size_t echoes = 0;
    while (echoes < machines * per_machine) {
      self->receive([&](const wsm::input&) { ++echoes; },
                    caf::after(wsm_test::event_timeout) >> [] {
                      CAF_FAIL("an echo did not come");
                    });
      if (echoes % 100 == 0) {
        auto received = metric_value(http_get(sys, "/metrics"),
                                     "wsm_received_messages_total");
        CAF_CHECK_GREATER_OR_EQUAL(received, last);
        last = received;
      }
    }
    auto scrape = http_get(sys, "/metrics");
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_machines{state=\"CONNECTED\"}"),
                    double{machines});
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_received_messages_total"),
                    double{machines * per_machine});
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_sent_messages_total"),
                    double{machines * per_machine});
    for (auto& machine : spawned) {
      self->monitor(machine);
      self->send(machine, wsm::command::quit);
    }
    // A machine's state, which hands its counters to the totals of ended
    // machines, is gone before its down message goes out (CAF destroys
    // it on exit).
    size_t ended = 0;
    while (ended < machines)
      self->receive([&](const caf::down_msg&) { ++ended; },
                    [](const wsm::status&) {},
                    caf::after(wsm_test::event_timeout) >> [] {
                      CAF_FAIL("a machine did not end");
                    });
    scrape = http_get(sys, "/metrics");
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_machines_ended_total"),
                    double{machines});
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_received_messages_total"),
                    double{machines * per_machine});
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_machines{state=\"CONNECTED\"}"),
                    0.0);
    CAF_CHECK_EQUAL(metric_value(scrape, "wsm_connects_total"),
                    double{machines});
  }
}

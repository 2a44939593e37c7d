// A bounded soak: many machines against a server that drops every link
// again and again. Every output sent as a request is answered exactly once,
// written or not; no echo comes back that was not written; and memory stays
// flat from round to round. Runs WSM_SOAK_SECONDS seconds (2 by default).

#define CAF_SUITE soak

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "echo_server.hpp"
#include "support/live_fixture.hpp"

using namespace std::chrono_literals;
using wsm::state;

namespace {

/// Resident memory of this process in KiB, from /proc.
size_t rss_kib() {
  std::ifstream statm{"/proc/self/statm"};
  size_t pages = 0;
  size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

std::chrono::seconds soak_duration() {
  if (auto text = std::getenv("WSM_SOAK_SECONDS"))
    return std::chrono::seconds(std::max(1, std::atoi(text)));
  return 2s;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(soak_tests, wsm_test::live_fixture)

CAF_TEST(every output is accounted for while links keep dropping) {
  wsm_echo::server_options flaky;
  flaky.drop_every = 150ms;
  wsm_echo::echo_server server{flaky};
  opts.retry_delay = 20ms;
  opts.backoff_max = 200ms;
  opts.reconnect_jitter = 20ms;
  constexpr size_t machines = 20;
  constexpr size_t per_round = 25;
  std::vector<wsm::machine_actor> fleet;
  for (size_t i = 0; i < machines; ++i)
    fleet.push_back(spawn(url_of(server.port())));
  auto deadline = std::chrono::steady_clock::now() + soak_duration();
  size_t rounds = 0;
  size_t sent = 0;
  size_t written = 0;
  size_t first_round_rss = 0;
  size_t last_round_rss = 0;
  size_t echoes = 0;
  // What the machines sent this test so far: counted, then let go, so that
  // only the machines' own memory is measured.
  auto drain = [&] {
    auto more = true;
    self->receive_while([&] { return more; })(
      [&](const wsm::input&) { ++echoes; }, [](const wsm::status&) {},
      caf::after(0s) >> [&] { more = false; });
  };
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& machine : fleet)
      send_requests(machine, per_round, "soak " + std::to_string(rounds));
    for (size_t i = 0; i < machines; ++i) {
      auto [ok, failed] = answers();
      CAF_CHECK_EQUAL(ok + failed, per_round);
      // A machine that keeps trying never gives up on an output.
      CAF_CHECK_EQUAL(failed, 0u);
      written += ok;
    }
    sent += machines * per_round;
    drain();
    last_round_rss = rss_kib();
    if (++rounds == 1)
      first_round_rss = last_round_rss;
  }
  // Echoes of what was written, none of anything else.
  drain();
  size_t dropped_links = server.connections() - machines;
  CAF_MESSAGE(rounds << " rounds, " << sent << " outputs written, " << echoes
                     << " echoed, " << dropped_links << " reconnects, RSS "
                     << first_round_rss << " -> " << last_round_rss << " KiB");
  CAF_CHECK_EQUAL(written, sent);
  CAF_CHECK_LESS_OR_EQUAL(echoes, written);
  CAF_CHECK_GREATER(dropped_links, 0u);
  // Flat: growth across rounds stays within allocator noise. AddressSanitizer
  // keeps freed memory in quarantine, so there the figure means nothing.
#ifndef __SANITIZE_ADDRESS__
  CAF_CHECK_LESS(last_round_rss, first_round_rss + 4 * 1024);
#endif
  for (auto& machine : fleet)
    self->send(machine, wsm::command::quit);
  size_t ended = 0;
  for (auto& machine : fleet)
    self->monitor(machine);
  self->receive_while([&] { return ended < machines; })(
    [&](const caf::down_msg&) { ++ended; }, [](const wsm::status&) {},
    [](const wsm::input&) {},
    caf::after(wsm_test::event_timeout) >> [] { CAF_FAIL("not all ended"); });
}

CAF_TEST_FIXTURE_SCOPE_END()

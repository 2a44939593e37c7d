// The metrics and the status page's data, apart from HTTP: Prometheus'
// text format made from a registry's snapshot, the registry's totals,
// timeline and listeners, and statuses as JSON.

#define CAF_SUITE metrics
#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <vector>

#include "observability/machine_registry.hpp"
#include "observability/metrics_server.hpp"
#include "observability/metrics_text.hpp"
#include "wsm/error.hpp"
#include "wsm/status_json.hpp"
#include "wsm/transport.hpp"

using namespace std::chrono_literals;
using wsm::detail::machine_registry;
using wsm::detail::render_metrics;

namespace {

/// The sample lines of `text` that start with `prefix`.
std::vector<std::string> samples(const std::string& text,
                                 const std::string& prefix) {
  std::vector<std::string> result;
  size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    auto line = text.substr(begin, end - begin);
    if (line.rfind(prefix, 0) == 0)
      result.push_back(line);
    begin = end == std::string::npos ? text.size() : end + 1;
  }
  return result;
}

/// The one sample line of `text` for `series` (name and labels), or "".
std::string value_of(const std::string& text, const std::string& series) {
  auto found = samples(text, series + " ");
  return found.size() == 1 ? found[0].substr(series.size() + 1) : "";
}

wsm::stats counters(uint64_t messages_in, uint64_t bytes_in) {
  wsm::stats x;
  x.messages_in = messages_in;
  x.bytes_in = bytes_in;
  x.connects = 1;
  x.disconnects.resize(wsm::close_cause_count);
  x.disconnects[static_cast<size_t>(wsm::close_cause::dead_peer)] = 2;
  x.undelivered_by.resize(wsm::undelivered_cause_count);
  x.undelivered_by[static_cast<size_t>(wsm::undelivered_cause::quit)] = 3;
  x.queue_depth = 5;
  x.queue_bytes = 500;
  x.unconfirmed = 2;
  x.confirmed = 7;
  x.resent = 1;
  return x;
}

wsm::status in_state(wsm::state s) {
  wsm::status x;
  x.state = s;
  return x;
}

/// Actors to stand in for machines: the registry keeps their addresses
/// (a pool's placement has none, and is counted by its node instead).
struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;

  caf::actor_addr live() {
    // With an argument: CAF 0.17 dereferences a null tuple when it starts
    // an actor whose function takes none (UBSan says so).
    actors.push_back(sys.spawn(
      [](caf::event_based_actor*, int) { return caf::behavior{[](int) {}}; },
      0));
    return actors.back().address();
  }

  ~fixture() {
    for (auto& x : actors)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(metrics_tests, fixture)

CAF_TEST(machines are counted by state and every family is typed) {
  machine_registry registry{false};
  registry.add(1, live(), "ws://a/", "a");
  registry.add(2, live(), "ws://b/", "b");
  registry.record_status(2, in_state(wsm::state::waiting));
  registry.place(9, "ws://b/", "", "node-1");
  auto text = render_metrics(registry.snapshot());
  CAF_CHECK_EQUAL(value_of(text, "wsm_machines{state=\"CONNECTING\"}"), "1");
  CAF_CHECK_EQUAL(value_of(text, "wsm_machines{state=\"WAITING\"}"), "1");
  CAF_CHECK_EQUAL(value_of(text, "wsm_machines{state=\"CONNECTED\"}"), "0");
  CAF_CHECK(text.find("# TYPE wsm_machines gauge\n") != std::string::npos);
  CAF_CHECK(text.find("# TYPE wsm_connects_total counter\n")
            != std::string::npos);
  CAF_CHECK(text.find("# TYPE wsm_ping_round_trip_seconds histogram\n")
            != std::string::npos);
  CAF_CHECK(text.find("wsm_build_info{version=\"") != std::string::npos);
  // Every family that is a counter ends in _total, and has a HELP line.
  for (auto& line : samples(text, "# TYPE ")) {
    auto name = line.substr(7, line.find(' ', 7) - 7);
    if (line.find(" counter") != std::string::npos)
      CAF_CHECK_EQUAL(name.substr(name.size() - 6), "_total");
    CAF_CHECK_EQUAL(samples(text, "# HELP " + name + " ").size(), 1u);
  }
}

CAF_TEST(totals add the counters machines left when they ended) {
  machine_registry registry{false};
  registry.add(1, live(), "ws://a/", "a");
  registry.add(2, live(), "ws://b/", "b");
  registry.update_counters(1, counters(10, 100));
  registry.update_counters(2, counters(20, 200));
  registry.remove(2, counters(25, 250));
  auto x = registry.snapshot();
  CAF_CHECK_EQUAL(x.machines.size(), 1u);
  CAF_CHECK_EQUAL(x.machines_ended, 1u);
  auto text = render_metrics(x);
  // The live machine's 10 plus what the ended one left; its queue is no
  // longer anyone's.
  CAF_CHECK_EQUAL(value_of(text, "wsm_received_messages_total"), "35");
  CAF_CHECK_EQUAL(value_of(text, "wsm_received_bytes_total"), "350");
  CAF_CHECK_EQUAL(value_of(text, "wsm_machines_ended_total"), "1");
  CAF_CHECK_EQUAL(value_of(text, "wsm_disconnects_total{cause=\"dead_peer\"}"),
                  "4");
  CAF_CHECK_EQUAL(value_of(text, "wsm_undelivered_total{reason=\"quit\"}"),
                  "6");
  CAF_CHECK_EQUAL(value_of(text, "wsm_queued_outputs"), "5");
  CAF_CHECK_EQUAL(value_of(text, "wsm_queued_output_bytes"), "500");
  // Confirmations and resends are totals; what waits for one is live.
  CAF_CHECK_EQUAL(value_of(text, "wsm_confirmed_outputs_total"), "14");
  CAF_CHECK_EQUAL(value_of(text, "wsm_resent_outputs_total"), "2");
  CAF_CHECK_EQUAL(value_of(text, "wsm_unconfirmed_outputs"), "2");
  // A machine removed twice is counted once.
  registry.remove(2, counters(25, 250));
  auto again = registry.snapshot(); // CAF's checks keep references: a local
  CAF_CHECK_EQUAL(again.machines_ended, 1u);
}

CAF_TEST(round trips fill cumulative buckets) {
  machine_registry registry{false};
  registry.record_round_trip(300us);
  registry.record_round_trip(3ms);
  registry.record_round_trip(3ms);
  registry.record_round_trip(10s);
  auto text = render_metrics(registry.snapshot());
  auto bucket = [&](const char* le) {
    return value_of(text, std::string{"wsm_ping_round_trip_seconds_bucket{le=\""}
                            + le + "\"}");
  };
  CAF_CHECK_EQUAL(bucket("0.0005"), "1");
  CAF_CHECK_EQUAL(bucket("0.0025"), "1");
  CAF_CHECK_EQUAL(bucket("0.005"), "3");
  CAF_CHECK_EQUAL(bucket("2.5"), "3");
  CAF_CHECK_EQUAL(bucket("+Inf"), "4");
  CAF_CHECK_EQUAL(value_of(text, "wsm_ping_round_trip_seconds_count"), "4");
  CAF_CHECK_EQUAL(value_of(text, "wsm_ping_round_trip_seconds_sum"),
                  "10.0063");
}

CAF_TEST(per-machine series only when asked and labelled by id and host) {
  for (bool per_machine : {false, true}) {
    machine_registry registry{per_machine};
    registry.add(7, live(), "ws://feed.example/x", "feed\"q");
    registry.record_status(7, in_state(wsm::state::connected));
    registry.update_counters(7, counters(4, 40));
    auto text = render_metrics(registry.snapshot());
    CAF_CHECK_EQUAL(value_of(text, "wsm_machines{state=\"CONNECTED\"}"), "1");
    auto series = value_of(
      text, "wsm_machine_received_messages_total{id=\"7\",host=\"feed\\\"q\"}");
    CAF_CHECK_EQUAL(series, per_machine ? "4" : "");
    CAF_CHECK_EQUAL(
      value_of(text,
               "wsm_machine_state{id=\"7\",host=\"feed\\\"q\",state=\"CONNECTED\"}"),
      per_machine ? "1" : "");
    // A URL can carry credentials or tokens: never a label.
    CAF_CHECK(text.find("feed.example/x") == std::string::npos);
  }
}

CAF_TEST(the timeline keeps the last changes in order and listeners hear each) {
  machine_registry registry{false};
  registry.add(1, live(), "ws://a/", "a");
  std::vector<std::string> heard;
  auto token = registry.listen([&](const std::string& x) { heard.push_back(x); });
  auto total = machine_registry::timeline_capacity + 10;
  for (size_t i = 0; i < total; ++i) {
    auto x = in_state(i % 2 ? wsm::state::connected : wsm::state::connecting);
    x.attempt = static_cast<uint32_t>(i);
    registry.record_status(1, x);
  }
  auto x = registry.snapshot();
  CAF_REQUIRE_EQUAL(x.timeline.size(), machine_registry::timeline_capacity);
  CAF_CHECK_EQUAL(x.timeline.front().what.attempt, 10u);
  CAF_CHECK_EQUAL(x.timeline.back().what.attempt, total - 1);
  CAF_CHECK_EQUAL(x.machines[0].last.attempt, total - 1);
  CAF_REQUIRE_EQUAL(heard.size(), total);
  CAF_CHECK_EQUAL(heard[0].rfind("event: status\ndata: {\"id\":1,", 0), 0u);
  CAF_CHECK_EQUAL(heard[0].substr(heard[0].size() - 2), "\n\n");
  registry.unlisten(token);
  registry.record_status(1, in_state(wsm::state::waiting));
  CAF_CHECK_EQUAL(heard.size(), total);
  // A status of a machine the registry does not know is not recorded.
  registry.record_status(99, in_state(wsm::state::waiting));
  auto last = registry.snapshot(); // CAF's checks keep references: a local
  CAF_CHECK_EQUAL(last.timeline.back().id, 1u);
}

CAF_TEST(a status as JSON has every field escaped) {
  wsm::status x;
  x.state = wsm::state::waiting;
  x.error = "bad \"quote\" \\ and\nnewline \x01 caf\xc3\xa9 \xff";
  x.attempt = 3;
  x.epoch = 2;
  x.retry_delay = 1500ms;
  x.http_status = 503;
  x.close_code = 4001;
  x.close_reason = "token expired";
  x.subprotocol = "v2";
  x.compressed = true;
  x.url = "wss://feed.example/";
  x.redirects = {"ws://a/", "ws://b/"};
  CAF_CHECK_EQUAL(
    wsm::to_json(x),
    R"({"state":"WAITING","error":"bad \"quote\" \\ and\nnewline \u0001 caf)"
    "\xc3\xa9"
    R"( \ufffd","attempt":3,"epoch":2,"retry_delay":1.5,"http_status":503,)"
    R"("close_code":4001,"close_reason":"token expired","subprotocol":"v2",)"
    R"("compressed":true,"url":"wss://feed.example/",)"
    R"("redirects":["ws://a/","ws://b/"]})");
}

CAF_TEST(metrics addresses are parsed and bad ones named) {
  using wsm::detail::parse_listen_address;
  auto shown = [](const std::string& text) {
    auto x = parse_listen_address(text);
    return x ? x->host + " " + std::to_string(x->port)
             : wsm::describe(x.error());
  };
  CAF_CHECK_EQUAL(shown("9464"), "127.0.0.1 9464");
  CAF_CHECK_EQUAL(shown(":0"), "127.0.0.1 0");
  CAF_CHECK_EQUAL(shown("0.0.0.0:9464"), "0.0.0.0 9464");
  CAF_CHECK_EQUAL(shown("[::1]:80"), "::1 80");
  CAF_CHECK_EQUAL(shown("::1:80"),
                  "metrics-address '::1:80': an IPv6 address needs brackets "
                  "(write HOST:PORT, [IPv6]:PORT or a port)");
  CAF_CHECK_EQUAL(shown("localhost:80"),
                  "metrics-address 'localhost:80': 'localhost' is not an IP "
                  "address (write HOST:PORT, [IPv6]:PORT or a port)");
  CAF_CHECK_EQUAL(shown("127.0.0.1:99999"),
                  "metrics-address '127.0.0.1:99999': no port (write "
                  "HOST:PORT, [IPv6]:PORT or a port)");
}

CAF_TEST_FIXTURE_SCOPE_END()

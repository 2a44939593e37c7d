// A pool of machines over nodes: three actor systems in one process (two
// nodes that publish spawners, one client with the pool) linked over
// loopback by CAF's middleman, and a local echo server. Each test checks
// the statuses a subscriber of a member sees, in order.

#define CAF_SUITE pool

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <caf/io/middleman.hpp>

#include "echo_server.hpp"
#include "support/http_get.hpp"
#include "support/live_fixture.hpp"
#include "support/tcp_proxy.hpp"
#include "support/node_fixture.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using wsm::state;
using wsm_test::event_timeout;
using wsm_test::http_get;
using wsm_test::node_config;
using wsm_test::node_tls;
using wsm_test::recording;

namespace {

/// A node with a published spawner, as `wsm-node` runs one.
struct node {
  node_config cfg;
  caf::actor_system sys;
  wsm::spawner_actor spawner;
  uint16_t port = 0;

  explicit node(const std::optional<wsm::tls_options>& tls = {})
    : cfg(tls), sys(cfg), spawner(wsm::spawn_spawner(sys)) {
    auto published = wsm::publish_spawner(sys, spawner, 0, "127.0.0.1");
    CAF_REQUIRE(published);
    port = *published;
  }

  /// Shuts the node down as wsm-node does on SIGTERM: the spawner first,
  /// which quits the machines it placed.
  ~node() {
    caf::anon_send_exit(spawner, caf::exit_reason::user_shutdown);
  }

  std::string name() const {
    return "127.0.0.1:" + std::to_string(port);
  }
};

/// A port on loopback where nothing listens.
/// The pool's process serves its status page: which node holds each
/// machine.
struct client_config : node_config {
  client_config() {
    set("wsm.metrics-address", "127.0.0.1:0");
  }
};

/// In the page's table (`/machines.json`), the node and the state shown
/// for the machine `id`, as `node STATE`.
std::string placement_shown(const std::string& json, uint64_t id) {
  auto row = json.find("{\"id\":" + std::to_string(id) + ",");
  if (row == std::string::npos)
    return "no row";
  auto field = [&](const std::string& name) {
    auto begin = json.find("\"" + name + "\":\"", row);
    if (begin == std::string::npos)
      return std::string{"?"};
    begin += name.size() + 4;
    return json.substr(begin, json.find('"', begin) - begin);
  };
  return field("node") + " " + field("state");
}

uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{
    io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

struct fixture {
  wsm_echo::echo_server server{recording()};
  std::unique_ptr<node> node_a = std::make_unique<node>();
  std::unique_ptr<node> node_b = std::make_unique<node>();
  client_config client_cfg;
  caf::actor_system client{client_cfg};
  caf::scoped_actor self{client};
  wsm::pool_actor pool = wsm::spawn_pool(client, false);
  wsm::options opts;

  fixture() {
    opts.retry_delay = 10s;
    opts.backoff_jitter = 0;
  }

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(server.port()) + "/echo";
  }

  caf::expected<std::string> add_node(const std::string& host,
                                      uint16_t port) {
    caf::expected<std::string> result{caf::error{}};
    self->request(pool, 2 * event_timeout, wsm::add_node_atom::value, host,
                  port)
      .receive([&](std::string& name) { result = std::move(name); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  std::string add(const node& x) {
    auto name = add_node("127.0.0.1", x.port);
    CAF_REQUIRE(name);
    CAF_CHECK_EQUAL(*name, x.name());
    return *name;
  }

  wsm::machine_actor spawn() {
    wsm::machine_actor result;
    self->request(pool, event_timeout, wsm::spawn_atom::value, url(), opts,
                  caf::actor_cast<caf::actor>(self))
      .receive([&](wsm::machine_actor& x) { result = std::move(x); },
               [](caf::error& err) {
                 CAF_FAIL("spawn refused: " << wsm::describe(err));
               });
    return result;
  }

  std::vector<wsm::placement> table() {
    std::vector<wsm::placement> result;
    self->request(pool, event_timeout, wsm::get_atom::value,
                  wsm::placement_atom::value)
      .receive([&](std::vector<wsm::placement>& x) { result = std::move(x); },
               [](caf::error& err) {
                 CAF_FAIL("no table: " << wsm::describe(err));
               });
    return result;
  }

  /// The next status from `member`, skipping input.
  wsm::status next_status_of(const wsm::machine_actor& member,
                             caf::timespan bound = event_timeout) {
    std::optional<wsm::status> result;
    while (!result)
      self->receive(
        [&](wsm::status& x) {
          if (self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(member))
            result = std::move(x);
        },
        [](const wsm::input&) {},
        caf::after(bound) >> [] { CAF_FAIL("no status"); });
    return *result;
  }

  /// Statuses by member, as they come, until `done` holds.
  using statuses = std::map<caf::actor_addr, std::vector<wsm::status>>;

  template <class Predicate>
  statuses collect_statuses(Predicate done) {
    statuses seen;
    while (!done(seen))
      self->receive(
        [&](wsm::status& x) {
          seen[caf::actor_cast<caf::actor_addr>(self->current_sender())]
            .push_back(std::move(x));
        },
        [](const wsm::input&) {},
        caf::after(2 * event_timeout) >> [] {
          CAF_FAIL("statuses stopped before the expected ones came");
        });
    return seen;
  }

  /// Waits until each member has said CONNECTED.
  void wait_connected(const std::vector<wsm::machine_actor>& members) {
    collect_statuses([&](const statuses& seen) {
      for (auto& member : members) {
        auto i = seen.find(member.address());
        if (i == seen.end() || i->second.back().state != state::connected)
          return false;
      }
      return true;
    });
  }

  /// Waits until each payload has reached the server or come back as
  /// undelivered, and returns those that came back. An echo is not
  /// required: a reply in flight when its machine's node goes is lost with
  /// the node, though the output was written.
  std::set<std::string> undelivered_of(const std::set<std::string>& payloads) {
    std::set<std::string> returned;
    auto accounted = [&] {
      auto received = server.messages_received();
      std::set<std::string> arrived{received.begin(), received.end()};
      for (auto& x : payloads)
        if (arrived.count(x) == 0 && returned.count(x) == 0)
          return false;
      return true;
    };
    while (!accounted())
      self->receive(
        [&](const wsm::undelivered& x) { returned.insert(x.payload); },
        [](const wsm::input&) {}, [](const wsm::status&) {},
        caf::after(2 * event_timeout) >> [] {
          CAF_FAIL("an output neither reached the server nor came back");
        });
    return returned;
  }
};

wsm::status disconnected(std::string error, uint32_t attempt,
                         uint64_t epoch) {
  wsm::status x;
  x.state = state::disconnected;
  x.error = std::move(error);
  x.attempt = attempt;
  x.epoch = epoch;
  return x;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(pool_tests, fixture)

CAF_TEST(a pool spreads machines over its nodes and each one echoes) {
  auto a = add(*node_a);
  auto b = add(*node_b);
  std::vector<wsm::machine_actor> members;
  for (int i = 0; i < 4; ++i)
    members.push_back(spawn());
  wait_connected(members);
  // The table: in spawn order, alternating between the two nodes.
  auto rows = table();
  CAF_REQUIRE_EQUAL(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i) {
    CAF_CHECK_EQUAL(rows[i].id, i + 1);
    CAF_CHECK(rows[i].member == members[i]);
    CAF_CHECK_EQUAL(rows[i].url, url());
    CAF_CHECK_EQUAL(rows[i].node, i % 2 == 0 ? a : b);
  }
  // An output as a request through each member: the receipt, then the echo.
  for (size_t i = 0; i < members.size(); ++i) {
    auto payload = "through member " + std::to_string(i + 1);
    bool written = false;
    self->request(members[i], event_timeout, wsm::output{payload})
      .receive([&] { written = true; },
               [](caf::error& err) {
                 CAF_FAIL("no receipt: " << wsm::describe(err));
               });
    CAF_CHECK(written);
    self->receive(
      [&](const wsm::input& x) { CAF_CHECK_EQUAL(x.payload, payload); },
      caf::after(event_timeout) >> [] { CAF_FAIL("no echo"); });
  }
  // Commands, status and stats through a member reach its machine.
  self->send(members[0], wsm::command::use_text);
  self->send(members[0], wsm::output{"as text"});
  self->receive([](const wsm::input& x) { CAF_CHECK(x.text); },
                caf::after(event_timeout) >> [] { CAF_FAIL("no echo"); });
  self->request(members[0], event_timeout, wsm::get_atom::value,
                wsm::stats_atom::value)
    .receive(
      [](const wsm::stats& x) {
        CAF_CHECK_EQUAL(x.connects, 1u);
        CAF_CHECK_EQUAL(x.messages_out, 2u);
        CAF_CHECK_EQUAL(x.queue_depth, 0u);
      },
      [](caf::error& err) { CAF_FAIL("no stats: " << wsm::describe(err)); });
  self->request(members[1], event_timeout, wsm::get_atom::value,
                wsm::status_atom::value)
    .receive(
      [](const wsm::status& x) {
        CAF_CHECK_EQUAL(x.state, state::connected);
        CAF_CHECK_EQUAL(x.epoch, 1u);
      },
      [](caf::error& err) { CAF_FAIL("no status: " << wsm::describe(err)); });
}

CAF_TEST(a node that goes away hands its machines to the nodes left) {
  auto a = add(*node_a);
  auto b = add(*node_b);
  auto on_a = spawn();
  auto on_b = spawn();
  wait_connected({on_a, on_b});
  auto before = table();
  CAF_REQUIRE_EQUAL(before[1].node, b);
  auto page = http_get(client, "/machines.json");
  CAF_CHECK_EQUAL(placement_shown(page, on_a.id()), a + " CONNECTED");
  CAF_CHECK_EQUAL(placement_shown(page, on_b.id()), b + " CONNECTED");
  // Outputs on their way while the node goes: each one must come back as
  // an echo or as undelivered.
  std::set<std::string> payloads;
  for (int i = 0; i < 50; ++i) {
    payloads.insert("before " + std::to_string(i));
    self->send(on_b, wsm::output{"before " + std::to_string(i)});
  }
  node_b.reset();
  for (int i = 0; i < 50; ++i) {
    payloads.insert("during " + std::to_string(i));
    self->send(on_b, wsm::output{"during " + std::to_string(i)});
  }
  // The moved member's subscriber sees the node named, then a new machine
  // connect; the epoch goes on from the old machine's.
  auto seen = collect_statuses([&](const statuses& x) {
    auto i = x.find(on_b.address());
    return i != x.end() && i->second.back().state == state::connected;
  });
  auto& moved = seen[on_b.address()];
  CAF_REQUIRE_EQUAL(moved.size(), 3u);
  CAF_CHECK_EQUAL(moved[0],
                  disconnected("node '" + b + "' lost: user_shutdown", 1, 1));
  CAF_CHECK_EQUAL(moved[1], (wsm::status{state::connecting, "", 1, 1}));
  CAF_CHECK_EQUAL(moved[2].state, state::connected);
  CAF_CHECK_EQUAL(moved[2].epoch, 2u);
  CAF_CHECK_EQUAL(seen.count(on_a.address()), 0u);
  auto rows = table();
  CAF_CHECK_EQUAL(rows[0].node, a);
  CAF_CHECK_EQUAL(rows[1].node, a);
  // The pool's status page says where the moved machine is now.
  CAF_CHECK_EQUAL(placement_shown(http_get(client, "/machines.json"),
                                  on_b.id()),
                  a + " CONNECTED");
  // Nothing was lost silently: the outputs the old machine did not write
  // went to the new one. Echoes resume.
  CAF_CHECK_EQUAL(undelivered_of(payloads).size(), 0u);
  self->send(on_b, wsm::output{"after"});
  bool echoed = false;
  while (!echoed)
    self->receive(
      [&](const wsm::input& x) { echoed = x.payload == "after"; },
      [](const wsm::status& x) { CAF_FAIL("unexpected status " << x); },
      caf::after(event_timeout) >> [] { CAF_FAIL("no echo after the move"); });
}

CAF_TEST(a node whose link breaks is reached again and takes its machines) {
  wsm_test::tcp_proxy proxy{node_a->port};
  auto name = add_node("127.0.0.1", proxy.port());
  CAF_REQUIRE(name);
  auto member = spawn();
  wait_connected({member});
  // A reset: the link is gone at once, the node itself is fine.
  proxy.reset_all();
  CAF_CHECK_EQUAL(next_status_of(member),
                  disconnected("node '" + *name
                                 + "' lost: remote_link_unreachable",
                               1, 1));
  // The pool connects again (after half a second) and the member gets a
  // new machine there; the old one quit with its owner out of reach.
  CAF_CHECK_EQUAL(next_status_of(member),
                  (wsm::status{state::connecting, "", 1, 1}));
  CAF_CHECK_EQUAL(next_status_of(member).state, state::connected);
  auto rows = table();
  CAF_CHECK_EQUAL(rows[0].node, *name);
  self->send(member, wsm::output{"again"});
  self->receive(
    [](const wsm::input& x) { CAF_CHECK_EQUAL(x.payload, "again"); },
    caf::after(event_timeout) >> [] { CAF_FAIL("no echo"); });
}

CAF_TEST(a node that falls silent is noticed by heartbeats) {
  wsm_test::tcp_proxy proxy{node_a->port};
  auto name = add_node("127.0.0.1", proxy.port());
  CAF_REQUIRE(name);
  auto member = spawn();
  wait_connected({member});
  // Nothing closes: bytes just stop, both ways. Without heartbeats the
  // link would look alive forever.
  proxy.blackhole_current();
  CAF_CHECK_EQUAL(next_status_of(member, 2 * event_timeout),
                  disconnected("node '" + *name
                                 + "' lost: remote_link_unreachable",
                               1, 1));
  CAF_CHECK_EQUAL(next_status_of(member).state, state::connecting);
  CAF_CHECK_EQUAL(next_status_of(member).state, state::connected);
}

CAF_TEST(a member waits for a node with its outputs) {
  auto member = spawn();
  self->send(member, wsm::output{"kept"});
  auto rows = table();
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].node, "");
  self->request(member, event_timeout, wsm::get_atom::value,
                wsm::stats_atom::value)
    .receive([](const wsm::stats& x) { CAF_CHECK_EQUAL(x.queue_depth, 1u); },
             [](caf::error& err) {
               CAF_FAIL("no stats: " << wsm::describe(err));
             });
  // A node comes: the machine's very first status, then the output.
  auto a = add(*node_a);
  CAF_CHECK_EQUAL(next_status_of(member),
                  (wsm::status{state::connecting, "", 1, 0}));
  CAF_CHECK_EQUAL(next_status_of(member).state, state::connected);
  self->receive(
    [](const wsm::input& x) { CAF_CHECK_EQUAL(x.payload, "kept"); },
    caf::after(event_timeout) >> [] { CAF_FAIL("no echo"); });
  auto after = table();
  CAF_CHECK_EQUAL(after[0].node, a);
}

CAF_TEST(a node that is not there or is no spawner is refused by name) {
  auto port = closed_port();
  auto missing = add_node("127.0.0.1", port);
  CAF_REQUIRE(!missing);
  auto text = wsm::describe(missing.error());
  auto prefix = "node 127.0.0.1:" + std::to_string(port) + ": ";
  CAF_CHECK_EQUAL(text.substr(0, prefix.size()), prefix);
  // Something else published there: a machine is no spawner.
  auto machine = wsm::spawn_machine(node_a->sys, url(), opts);
  CAF_REQUIRE(machine);
  auto published = node_a->sys.middleman().publish(*machine, 0, "127.0.0.1");
  CAF_REQUIRE(published);
  auto wrong = add_node("127.0.0.1", *published);
  CAF_REQUIRE(!wrong);
  CAF_CHECK_EQUAL(wsm::describe(wrong.error()),
                  "node 127.0.0.1:" + std::to_string(*published)
                    + ": no wsm spawner is published there");
  caf::anon_send(*machine, wsm::command::quit);
  CAF_CHECK_EQUAL(table().size(), 0u);
}

CAF_TEST(a pool keeps answering while a node is slow to connect) {
  // A port whose backlog takes the TCP connection and nobody ever answers:
  // the middleman's handshake waits.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent{
    io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  auto port = silent.local_endpoint().port();
  caf::scoped_actor asker{client};
  auto pending = asker->request(pool, 3 * event_timeout,
                                wsm::add_node_atom::value,
                                std::string{"127.0.0.1"}, port);
  // Meanwhile the pool serves: a node added, a machine placed, the table.
  add(*node_a);
  wait_connected({spawn()});
  auto rows = table();
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].node, node_a->name());
  // ... all of it while the slow node's answer had not come.
  CAF_CHECK(asker->mailbox().empty());
  // The slow node is given up on, by name: the middleman's connection
  // timeout.
  pending.receive([](const std::string&) { CAF_FAIL("a silent node added"); },
                  [&](caf::error& err) {
                    auto text = wsm::describe(err);
                    CAF_CHECK_EQUAL(text,
                                    "node 127.0.0.1:" + std::to_string(port)
                                      + ": system_error(connection_timeout)");
                  });
}

CAF_TEST(a bad URL is refused by the pool and spawns nothing) {
  add(*node_a);
  self->request(pool, event_timeout, wsm::spawn_atom::value,
                std::string{"http://127.0.0.1/"}, opts, caf::actor{})
    .receive([](wsm::machine_actor&) { CAF_FAIL("spawned"); },
             [](caf::error& err) {
               CAF_CHECK_EQUAL(wsm::describe(err),
                               "invalid URL 'http://127.0.0.1/': scheme must "
                               "be ws:// or wss://, not http://");
             });
  CAF_CHECK_EQUAL(table().size(), 0u);
}

CAF_TEST(quitting a member ends its machine and takes it off the table) {
  add(*node_a);
  auto member = spawn();
  wait_connected({member});
  self->monitor(member);
  self->send(member, wsm::command::quit);
  auto last = disconnected("", 1, 1);
  last.close_code = 1000;
  CAF_CHECK_EQUAL(next_status_of(member), last);
  self->receive([&](const caf::down_msg& x) {
    CAF_CHECK(x.source == member.address());
    CAF_CHECK_EQUAL(x.reason, caf::error{});
  });
  // The pool hears of the end from its own monitor, which CAF may notify
  // just after ours: a few round trips to the pool settle it.
  auto rows = table();
  for (int i = 0; i < 100 && !rows.empty(); ++i)
    rows = table();
  CAF_CHECK_EQUAL(rows.size(), 0u);
  // An output after the end is not silently dropped: the member is gone,
  // and CAF says so to a request.
  self->request(member, event_timeout, wsm::output{"late"})
    .receive([] { CAF_FAIL("written after quit"); },
             [](caf::error&) {});
}

CAF_TEST(nodes linked over TLS admit only peers their CA vouches for) {
  wsm_test::test_pki pki;
  wsm_test::test_pki stranger_pki{"another CA"};
  node tls_node{node_tls(pki, "node")};
  // A pool whose node has a certificate from the same CA: machines run
  // there as over a plain link.
  node_config trusted_cfg{node_tls(pki, "pool")};
  caf::actor_system trusted{trusted_cfg};
  caf::scoped_actor me{trusted};
  auto tls_pool = wsm::spawn_pool(trusted, false);
  me->request(tls_pool, 2 * event_timeout, wsm::add_node_atom::value,
              std::string{"127.0.0.1"}, tls_node.port)
    .receive(
      [&](const std::string& name) { CAF_CHECK_EQUAL(name, tls_node.name()); },
      [](caf::error& err) {
        CAF_FAIL("TLS node refused: " << wsm::describe(err));
      });
  wsm::machine_actor member;
  me->request(tls_pool, event_timeout, wsm::spawn_atom::value, url(), opts,
              caf::actor_cast<caf::actor>(me))
    .receive([&](wsm::machine_actor& x) { member = x; },
             [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  wsm_test::wait_for(me, state::connected);
  me->send(member, wsm::output{"over TLS"});
  me->receive(
    [](const wsm::input& x) { CAF_CHECK_EQUAL(x.payload, "over TLS"); },
    caf::after(event_timeout) >> [] { CAF_FAIL("no echo"); });
  caf::anon_send_exit(tls_pool, caf::exit_reason::user_shutdown);
  // A node whose certificate another CA issued is not let in.
  node_config stranger_cfg{node_tls(stranger_pki, "stranger")};
  caf::actor_system stranger{stranger_cfg};
  auto stranger_pool = wsm::spawn_pool(stranger, false);
  caf::scoped_actor stranger_self{stranger};
  stranger_self
    ->request(stranger_pool, 2 * event_timeout, wsm::add_node_atom::value,
              std::string{"127.0.0.1"}, tls_node.port)
    .receive([](const std::string&) { CAF_FAIL("a stranger got in"); },
             [&](caf::error& err) {
               CAF_MESSAGE("refused: " << wsm::describe(err));
               CAF_CHECK_EQUAL(err.code(),
                               static_cast<uint8_t>(
                                 wsm::errc::node_unavailable));
             });
  caf::anon_send_exit(stranger_pool, caf::exit_reason::user_shutdown);
  // Nor is a node without TLS.
  auto plain = add_node("127.0.0.1", tls_node.port);
  CAF_REQUIRE(!plain);
  CAF_MESSAGE("refused: " << wsm::describe(plain.error()));
}

CAF_TEST(node TLS refuses options it cannot use and names them) {
  wsm_test::test_pki pki;
  auto good = node_tls(pki, "node");
  auto refusal = [](const wsm::tls_options& tls) {
    node_config cfg;
    return wsm::describe(wsm::enable_node_tls(cfg, tls));
  };
  auto no_key = good;
  no_key.key_file.clear();
  CAF_CHECK_EQUAL(refusal(no_key),
                  "node TLS: every node needs cert_file and key_file");
  auto no_ca = good;
  no_ca.ca_file.clear();
  CAF_CHECK_EQUAL(refusal(no_ca), "node TLS: ca_file or ca_path must say "
                                  "which CA admits nodes");
  auto insecure = good;
  insecure.insecure_skip_verify = true;
  CAF_CHECK_EQUAL(refusal(insecure),
                  "node TLS: insecure_skip_verify is not supported between "
                  "nodes; give a CA");
  auto missing = good;
  missing.cert_file = "/nonexistent/node.pem";
  CAF_CHECK_EQUAL(refusal(missing),
                  "node TLS: tls cert_file '/nonexistent/node.pem': No such "
                  "file or directory");
}

CAF_TEST_FIXTURE_SCOPE_END()

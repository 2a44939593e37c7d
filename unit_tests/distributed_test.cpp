// Machines across nodes: two actor systems in one process, linked by CAF's
// middleman over loopback. The machine lives on one node; a scoped actor on
// the other subscribes, sends outputs with receipts and commands, and asks
// for stats, exactly as a local actor would.

#define CAF_SUITE distributed

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>

#include <caf/io/middleman.hpp>

#include "echo_server.hpp"
#include "support/live_fixture.hpp"
#include "support/node_fixture.hpp"
#include "support/slow_subscriber.hpp"

using namespace std::chrono_literals;
using wsm::state;
using wsm_test::event_timeout;
using wsm_test::node_config;

namespace {

struct fixture {
  wsm_echo::echo_server server;
  node_config host_cfg;
  caf::actor_system host{host_cfg};
  node_config client_cfg;
  caf::actor_system client{client_cfg};
  caf::scoped_actor self{client};

  /// Spawns a machine on the host node and returns the client node's
  /// handle to it, found through the middleman.
  wsm::machine_actor remote_machine(wsm::options opts = {}) {
    auto local = wsm::spawn_machine(host,
                                    "ws://127.0.0.1:"
                                      + std::to_string(server.port())
                                      + "/echo",
                                    std::move(opts));
    CAF_REQUIRE(local);
    auto port = host.middleman().publish(*local, 0, "127.0.0.1");
    CAF_REQUIRE(port);
    auto remote = client.middleman().remote_actor<wsm::machine_actor>(
      "127.0.0.1", *port);
    CAF_REQUIRE(remote);
    return *remote;
  }

  /// Publishes `local` on the host node and returns the client node's
  /// handle to it.
  wsm::spawner_actor remote_spawner(const wsm::spawner_actor& local) {
    auto port = host.middleman().publish(local, 0, "127.0.0.1");
    CAF_REQUIRE(port);
    auto remote = client.middleman().remote_actor<wsm::spawner_actor>(
      "127.0.0.1", *port);
    CAF_REQUIRE(remote);
    return *remote;
  }

  wsm::status next_status() {
    return wsm_test::next_status(self);
  }

  /// Subscribes `self` across the link and returns the machine's status
  /// once it is CONNECTED (the reply already, or a later status).
  wsm::status subscribe_until_connected(const wsm::machine_actor& machine) {
    wsm::status current;
    self->request(machine, event_timeout, wsm::subscribe_atom::value,
                  caf::actor_cast<caf::actor>(self))
      .receive([&](wsm::status& x) { current = std::move(x); },
               [](caf::error& err) {
                 CAF_FAIL("subscribe failed: " << wsm::describe(err));
               });
    return current.state == state::connected ? current
                                             : wait_for(state::connected);
  }

  wsm::status wait_for(state expected) {
    return wsm_test::wait_for(self, expected);
  }

  /// Quits `machine` and waits until it has ended on the host node. A quit
  /// sent as the test ends could still be on its way when this node's
  /// middleman stops: the machine would live on, and the host's actor
  /// system would wait for it forever.
  void quit(const wsm::machine_actor& machine) {
    self->monitor(machine);
    self->send(machine, wsm::command::quit);
    for (bool ended = false; !ended;)
      self->receive(
        [&](const caf::down_msg& x) {
          CAF_CHECK(x.source == machine.address());
          ended = true;
        },
        [](const wsm::status&) {}, [](const wsm::input&) {},
        caf::after(event_timeout) >> [] { CAF_FAIL("the machine lives on"); });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(distributed_tests, fixture)

CAF_TEST(a remote actor subscribes sends with receipts and gets stats) {
  auto machine = remote_machine();
  // Subscribe: the reply is the current status, across the link.
  auto up = subscribe_until_connected(machine);
  CAF_CHECK_EQUAL(up.epoch, 1u);
  // An output as a request: the receipt comes back once it is written.
  bool written = false;
  self->request(machine, event_timeout, wsm::output{"from afar"})
    .receive([&] { written = true; },
             [](caf::error& err) {
               CAF_FAIL("no receipt: " << wsm::describe(err));
             });
  CAF_CHECK(written);
  // The echo arrives as input on this node.
  self->receive(
    [](const wsm::input& x) { CAF_CHECK_EQUAL(x.payload, "from afar"); },
    caf::after(event_timeout) >> [] { CAF_FAIL("no input"); });
  // Commands and stats.
  self->send(machine, wsm::command::use_text);
  self->send(machine, wsm::output{"as text"});
  self->receive([](const wsm::input& x) { CAF_CHECK(x.text); },
                caf::after(event_timeout) >> [] { CAF_FAIL("no input"); });
  self->request(machine, event_timeout, wsm::get_atom::value,
                wsm::stats_atom::value)
    .receive(
      [](const wsm::stats& x) {
        CAF_CHECK_EQUAL(x.connects, 1u);
        CAF_CHECK_EQUAL(x.messages_out, 2u);
        CAF_CHECK_EQUAL(x.messages_in, 2u);
      },
      [](caf::error& err) { CAF_FAIL("no stats: " << wsm::describe(err)); });
  // Quit: the last DISCONNECTED crosses too.
  self->send(machine, wsm::command::quit);
  auto last = wait_for(state::disconnected);
  CAF_CHECK_EQUAL(last.error, "");
}

CAF_TEST(an output that can never be written comes back across nodes) {
  wsm::options opts;
  opts.max_queue = 1;
  auto machine = remote_machine(opts);
  subscribe_until_connected(machine);
  self->send(machine, wsm::command::suspend);
  wait_for(state::disconnected);
  // The queue holds one while suspended; the second goes back to its
  // sender on the other node, with the reason.
  self->send(machine, wsm::output{"kept"});
  self->send(machine, wsm::output{"refused"});
  self->receive(
    [](const wsm::undelivered& x) {
      CAF_CHECK_EQUAL(x.payload, "refused");
      CAF_CHECK_EQUAL(x.reason, "queue full");
    },
    caf::after(event_timeout) >> [] { CAF_FAIL("nothing came back"); });
  // A request refused the same way gets the error as its answer.
  self->request(machine, event_timeout, wsm::output{"also refused"})
    .receive([] { CAF_FAIL("written while suspended"); },
             [](caf::error& err) {
               CAF_CHECK_EQUAL(wsm::describe(err), "queue full");
             });
  quit(machine);
}

CAF_TEST(a remote node places a machine through a spawner) {
  auto local_spawner = wsm::spawn_spawner(host);
  auto spawner = remote_spawner(local_spawner);
  auto url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/echo";
  // Options cross with the request: text frames here.
  wsm::options opts;
  opts.text = true;
  wsm::machine_actor machine;
  self->request(spawner, event_timeout, wsm::spawn_atom::value, url, opts,
                caf::actor_cast<caf::actor>(self))
    .receive([&](wsm::machine_actor& x) { machine = std::move(x); },
             [](caf::error& err) {
               CAF_FAIL("spawn failed: " << wsm::describe(err));
             });
  CAF_REQUIRE(machine);
  // The first subscriber sees the very first CONNECTING from the other node.
  CAF_CHECK_EQUAL(next_status(), (wsm::status{state::connecting, "", 1, 0}));
  wait_for(state::connected);
  self->send(machine, wsm::output{"placed remotely"});
  self->receive(
    [](const wsm::input& x) {
      CAF_CHECK_EQUAL(x.payload, "placed remotely");
      CAF_CHECK(x.text);
    },
    caf::after(event_timeout) >> [] { CAF_FAIL("no input"); });
  // A bad URL is refused with the reason, across the link.
  self->request(spawner, event_timeout, wsm::spawn_atom::value,
                std::string{"http://127.0.0.1/"}, wsm::options{},
                caf::actor{})
    .receive([](wsm::machine_actor&) { CAF_FAIL("spawned a bad URL"); },
             [](caf::error& err) {
               CAF_CHECK_EQUAL(wsm::describe(err),
                               "invalid URL 'http://127.0.0.1/': scheme must "
                               "be ws:// or wss://, not http://");
             });
  self->send(machine, wsm::command::quit);
  wait_for(state::disconnected);
  caf::anon_send_exit(local_spawner, caf::exit_reason::user_shutdown);
}

CAF_TEST(a placed machine quits when the actor it was placed for ends) {
  auto local_spawner = wsm::spawn_spawner(host);
  auto spawner = remote_spawner(local_spawner);
  auto url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/echo";
  wsm::machine_actor machine;
  {
    caf::scoped_actor owner{client};
    owner
      ->request(spawner, event_timeout, wsm::spawn_atom::value, url,
                wsm::options{}, caf::actor_cast<caf::actor>(owner))
      .receive([&](wsm::machine_actor& x) { machine = std::move(x); },
               [](caf::error& err) {
                 CAF_FAIL("spawn failed: " << wsm::describe(err));
               });
    CAF_REQUIRE(machine);
    wsm_test::wait_for(owner, state::connected);
    self->monitor(machine);
  }
  // Its owner is gone: nobody is left to use the machine on the other node.
  self->receive(
    [&](const caf::down_msg& x) {
      CAF_CHECK(x.source == machine.address());
      CAF_CHECK_EQUAL(x.reason, caf::error{});
    },
    caf::after(event_timeout) >> [] { CAF_FAIL("the machine lives on"); });
  caf::anon_send_exit(local_spawner, caf::exit_reason::user_shutdown);
}

CAF_TEST(a slow subscriber on another node bounds the read of the machine) {
  // The machine is on the host node; the subscriber, on this one, takes
  // 25us (and a sleep's overhead) per input of a feed far longer than the
  // bound. Its mailbox never holds more than max_inbox: the machine waits
  // for its answers across the link and stops reading meanwhile.
  constexpr uint64_t count = 10000;
  wsm::options opts;
  auto machine = remote_machine(opts);
  auto slow = client.spawn<caf::detached>(wsm_test::slow_subscriber,
                                          std::chrono::microseconds(25), count,
                                          caf::actor_cast<caf::actor>(self));
  wsm::status current;
  self->request(machine, event_timeout, wsm::subscribe_atom::value, slow)
    .receive([&](wsm::status& x) { current = std::move(x); },
             [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  if (current.state != state::connected) {
    // Not up yet: wait for CONNECTED through a subscription of our own.
    subscribe_until_connected(machine);
    self->send(machine, wsm::unsubscribe_atom::value,
               caf::actor_cast<caf::actor>(self));
  }
  self->send(machine, wsm::output{"/FEED " + std::to_string(count) + " 1024"});
  bool fed = false;
  while (!fed)
  self->receive(
    [&](wsm_test::fed_atom, uint64_t received, bool in_order,
        size_t most_waiting) {
      fed = true;
      CAF_CHECK_EQUAL(received, count);
      CAF_CHECK(in_order);
      CAF_MESSAGE("at most " << most_waiting << " inputs waiting");
      CAF_CHECK_LESS_OR_EQUAL(most_waiting, opts.max_inbox);
    },
    [](const wsm::status&) {},
    caf::after(std::chrono::seconds(60)) >> [] {
      CAF_FAIL("the feed did not arrive within 60s");
    });
  self->request(machine, event_timeout, wsm::get_atom::value,
                wsm::stats_atom::value)
    .receive([](const wsm::stats& x) { CAF_CHECK_GREATER(x.read_pauses, 0u); },
             [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  quit(machine);
  caf::anon_send_exit(slow, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()

#pragma once

// A real actor system, with a scoped actor that subscribes to machines and
// waits for what they send, each wait bounded.

#include <chrono>
#include <string>

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/test/unit_test.hpp>

#include "wsm/wsm.hpp"

namespace wsm_test {

constexpr auto event_timeout = std::chrono::seconds(5);

using answered_atom = caf::atom_constant<caf::atom("answered")>;

/// Sends `count` outputs as requests, then reports how many were answered
/// as written, how many with an error and how many never.
inline caf::behavior counting_sender(caf::event_based_actor* self,
                              wsm::machine_actor machine, size_t count,
                              std::string payload, caf::actor report_to) {
  auto written = std::make_shared<size_t>(0);
  auto failed = std::make_shared<size_t>(0);
  // Requests the machine never answered: their own timeout ended them.
  auto unanswered = std::make_shared<size_t>(0);
  auto done = [=] {
    if (*written + *failed + *unanswered == count) {
      self->send(report_to, answered_atom::value, *written, *failed,
                 *unanswered);
      self->quit();
    }
  };
  for (size_t i = 0; i < count; ++i)
    self->request(machine, std::chrono::seconds(30), wsm::output{payload})
      .then([=] { ++*written; done(); },
            [=](caf::error& err) {
              ++*(err == caf::sec::request_timeout ? unanswered : failed);
              done();
            });
  return {[](const wsm::input&) {}};
}


/// The next status `self` receives, within the bound.
inline wsm::status next_status(caf::scoped_actor& self) {
  wsm::status result;
  self->receive([&](wsm::status& x) { result = std::move(x); },
                caf::after(event_timeout) >> [] {
                  CAF_FAIL("no status within the bound");
                });
  return result;
}

/// Skips statuses until one in state `expected` comes, and returns it.
inline wsm::status wait_for(caf::scoped_actor& self, wsm::state expected) {
  for (;;) {
    auto x = next_status(self);
    if (x.state == expected)
      return x;
  }
}

struct live_fixture {
  wsm::config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  wsm::options opts;

  live_fixture() {
    // Long enough that no test sees a second attempt it did not ask for.
    opts.retry_delay = std::chrono::seconds(10);
    opts.backoff_jitter = 0;
    // A link that drops reconnects at once, however short it was up (the
    // tests of flap protection set their own).
    opts.min_uptime = caf::timespan{0};
  }

  /// CONNECTED as a machine reports it for a link to `url` (without
  /// credentials).
  static wsm::status connected_to(const std::string& url, uint32_t attempt,
                                  uint64_t epoch) {
    wsm::status result{wsm::state::connected, "", attempt, epoch};
    result.url = url;
    return result;
  }

  static std::string url_of(uint16_t port, const std::string& path = "/echo") {
    return "ws://127.0.0.1:" + std::to_string(port) + path;
  }

  /// Spawns a machine with `self` as its first subscriber.
  wsm::machine_actor spawn(const std::string& target) {
    auto result = wsm::spawn_machine(sys, target, opts,
                                     caf::actor_cast<caf::actor>(self));
    CAF_REQUIRE(result);
    return *result;
  }

  wsm::status next_status() {
    return wsm_test::next_status(self);
  }

  wsm::input next_input() {
    wsm::input result;
    self->receive([&](wsm::input& x) { result = std::move(x); },
                  caf::after(event_timeout) >> [] {
                    CAF_FAIL("no input within the bound");
                  });
    return result;
  }

  void expect_state(wsm::state expected) {
    auto x = next_status();
    CAF_CHECK_EQUAL(std::string{wsm::to_string(x.state)},
                    std::string{wsm::to_string(expected)});
  }

  wsm::status wait_for(wsm::state expected) {
    return wsm_test::wait_for(self, expected);
  }

  caf::actor counter;

  /// Starts sending `count` outputs as requests.
  void send_requests(const wsm::machine_actor& machine, size_t count,
                     const std::string& payload) {
    counter = sys.spawn(counting_sender, machine, count, payload,
                        caf::actor_cast<caf::actor>(self));
  }

  /// Waits until every request was answered: how many were written, how
  /// many failed. A request the machine never answered (its timeout ended
  /// it) fails the test: an output the machine lost.
  std::pair<size_t, size_t> answers() {
    std::pair<size_t, size_t> result;
    self->receive(
      [&](answered_atom, size_t written, size_t failed, size_t unanswered) {
        CAF_CHECK_EQUAL(unanswered, 0u);
        result = {written, failed};
      },
      caf::after(std::chrono::seconds(30)) >> [] {
        CAF_FAIL("an output was never answered");
      });
    return result;
  }

  /// Quits the machine and waits for its final DISCONNECTED and its end.
  void quit(const wsm::machine_actor& machine) {
    self->monitor(machine);
    self->send(machine, wsm::command::quit);
    wait_for(wsm::state::disconnected);
    self->receive([](const caf::down_msg&) {},
                  caf::after(event_timeout) >> [] {
                    CAF_FAIL("the machine did not end");
                  });
  }
};

} // namespace wsm_test

#pragma once

// A real actor system, with a scoped actor that subscribes to machines and
// waits for what they send, each wait bounded.

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/test/unit_test.hpp>

#include "wsm/wsm.hpp"

namespace wsm_test {

constexpr auto event_timeout = std::chrono::seconds(5);

struct live_fixture {
  wsm::config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  wsm::options opts;

  live_fixture() {
    // Long enough that no test sees a second attempt it did not ask for.
    opts.retry_delay = std::chrono::seconds(10);
    opts.backoff_jitter = 0;
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
    wsm::status result;
    self->receive([&](wsm::status& x) { result = std::move(x); },
                  caf::after(event_timeout) >> [] {
                    CAF_FAIL("no status within the bound");
                  });
    return result;
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

  /// Skips statuses until one in state `expected` comes, and returns it.
  wsm::status wait_for(wsm::state expected) {
    for (;;) {
      auto x = next_status();
      if (x.state == expected)
        return x;
    }
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

// libFuzzer target: a machine fed a random sequence of broker events and
// user messages on CAF's deterministic scheduler, then told to quit.
// Nothing may crash, and no output may be lost silently: every output sent
// as a request gets exactly one answer, written or refused (`undelivered`,
// or `machine_quit`); the machine ends within a bounded number of timer
// firings after quit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "wsm/wsm.hpp"

namespace {

void require(bool condition) {
  if (!condition)
    std::abort();
}

/// What the fuzzer's actors saw, shared with the driver.
struct observed {
  /// Id of the connection the machine opened last.
  uint64_t last_id = 0;
  /// Writes the broker got, per connection, not yet acknowledged.
  std::map<uint64_t, uint64_t> unacked;
  uint64_t requests = 0;
  uint64_t written = 0;
  uint64_t refused = 0;
  uint64_t other_errors = 0;
  bool machine_down = false;
};

using fire_atom = caf::atom_constant<caf::atom("fire")>;

/// Records what the machine asks of its broker; the driver answers.
class fake_broker : public caf::event_based_actor {
public:
  fake_broker(caf::actor_config& cfg, observed* seen)
    : caf::event_based_actor(cfg), seen_(seen) {
  }

  caf::behavior make_behavior() override {
    return {
      [this](wsm::open_atom, uint64_t id, const wsm::connect_request&) {
        seen_->last_id = id;
        seen_->unacked[id] = 0;
      },
      [this](wsm::write_atom, uint64_t id, const std::string&, bool) {
        ++seen_->unacked[id];
      },
      [](wsm::ping_atom, uint64_t) {},
      [](wsm::ping_atom, uint64_t, const std::string&) {},
      [](wsm::close_atom, uint64_t) {},
      [this](wsm::abort_atom, uint64_t id) { seen_->unacked.erase(id); },
    };
  }

private:
  observed* seen_;
};

/// Sends outputs as requests and counts the answers; also the machine's
/// subscriber, and its watcher.
class requester : public caf::event_based_actor {
public:
  requester(caf::actor_config& cfg, observed* seen)
    : caf::event_based_actor(cfg), seen_(seen) {
    set_down_handler([this](caf::down_msg&) { seen_->machine_down = true; });
  }

  caf::behavior make_behavior() override {
    return {
      [this](fire_atom, const wsm::machine_actor& machine, std::string& x) {
        ++seen_->requests;
        request(machine, caf::infinite, wsm::output{std::move(x)})
          .then([this] { ++seen_->written; },
                [this](caf::error& err) {
                  // Refused, or given back by a machine that quit.
                  auto undelivered
                    = err.category() == caf::atom("wsm")
                      && (err.code()
                            == static_cast<uint8_t>(wsm::errc::undelivered)
                          || err.code()
                               == static_cast<uint8_t>(
                                 wsm::errc::machine_quit));
                  // Sent after the machine gave up: CAF says so.
                  auto gone = err == caf::sec::request_receiver_down
                              && seen_->machine_down;
                  if (undelivered || gone)
                    ++seen_->refused;
                  else
                    ++seen_->other_errors;
                });
      },
      [this](caf::atom_value, const wsm::machine_actor& machine) {
        monitor(machine);
      },
      [](const wsm::status& x) {
        require(static_cast<uint8_t>(x.state) <= 3);
      },
      [](const wsm::input&) {},
      [](const wsm::undelivered&) {},
    };
  }

private:
  observed* seen_;
};

// Not wsm::config: its scheduler settings are of no use here, and in a
// clang build CAF 0.17 (built with gcc) crashes setting an integer option
// from code compiled by clang.
struct fuzz_config : caf::actor_system_config {
  fuzz_config() {
    wsm::init(*this);
    set("scheduler.policy", caf::atom("testing"));
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  size_t pos = 0;
  auto next = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  fuzz_config cfg;
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(
    sys.scheduler());
  observed seen;
  wsm::options opts;
  opts.max_queue = 1 + next() % 4;
  opts.overflow = static_cast<wsm::overflow_policy>(next() % 3);
  opts.backoff_jitter = 0;
  opts.reconnect_jitter = caf::timespan{0};
  opts.max_retries = next() % 4;
  auto broker = sys.spawn<fake_broker>(&seen);
  auto user = sys.spawn<requester>(&seen);
  auto machine = wsm::spawn_machine_with(
    sys, "ws://127.0.0.1:9/", opts, user,
    caf::actor_cast<wsm::broker_actor>(broker), wsm::spawn_timer_relay(sys));
  require(static_cast<bool>(machine));
  // The fuzzer plays the broker too.
  auto target = caf::actor_cast<wsm::machine_transport_actor>(*machine);
  caf::anon_send(user, caf::atom("watch"), *machine);
  sched.run();
  while (pos < size) {
    auto id = seen.last_id;
    switch (next() % 9) {
      case 0:
        caf::anon_send(user, fire_atom::value, *machine,
                       std::string(next() % 8, 'x'));
        break;
      case 1:
        caf::anon_send(*machine, static_cast<wsm::command>(next() % 7));
        break;
      case 2:
        caf::anon_send(target, wsm::connected_atom::value, id,
                       wsm::link_info{});
        break;
      case 3:
        caf::anon_send(target, wsm::received_atom::value, id,
                       wsm::input{"in", false});
        break;
      case 4: {
        auto cause = static_cast<wsm::close_cause>(next()
                                                   % wsm::close_cause_count);
        seen.unacked.erase(id);
        caf::anon_send(target, wsm::closed_atom::value, id,
                       wsm::disconnect_info{cause, "fuzz", 0, 0});
        break;
      }
      case 5: {
        auto& unacked = seen.unacked[id];
        uint64_t count = std::min<uint64_t>(next() % 4, unacked);
        if (count > 0) {
          unacked -= count;
          caf::anon_send(target, wsm::written_atom::value, id, count);
        }
        break;
      }
      case 6:
        caf::anon_send(target, wsm::pong_atom::value, id);
        break;
      case 7:
        sched.trigger_timeout();
        break;
      default:
        caf::anon_send(*machine, wsm::get_atom::value, wsm::stats_atom::value);
        break;
    }
    sched.run();
  }
  // Quit: the machine must end, its close bounded by close_timeout.
  caf::anon_send(*machine, wsm::command::quit);
  sched.run();
  for (int i = 0; i < 1000 && !seen.machine_down; ++i) {
    if (!sched.trigger_timeout())
      break;
    sched.run();
  }
  sched.run();
  require(seen.machine_down);
  // Every request answered once, as written or as undelivered.
  require(seen.other_errors == 0);
  require(seen.written + seen.refused == seen.requests);
  caf::anon_send_exit(broker, caf::exit_reason::kill);
  caf::anon_send_exit(user, caf::exit_reason::kill);
  sched.run();
  return 0;
}

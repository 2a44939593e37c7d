// The workloads through wsm: machines in an actor system, driven by actors
// that subscribe to them, exactly as a program would use them.

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "loopback_broker.hpp"
#include "progress.hpp"
#include "workload.hpp"
#include "wsm/wsm.hpp"

namespace wsm_bench {

namespace {

using clock_type = std::chrono::steady_clock;
using done_atom = caf::atom_constant<caf::atom("done")>;
using level_atom = caf::atom_constant<caf::atom("level")>;

/// Drives one machine: throughput (a window of echoes outstanding) or
/// pingpong (a window of one, each round trip timed).
struct driver_state {
  size_t sent = 0;
  size_t received = 0;
  double cpu_before = 0;
  clock_type::time_point start;
  clock_type::time_point sent_at;
  std::vector<double> latencies;
  std::unique_ptr<progress> report;
  static inline const char* name = "wsm-bench.driver";
};

caf::behavior driver(caf::stateful_actor<driver_state>* self,
                     wsm::machine_actor machine, workload w,
                     caf::actor report_to) {
  auto payload = std::make_shared<const std::string>(w.size, 'x');
  auto window = w.kind == workload_kind::pingpong ? size_t{1} : w.window;
  self->state.latencies.reserve(w.kind == workload_kind::pingpong ? w.count
                                                                  : 0);
  self->state.report = std::make_unique<progress>(
    std::string{"wsm "} + to_string(w.kind), w.count);
  auto send_one = [=] {
    auto& st = self->state;
    ++st.sent;
    st.sent_at = clock_type::now();
    self->send(machine, wsm::output{*payload});
  };
  return {
    [=](const wsm::status& x) {
      auto& st = self->state;
      if (x.state != wsm::state::connected || st.sent > 0)
        return;
      st.cpu_before = process_cpu_us();
      st.start = clock_type::now();
      while (st.sent < w.count && st.sent < window)
        send_one();
    },
    [=](const wsm::input&) {
      auto& st = self->state;
      if (w.kind == workload_kind::pingpong)
        st.latencies.push_back(std::chrono::duration<double, std::micro>(
                                 clock_type::now() - st.sent_at)
                                 .count());
      st.report->update(++st.received);
      if (st.sent < w.count)
        send_one();
      if (st.received < w.count)
        return;
      auto seconds =
        std::chrono::duration<double>(clock_type::now() - st.start).count();
      self->send(report_to, done_atom::value, seconds,
                 process_cpu_us() - st.cpu_before, st.latencies);
      self->send(machine, wsm::command::quit);
    },
  };
}

/// Counts what many machines report: CONNECTED by epoch, inputs, attempts.
struct counter_state {
  size_t machines = 0;
  std::vector<size_t> connected_by_epoch;
  size_t echoed = 0;
  size_t attempts = 0;
  std::unique_ptr<progress> report;
  static inline const char* name = "wsm-bench.counter";
};

caf::behavior counter(caf::stateful_actor<counter_state>* self,
                      size_t machines, caf::actor report_to) {
  self->state.machines = machines;
  self->state.report = std::make_unique<progress>("wsm: connected", machines);
  return {
    [=](const wsm::status& x) {
      auto& st = self->state;
      if (x.state == wsm::state::connecting)
        ++st.attempts;
      if (x.state != wsm::state::connected)
        return;
      if (st.connected_by_epoch.size() <= x.epoch)
        st.connected_by_epoch.resize(x.epoch + 1);
      auto n = ++st.connected_by_epoch[x.epoch];
      st.report->update(n);
      // All machines at this epoch: all connected (1), all back (2).
      if (n == st.machines)
        self->send(report_to, level_atom::value, x.epoch, monotonic_ms(),
                   st.attempts);
    },
    [=](const wsm::input&) {
      if (++self->state.echoed == self->state.machines)
        self->send(report_to, done_atom::value, monotonic_ms());
    },
  };
}

/// Waits for `(level_atom, epoch, ...)` with that epoch; returns its time.
std::pair<double, size_t> wait_for_level(caf::scoped_actor& self,
                                         uint64_t epoch) {
  std::pair<double, size_t> result{-1, 0};
  self->receive(
    [&](level_atom, uint64_t reached, double at, size_t attempts) {
      if (reached != epoch)
        throw std::runtime_error("unexpected epoch");
      result = {at, attempts};
    },
    caf::after(std::chrono::minutes(5)) >> [] {
      throw std::runtime_error("machines did not all connect within 5 min");
    });
  return result;
}

std::vector<wsm::machine_actor> spawn_many(caf::actor_system& sys,
                                           const workload& w,
                                           const wsm::options& opts,
                                           const caf::actor& subscriber) {
  std::vector<wsm::machine_actor> result;
  result.reserve(w.count);
  // Simulated: no sockets, so no descriptor limit; the same machines.
  caf::actor broker;
  caf::actor relay;
  if (w.simulate) {
    broker = sys.spawn(loopback_broker, true);
    relay = wsm::spawn_timer_relay(sys);
  }
  for (size_t i = 0; i < w.count; ++i) {
    auto machine = w.simulate
                     ? wsm::spawn_machine_with(
                       sys, w.url, opts, subscriber,
                       caf::actor_cast<wsm::broker_actor>(broker), relay)
                     : wsm::spawn_machine(sys, w.url, opts, subscriber);
    if (!machine)
      throw std::runtime_error(wsm::describe(machine.error()));
    result.push_back(std::move(*machine));
  }
  return result;
}

measurement one_machine(caf::actor_system& sys, const workload& w) {
  caf::scoped_actor self{sys};
  auto machine = wsm::spawn_machine(sys, w.url, {}, nullptr);
  if (!machine)
    throw std::runtime_error(wsm::describe(machine.error()));
  auto drive = sys.spawn(driver, *machine, w,
                         caf::actor_cast<caf::actor>(self));
  self->request(*machine, std::chrono::seconds(10), wsm::subscribe_atom::value,
                drive)
    .receive(
      [&](const wsm::status& x) {
        // Connected already: the driver missed that status, so hand it over.
        caf::anon_send(drive, x);
      },
      [&](caf::error& err) {
        throw std::runtime_error("subscribe: " + wsm::describe(err));
      });
  measurement result;
  self->receive(
    [&](done_atom, double seconds, double cpu_us,
        std::vector<double>& latencies) {
      result = per_message(w.count, seconds, cpu_us);
      result.p50_us = percentile(latencies, 0.5);
      result.p99_us = percentile(latencies, 0.99);
      result.p999_us = percentile(latencies, 0.999);
    },
    caf::after(std::chrono::minutes(5)) >> [] {
      throw std::runtime_error("no result within 5 min");
    });
  return result;
}

measurement scale(caf::actor_system& sys, const workload& w) {
  caf::scoped_actor self{sys};
  auto count = sys.spawn(counter, w.count, caf::actor_cast<caf::actor>(self));
  auto rss_before = resident_kib();
  auto start = monotonic_ms();
  auto machines = spawn_many(sys, w, {}, count);
  measurement result;
  result.all_connected_ms = wait_for_level(self, 1).first - start;
  result.rss_kib_per_machine =
    (resident_kib() - rss_before) / static_cast<double>(w.count);
  start = monotonic_ms();
  for (auto& machine : machines)
    caf::anon_send(machine, wsm::output{std::string(w.size, 'x')});
  self->receive([&](done_atom, double at) { result.all_echoed_ms = at - start; },
                caf::after(std::chrono::minutes(5)) >> [] {
                  throw std::runtime_error("not all echoed within 5 min");
                });
  result.rss_kib_per_machine_after_traffic =
    (resident_kib() - rss_before) / static_cast<double>(w.count);
  for (auto& machine : machines)
    caf::anon_send(machine, wsm::command::quit);
  return result;
}

measurement storm(caf::actor_system& sys, const workload& w) {
  caf::scoped_actor self{sys};
  auto count = sys.spawn(counter, w.count, caf::actor_cast<caf::actor>(self));
  auto machines = spawn_many(sys, w, {}, count);
  auto up = wait_for_level(self, 1);
  // The parent process takes the server away on this line, and brings it
  // back after the down time.
  std::printf("READY\n");
  std::fflush(stdout);
  measurement result;
  auto back = wait_for_level(self, 2);
  result.reconnected_at_ms = back.first;
  result.attempts = static_cast<double>(back.second - up.second);
  for (auto& machine : machines)
    caf::anon_send(machine, wsm::command::quit);
  return result;
}

} // namespace

measurement run_wsm(const workload& w) {
  measurement result;
  {
    wsm::config cfg;
    if (w.connect_rate > 0)
      cfg.set("wsm.connect-rate", w.connect_rate);
    if (w.io_threads > 0)
      cfg.set("wsm.io-threads", w.io_threads);
    cfg.set("wsm.scheduler", w.scheduler);
    caf::actor_system sys{cfg};
    switch (w.kind) {
      case workload_kind::throughput:
      case workload_kind::pingpong:
        result = one_machine(sys, w);
        break;
      case workload_kind::scale:
        result = scale(sys, w);
        break;
      case workload_kind::storm:
        result = storm(sys, w);
        break;
    }
  }
  result.workload = to_string(w.kind);
  result.client = "wsm";
  return result;
}

} // namespace wsm_bench

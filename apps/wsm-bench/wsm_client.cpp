// The workloads through wsm: machines in an actor system, driven by actors
// that subscribe to them, exactly as a program would use them.

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
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

/// Drives one machine: throughput (a window of echoes outstanding),
/// pingpong (a window of one, each round trip timed) or feed (one request,
/// then every message the server pushes, checked for order). A warm-up
/// round of the same kind runs first, untimed, as the baseline's does.
struct driver_state {
  size_t target = 0;
  size_t sent = 0;
  size_t received = 0;
  bool warming_up = true;
  bool in_order = true;
  double cpu_before = 0;
  double idle_rss_kib = 0;
  clock_type::time_point start;
  clock_type::time_point sent_at;
  std::vector<double> latencies;
  std::unique_ptr<progress> report;
  static inline const char* name = "wsm-bench.driver";
};

caf::behavior driving(caf::stateful_actor<driver_state>* self,
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
    self->send(machine, wsm::shared_output(payload));
  };
  auto begin = [=](size_t count) {
    auto& st = self->state;
    st.target = count;
    st.sent = 0;
    st.received = 0;
    if (w.kind == workload_kind::feed) {
      // A feed at the URL is under way already: it holds both counts.
      if (!w.feed_at_url)
        self->send(machine, wsm::output{feed_request(count, w.size)});
      return;
    }
    while (st.sent < count && st.sent < window)
      send_one();
  };
  return {
    [=](const wsm::status& x) {
      auto& st = self->state;
      if (x.state != wsm::state::connected || st.target > 0)
        return;
      begin(warm_up_count(w));
    },
    [=](const wsm::input& x) {
      auto& st = self->state;
      if (w.slow_subscriber_us > 0)
        std::this_thread::sleep_for(
          std::chrono::microseconds(w.slow_subscriber_us));
      if (w.kind == workload_kind::feed
          && (x.payload.size() != w.size
              || (!w.feed_at_url
                  && feed_sequence(x.payload.data(), x.payload.size())
                       != st.received)))
        st.in_order = false;
      if (w.kind == workload_kind::pingpong && !st.warming_up)
        st.latencies.push_back(std::chrono::duration<double, std::micro>(
                                 clock_type::now() - st.sent_at)
                                 .count());
      ++st.received;
      if (!st.warming_up)
        st.report->update(st.received);
      if (w.kind != workload_kind::feed && st.sent < st.target)
        send_one();
      if (st.received < st.target)
        return;
      if (st.warming_up) {
        st.warming_up = false;
        st.idle_rss_kib = resident_kib();
        st.cpu_before = process_cpu_us();
        st.start = clock_type::now();
        // The parent measures how busy its server is from here on.
        std::printf("TIMED\n");
        std::fflush(stdout);
        begin(w.count);
        return;
      }
      auto seconds =
        std::chrono::duration<double>(clock_type::now() - st.start).count();
      auto cpu = process_cpu_us() - st.cpu_before;
      std::printf("UNTIMED\n");
      std::fflush(stdout);
      self->send(report_to, done_atom::value, seconds, cpu, st.latencies,
                 st.in_order, st.idle_rss_kib);
      self->send(machine, wsm::command::quit);
      // Done: on another node, its actor system can end only then.
      self->quit();
    },
  };
}

/// The driver, spawned before its machine when the machine is to have it as
/// its first subscriber (a feed the server pushes at once would otherwise
/// pass before it subscribed): everything waits until the machine's handle
/// arrives.
caf::behavior driver(caf::stateful_actor<driver_state>* self,
                     wsm::machine_actor machine, workload w,
                     caf::actor report_to) {
  if (machine)
    return driving(self, machine, w, report_to);
  self->set_default_handler(caf::skip);
  return {
    [=](const wsm::machine_actor& spawned) {
      self->set_default_handler(caf::print_and_drop);
      self->become(driving(self, spawned, w, report_to));
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
  auto local = opts;
  for (size_t i = 0; i < w.count; ++i) {
    local.local_address = source_address_of(i, w.source_addresses);
    auto machine = w.simulate
                     ? wsm::spawn_machine_with(
                       sys, w.url, local, subscriber,
                       caf::actor_cast<wsm::broker_actor>(broker), relay)
                     : wsm::spawn_machine(sys, w.url, local, subscriber);
    if (!machine)
      throw std::runtime_error(wsm::describe(machine.error()));
    result.push_back(std::move(*machine));
  }
  return result;
}

/// The subscriber of `one_machine`: here, on a thread of its own when it
/// is slow (a detached actor), or in another actor system reached through
/// the middleman (another node).
caf::actor spawn_driver(caf::actor_system& sys, caf::actor_system* remote,
                        const wsm::machine_actor& machine, const workload& w,
                        const caf::actor& report_to) {
  if (remote == nullptr)
    return w.slow_subscriber_us > 0
             ? sys.spawn<caf::detached>(driver, machine, w, report_to)
             : sys.spawn(driver, machine, w, report_to);
  // The driver lives on the other node, and is known here as a proxy.
  auto there = remote->spawn<caf::detached>(driver, machine, w, report_to);
  auto port = remote->middleman().publish(there, 0, "127.0.0.1");
  if (!port)
    throw std::runtime_error("publish: " + wsm::describe(port.error()));
  auto proxy = sys.middleman().remote_actor("127.0.0.1", *port);
  if (!proxy)
    throw std::runtime_error("remote_actor: " + wsm::describe(proxy.error()));
  return *proxy;
}

/// Waits until every actor of `xs` has ended, bounded. Before the other
/// node's actor system goes, its driver's last messages (the quit to the
/// machine, the news of its own end) must have crossed: a message its
/// middleman still held when stopped would keep the driver from being
/// destroyed, and the system's destructor would wait for it forever.
void await_ends(caf::scoped_actor& self, std::vector<caf::actor> xs) {
  for (auto& x : xs)
    self->monitor(x);
  for (size_t ended = 0; ended < xs.size(); ++ended)
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(10)) >> [] {
                    throw std::runtime_error(
                      "the machine and its remote driver did not end "
                      "within 10 s");
                  });
}

/// Waits for the driver's figures and the machine's read counters; with a
/// remote driver, until both have ended.
measurement await_result(caf::scoped_actor& self, const workload& w,
                         const wsm::machine_actor& machine,
                         const caf::actor& drive, caf::actor_system* remote) {
  measurement result;
  self->receive(
    [&](done_atom, double seconds, double cpu_us,
        std::vector<double>& latencies, bool in_order, double idle_rss_kib) {
      result = per_message(w.count, seconds, cpu_us);
      result.p50_us = percentile(latencies, 0.5);
      result.p99_us = percentile(latencies, 0.99);
      result.p999_us = percentile(latencies, 0.999);
      if (w.kind == workload_kind::feed) {
        // A feed at the URL has no sequence numbers: its sizes are checked,
        // its order cannot be.
        result.in_order = !in_order ? 0 : w.feed_at_url ? -1 : 1;
        result.peak_rss_above_idle_kib = peak_resident_kib() - idle_rss_kib;
      }
    },
    caf::after(std::chrono::minutes(5)) >> [] {
      throw std::runtime_error("no result within 5 min");
    });
  self->request(machine, std::chrono::seconds(10), wsm::get_atom::value,
                wsm::stats_atom::value)
    .receive(
      [&](const wsm::stats& x) {
        result.read_pauses = static_cast<double>(x.read_pauses);
        result.read_paused_ms =
          std::chrono::duration<double, std::milli>(x.read_paused).count();
      },
      [&](caf::error&) {
        // Quit already: the counters went with it.
      });
  if (remote != nullptr)
    await_ends(self, {caf::actor_cast<caf::actor>(machine), drive});
  return result;
}

measurement one_machine(caf::actor_system& sys, caf::actor_system* remote,
                        const workload& w) {
  caf::scoped_actor self{sys};
  wsm::options opts;
  if (w.max_inbox >= 0)
    opts.max_inbox = static_cast<size_t>(w.max_inbox);
  if (w.feed_at_url) {
    // The server pushes from the moment the link is up: the driver must be
    // the first subscriber.
    auto drive = w.slow_subscriber_us > 0
                   ? sys.spawn<caf::detached>(driver, wsm::machine_actor{}, w,
                                              caf::actor_cast<caf::actor>(self))
                   : sys.spawn(driver, wsm::machine_actor{}, w,
                               caf::actor_cast<caf::actor>(self));
    auto machine = wsm::spawn_machine(sys, feed_url(w.url, w), opts, drive);
    if (!machine)
      throw std::runtime_error(wsm::describe(machine.error()));
    caf::anon_send(drive, *machine);
    return await_result(self, w, *machine, drive, nullptr);
  }
  auto machine = wsm::spawn_machine(sys, w.url, opts, nullptr);
  if (!machine)
    throw std::runtime_error(wsm::describe(machine.error()));
  auto drive = spawn_driver(sys, remote, *machine, w,
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
  return await_result(self, w, *machine, drive, remote);
}

measurement scale(caf::actor_system& sys, const workload& w) {
  caf::scoped_actor self{sys};
  auto count = sys.spawn(counter, w.count, caf::actor_cast<caf::actor>(self));
  wsm::options opts;
  opts.deflate.enabled = w.deflate;
  if (w.deflate_window_bits > 0)
    opts.deflate.max_window_bits = w.deflate_window_bits;
  if (w.deflate_mem_level > 0)
    opts.deflate.mem_level = w.deflate_mem_level;
  auto rss_before = resident_kib();
  auto start = monotonic_ms();
  auto machines = spawn_many(sys, w, opts, count);
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
    if (!w.metrics_address.empty()) {
      cfg.set("wsm.metrics-address", w.metrics_address);
      cfg.set("wsm.metrics-per-machine", w.metrics_per_machine);
    }
    if (w.remote_subscriber)
      cfg.load<caf::io::middleman>();
    caf::actor_system sys{cfg};
    // Another node for a remote subscriber: a second actor system, linked
    // to this one over loopback by the middleman.
    std::unique_ptr<wsm::config> remote_cfg;
    std::unique_ptr<caf::actor_system> remote;
    if (w.remote_subscriber) {
      remote_cfg = std::make_unique<wsm::config>();
      remote_cfg->load<caf::io::middleman>();
      remote = std::make_unique<caf::actor_system>(*remote_cfg);
    }
    switch (w.kind) {
      case workload_kind::throughput:
      case workload_kind::pingpong:
      case workload_kind::feed:
        result = one_machine(sys, remote.get(), w);
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

// Micro-benchmarks of wsm's hot paths, with Google Benchmark: the pure
// functions a reconnect runs through, the output queue, and one output's
// way through a machine to a broker that acknowledges at once (the actor
// layer's cost per message, without a socket).

#include <benchmark/benchmark.h>

#include <deque>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "delivery/lazy_deque.hpp"
#include "loopback_broker.hpp"
#include "wsm/wsm.hpp"

namespace {

void backoff_delay(benchmark::State& state) {
  wsm::backoff_policy policy{std::chrono::seconds(1), 2.0,
                             std::chrono::seconds(30), 0.2};
  uint32_t attempt = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(
      wsm::backoff_delay(policy, attempt++ % 20 + 1, 0.5));
}
BENCHMARK(backoff_delay);

void token_bucket_take(benchmark::State& state) {
  wsm::token_bucket bucket{5000, 50, 50, caf::timespan{0}};
  caf::timespan now{0};
  for (auto _ : state) {
    now += std::chrono::microseconds(200);
    benchmark::DoNotOptimize(bucket.take(now));
  }
}
BENCHMARK(token_bucket_take);

/// An output queue's life: a burst queued while disconnected, then written.
template <class Queue>
void queue_burst(benchmark::State& state) {
  for (auto _ : state) {
    Queue queue;
    for (int64_t i = 0; i < state.range(0); ++i)
      queue.push_back(std::string(64, 'x'));
    while (!queue.empty())
      queue.pop_front();
    benchmark::DoNotOptimize(queue);
  }
}
BENCHMARK_TEMPLATE(queue_burst, std::deque<std::string>)->Arg(0)->Arg(16);
BENCHMARK_TEMPLATE(queue_burst, wsm::detail::lazy_deque<std::string>)
  ->Arg(0)
  ->Arg(16);

caf::behavior quiet_subscriber(caf::event_based_actor*, int) {
  return {[](const wsm::status&) {}, [](const wsm::input&) {}};
}

/// Outputs through a machine to the broker and its acknowledgements, 1000
/// per iteration.
void machine_output_step(benchmark::State& state) {
  wsm::config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto broker = sys.spawn(wsm_bench::loopback_broker, false);
  auto subscriber = sys.spawn(quiet_subscriber, 0);
  auto machine = wsm::spawn_machine_with(
    sys, "ws://127.0.0.1:9/", {}, subscriber,
    caf::actor_cast<wsm::broker_actor>(broker), wsm::spawn_timer_relay(sys));
  const uint64_t batch = 1000;
  for (auto _ : state) {
    self->send(broker, wsm_bench::loopback_go_atom::value, batch,
               caf::actor_cast<caf::actor>(self));
    for (uint64_t i = 0; i < batch; ++i)
      self->send(*machine, wsm::output{std::string(64, 'x')});
    self->receive([](wsm_bench::loopback_go_atom) {});
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
  self->send(*machine, wsm::command::quit);
  caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
}
BENCHMARK(machine_output_step)->UseRealTime();

using counted_atom = caf::atom_constant<caf::atom("counted")>;

/// Counts inputs; tells `report_to` at every `every`-th.
caf::behavior counting_subscriber(caf::event_based_actor* self, uint64_t every,
                                  caf::actor report_to) {
  auto seen = std::make_shared<uint64_t>(0);
  return {
    [](const wsm::status&) {},
    [=](const wsm::input&) {
      if (++*seen % every == 0)
        self->send(report_to, counted_atom::value);
    },
  };
}

/// One input fanned out to `range(0)` subscribers: the machine builds one
/// message for all of them. 1000 inputs per iteration.
void machine_fan_out(benchmark::State& state) {
  wsm::config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  const uint64_t batch = 1000;
  auto broker = sys.spawn(wsm_bench::loopback_broker, true);
  auto subscribers = static_cast<size_t>(state.range(0));
  std::vector<caf::actor> counters;
  for (size_t i = 0; i < subscribers; ++i)
    counters.push_back(sys.spawn(counting_subscriber, batch,
                                 caf::actor_cast<caf::actor>(self)));
  auto machine = wsm::spawn_machine_with(
    sys, "ws://127.0.0.1:9/", {}, counters.front(),
    caf::actor_cast<wsm::broker_actor>(broker), wsm::spawn_timer_relay(sys));
  for (size_t i = 1; i < subscribers; ++i)
    self->request(*machine, caf::infinite, wsm::subscribe_atom::value,
                  counters[i])
      .receive([](const wsm::status&) {}, [](caf::error&) {});
  for (auto _ : state) {
    for (uint64_t i = 0; i < batch; ++i)
      self->send(*machine, wsm::output{std::string(64, 'x')});
    for (size_t i = 0; i < subscribers; ++i)
      self->receive([](counted_atom) {});
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
  self->send(*machine, wsm::command::quit);
  caf::anon_send_exit(broker, caf::exit_reason::user_shutdown);
  for (auto& counter : counters)
    caf::anon_send_exit(counter, caf::exit_reason::user_shutdown);
}
BENCHMARK(machine_fan_out)->Arg(1)->Arg(8)->Arg(64)->UseRealTime();

} // namespace

BENCHMARK_MAIN();

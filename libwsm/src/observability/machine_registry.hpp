#pragma once

// What the machines of an actor system are doing, as the metrics endpoint
// and the status page see them. Present only when `wsm.metrics-address` is
// set: a machine then registers at spawn, reports each status it publishes
// and each ping's round trip, and leaves its last counters when it ends.
// Counters are not pushed per message: a scrape asks every machine for its
// `stats` (`collect`), so the data path pays nothing.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "machine/machine_observer.hpp"
#include "wsm/messages.hpp"

namespace wsm::detail {

/// One machine as the metrics and the page show it.
struct machine_view {
  uint64_t id = 0;
  /// The machine itself, weakly; empty for a pool's placement.
  caf::actor_addr machine;
  /// Without credentials.
  std::string url;
  std::string host;
  /// For a pool's machine: the node that holds it.
  std::string node;
  status last;
  /// As of the last collection (or as the machine left them).
  stats counters;
};

/// One change of state, for the page's timeline.
struct timeline_entry {
  std::chrono::system_clock::time_point time;
  uint64_t id = 0;
  std::string url;
  status what;
};

/// Round trips of pings, in the buckets Prometheus' histogram reports.
struct round_trip_histogram {
  /// Upper bounds in seconds; the last bucket (+Inf) is implied.
  static constexpr std::array<double, 12> bounds{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  /// Observations at or below each bound (not cumulative), then above all.
  std::array<uint64_t, bounds.size() + 1> counts{};
  double sum = 0;
  uint64_t count = 0;

  void observe(double seconds);
};

/// Everything one scrape or page view shows, copied out under the lock.
struct registry_snapshot {
  std::vector<machine_view> machines;
  /// The counters of machines that ended, summed, so that totals never go
  /// down when a machine goes.
  stats retired;
  uint64_t machines_ended = 0;
  round_trip_histogram round_trips;
  /// The last changes of state, oldest first.
  std::vector<timeline_entry> timeline;
  /// Per-machine series were asked for (`wsm.metrics-per-machine`).
  bool per_machine = false;
};

/// Adds `x`'s counters to `sum` (gauges and flags too: sums of machines).
void add_counters(stats& sum, const stats& x);

/// The registry of one actor system: the machines' observer, and the
/// pools'. Every member may be called from any thread.
class machine_registry final : public machine_observer {
public:
  /// What a page's event stream is sent: one server-sent event's text.
  using listener = std::function<void(const std::string& event)>;

  static constexpr size_t timeline_capacity = 200;

  explicit machine_registry(bool per_machine) : per_machine_(per_machine) {
  }

  /// A machine was spawned.
  void add(uint64_t id, caf::actor_addr machine, std::string url,
           std::string host);

  /// A machine published `x`: its row, the timeline and every listener.
  void record_status(uint64_t id, const status& x);

  /// A ping was answered after `round_trip`.
  void record_round_trip(caf::timespan round_trip);

  /// A machine ended with `last` as its counters.
  void remove(uint64_t id, const stats& last);

  // -- what machines tell their observer ---------------------------------------

  void machine_started(uint64_t id, caf::actor_addr machine, std::string url,
                       std::string host) override {
    add(id, std::move(machine), std::move(url), std::move(host));
  }

  void machine_status(uint64_t id, const status& x) override {
    record_status(id, x);
  }

  void machine_round_trip(caf::timespan round_trip) override {
    record_round_trip(round_trip);
  }

  void machine_ended(uint64_t id, const stats& last) override {
    remove(id, last);
  }

  /// A pool placed machine `id` (its member) on `node`, or moved it there.
  void place(uint64_t id, std::string url, std::string host,
             std::string node);

  /// A pool's machine ended.
  void forget(uint64_t id);

  /// Keeps the counters a collection brought for machine `id`.
  void update_counters(uint64_t id, const stats& x);

  registry_snapshot snapshot() const;

  /// Calls `f` for every status recorded from now on, until `unlisten`.
  uint64_t listen(listener f);
  void unlisten(uint64_t token);

private:
  void notify(const std::string& event);

  /// The row of machine `id`, made if new, with its URL and host set; the
  /// caller holds the lock.
  machine_view& row(uint64_t id, std::string url, std::string host);

  const bool per_machine_;
  mutable std::mutex mutex_;
  std::map<uint64_t, machine_view> machines_;
  stats retired_;
  uint64_t machines_ended_ = 0;
  round_trip_histogram round_trips_;
  std::vector<timeline_entry> timeline_; // a ring once full
  size_t timeline_next_ = 0;
  std::map<uint64_t, listener> listeners_;
  uint64_t next_listener_ = 1;
};

/// Asks every machine of `registry` for its stats (each answer bounded by
/// `timeout`; one that does not come keeps its last counters), then calls
/// `done` with the snapshot, on one of the system's threads.
void collect(caf::actor_system& sys, std::shared_ptr<machine_registry> registry,
             caf::timespan timeout,
             std::function<void(registry_snapshot)> done);

/// The event the status page receives for a status: `{"id", "time"
/// (milliseconds since the epoch), "url", "status"}`.
std::string status_event_json(const timeline_entry& x);

/// The page's table: `{"machines": [...], "timeline": [...], "ended"}`.
std::string snapshot_json(const registry_snapshot& x);

} // namespace wsm::detail

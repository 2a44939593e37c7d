#include "observability/machine_registry.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "wsm/atoms.hpp"
#include "wsm/status_json.hpp"

namespace wsm::detail {

namespace {

/// `x[i] += y[i]` over the longer of the two.
void add_each(std::vector<uint64_t>& x, const std::vector<uint64_t>& y) {
  if (x.size() < y.size())
    x.resize(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    x[i] += y[i];
}

int64_t milliseconds_since_epoch(std::chrono::system_clock::time_point x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           x.time_since_epoch())
    .count();
}

double seconds(caf::timespan x) {
  return std::chrono::duration<double>(x).count();
}

} // namespace

void round_trip_histogram::observe(double seconds) {
  auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds)
                - bounds.begin();
  ++counts[static_cast<size_t>(bucket)];
  sum += seconds;
  ++count;
}

void add_counters(stats& sum, const stats& x) {
  sum.connects += x.connects;
  add_each(sum.disconnects, x.disconnects);
  sum.messages_in += x.messages_in;
  sum.bytes_in += x.bytes_in;
  sum.messages_out += x.messages_out;
  sum.bytes_out += x.bytes_out;
  sum.queue_depth += x.queue_depth;
  sum.queue_bytes += x.queue_bytes;
  sum.unconfirmed += x.unconfirmed;
  sum.confirmed += x.confirmed;
  sum.resent += x.resent;
  sum.undelivered += x.undelivered;
  add_each(sum.undelivered_by, x.undelivered_by);
  sum.reconnect_attempts += x.reconnect_attempts;
  sum.read_pauses += x.read_pauses;
  sum.read_paused += x.read_paused;
}

machine_view& machine_registry::row(uint64_t id, std::string url,
                                    std::string host) {
  auto& view = machines_[id];
  view.id = id;
  view.url = std::move(url);
  view.host = std::move(host);
  return view;
}

void machine_registry::add(uint64_t id, caf::actor_addr machine,
                           std::string url, std::string host) {
  std::lock_guard<std::mutex> guard{mutex_};
  row(id, std::move(url), std::move(host)).machine = std::move(machine);
}

void machine_registry::record_status(uint64_t id, const status& x) {
  std::string event;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = machines_.find(id);
    if (i == machines_.end())
      return;
    i->second.last = x;
    timeline_entry entry{std::chrono::system_clock::now(), id, i->second.url,
                         x};
    if (!listeners_.empty())
      event = "event: status\ndata: " + status_event_json(entry) + "\n\n";
    if (timeline_.size() < timeline_capacity) {
      timeline_.push_back(std::move(entry));
    } else {
      timeline_[timeline_next_] = std::move(entry);
      timeline_next_ = (timeline_next_ + 1) % timeline_capacity;
    }
  }
  if (!event.empty())
    notify(event);
}

void machine_registry::record_round_trip(caf::timespan round_trip) {
  std::lock_guard<std::mutex> guard{mutex_};
  round_trips_.observe(seconds(round_trip));
}

void machine_registry::remove(uint64_t id, const stats& last) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (machines_.erase(id) == 0)
    return;
  // What it had queued is no longer queued anywhere.
  auto kept = last;
  kept.queue_depth = 0;
  kept.queue_bytes = 0;
  kept.unconfirmed = 0;
  kept.reading_paused = false;
  add_counters(retired_, kept);
  ++machines_ended_;
}

void machine_registry::place(uint64_t id, std::string url, std::string host,
                             std::string node) {
  std::lock_guard<std::mutex> guard{mutex_};
  row(id, std::move(url), std::move(host)).node = std::move(node);
}

void machine_registry::forget(uint64_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  machines_.erase(id);
}

void machine_registry::update_counters(uint64_t id, const stats& x) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto i = machines_.find(id); i != machines_.end())
    i->second.counters = x;
}

registry_snapshot machine_registry::snapshot() const {
  registry_snapshot result;
  std::lock_guard<std::mutex> guard{mutex_};
  result.machines.reserve(machines_.size());
  for (auto& entry : machines_)
    result.machines.push_back(entry.second);
  result.retired = retired_;
  result.machines_ended = machines_ended_;
  result.round_trips = round_trips_;
  result.timeline.reserve(timeline_.size());
  for (size_t i = 0; i < timeline_.size(); ++i)
    result.timeline.push_back(
      timeline_[(timeline_next_ + i) % timeline_.size()]);
  result.per_machine = per_machine_;
  return result;
}

uint64_t machine_registry::listen(listener f) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto token = next_listener_++;
  listeners_.emplace(token, std::move(f));
  return token;
}

void machine_registry::unlisten(uint64_t token) {
  std::lock_guard<std::mutex> guard{mutex_};
  listeners_.erase(token);
}

void machine_registry::notify(const std::string& event) {
  std::vector<listener> targets;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& entry : listeners_)
      targets.push_back(entry.second);
  }
  // Outside the lock: a listener may unlisten.
  for (auto& f : targets)
    f(event);
}

namespace {

using asked_machines = std::vector<std::pair<uint64_t, caf::actor>>;
using collected = std::function<void(registry_snapshot)>;

/// Asks each machine for its stats, keeps what they answer, and hands the
/// snapshot to `done` when every answer is in or has timed out.
caf::behavior collector(caf::event_based_actor* self,
                        std::shared_ptr<machine_registry> registry,
                        caf::timespan timeout, asked_machines asked,
                        collected done) {
  auto pending = std::make_shared<size_t>(asked.size());
  auto one_less = [=] {
    if (--*pending > 0)
      return;
    // Every answer is in, or its time ran out: the counters of the
    // snapshot are as fresh as the machines could make them.
    done(registry->snapshot());
    self->quit();
  };
  for (auto& [id, handle] : asked) {
    self->request(handle, timeout, get_atom::value, stats_atom::value)
      .then(
        [=, id = id](const stats& x) {
          registry->update_counters(id, x);
          one_less();
        },
        [=](const caf::error&) { one_less(); });
  }
  return {};
}

} // namespace

void collect(caf::actor_system& sys, std::shared_ptr<machine_registry> registry,
             caf::timespan timeout,
             std::function<void(registry_snapshot)> done) {
  auto first = registry->snapshot();
  asked_machines asked;
  for (auto& view : first.machines)
    if (auto handle = caf::actor_cast<caf::actor>(view.machine))
      asked.emplace_back(view.id, std::move(handle));
  if (asked.empty()) {
    done(std::move(first));
    return;
  }
  // Arguments rather than captures: CAF 0.17 dereferences a null tuple
  // when it starts an actor whose function takes none (UBSan says so).
  sys.spawn(collector, std::move(registry), timeout, std::move(asked),
            std::move(done));
}

std::string status_event_json(const timeline_entry& x) {
  return json_object{}
    .number("id", x.id)
    .number("time", milliseconds_since_epoch(x.time))
    .text("url", x.url)
    .json("status", to_json(x.what))
    .str();
}

std::string snapshot_json(const registry_snapshot& x) {
  json_array machines;
  for (auto& view : x.machines) {
    auto& c = view.counters;
    machines.json(json_object{}
                    .number("id", view.id)
                    .text("url", view.url)
                    .text("host", view.host)
                    .text("node", view.node)
                    .json("status", to_json(view.last))
                    .seconds("round_trip", seconds(c.last_rtt))
                    .number("queue_depth", c.queue_depth)
                    .number("unconfirmed", c.unconfirmed)
                    .boolean("reading_paused", c.reading_paused)
                    .number("messages_in", c.messages_in)
                    .number("messages_out", c.messages_out)
                    .str());
  }
  json_array timeline;
  for (auto& entry : x.timeline)
    timeline.json(status_event_json(entry));
  return json_object{}
    .json("machines", machines.str())
    .json("timeline", timeline.str())
    .number("ended", x.machines_ended)
    .str();
}

} // namespace wsm::detail

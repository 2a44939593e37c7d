#include "observability/metrics_text.hpp"

#include <cstdio>

#include "wsm/state.hpp"
#include "wsm/transport.hpp"
#include "wsm/version.hpp"

namespace wsm::detail {

namespace {

/// A label value escaped as the format asks (`\`, `"`, newline).
std::string label_value(const std::string& x) {
  std::string result;
  result.reserve(x.size());
  for (auto c : x) {
    if (c == '\\' || c == '"')
      result += '\\';
    if (c == '\n') {
      result += "\\n";
      continue;
    }
    result += c;
  }
  return result;
}

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", x);
  return text;
}

double seconds(caf::timespan x) {
  return std::chrono::duration<double>(x).count();
}

/// Writes one metric family: its help, its type, then its samples.
class family_writer {
public:
  explicit family_writer(std::string& out) : out_(out) {
  }

  void begin(const char* name, const char* type, const char* help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// A sample of the current family; `labels` as written between braces.
  void sample(const std::string& labels, const std::string& value,
              const char* suffix = "") {
    out_ += name_;
    out_ += suffix;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  void sample(const std::string& labels, uint64_t value) {
    sample(labels, std::to_string(value));
  }

  /// A counter with one sample per value of `label`: `name_of(i)` for
  /// each `i` below `count`, counting `values[i]` (0 where missing).
  template <class NameOf>
  void per_label(const char* name, const char* help, const char* label,
                 size_t count, NameOf name_of,
                 const std::vector<uint64_t>& values) {
    begin(name, "counter", help);
    for (size_t i = 0; i < count; ++i)
      sample(std::string{label} + "=\"" + name_of(i) + "\"",
             i < values.size() ? values[i] : 0);
  }

  /// A family of one sample without labels.
  template <class Value>
  void single(const char* name, const char* type, const char* help,
              Value value) {
    begin(name, type, help);
    sample("", value);
  }

private:
  std::string& out_;
  const char* name_ = "";
};

std::string machine_labels(const machine_view& x) {
  return "id=\"" + std::to_string(x.id) + "\",host=\"" + label_value(x.host)
         + "\"";
}

} // namespace

std::string render_metrics(const registry_snapshot& x) {
  std::string out;
  family_writer w{out};
  w.begin("wsm_build_info", "gauge", "The wsm library this process runs.");
  w.sample("version=\"" + label_value(version) + "\"", uint64_t{1});

  // Gauges count the machines alive; counters add those that ended.
  std::array<uint64_t, 4> by_state{};
  stats live;
  uint64_t paused = 0;
  for (auto& view : x.machines) {
    if (view.machine == nullptr)
      continue; // a pool's placement: the node that holds it counts it
    ++by_state[static_cast<size_t>(view.last.state)];
    add_counters(live, view.counters);
    paused += view.counters.reading_paused ? 1 : 0;
  }
  auto total = live;
  add_counters(total, x.retired);

  w.begin("wsm_machines", "gauge", "Machines of this process, by state.");
  for (auto s : {state::connecting, state::connected, state::disconnected,
                 state::waiting})
    w.sample(std::string{"state=\""} + to_string(s) + "\"",
             by_state[static_cast<size_t>(s)]);
  w.single("wsm_machines_ended_total", "counter",
           "Machines of this process that ended.", x.machines_ended);
  w.single("wsm_connects_total", "counter",
           "Successful connections (WebSocket handshakes completed).",
           total.connects);
  w.single("wsm_reconnect_attempts_total", "counter",
           "Connection attempts after each machine's first.",
           total.reconnect_attempts);
  w.per_label(
    "wsm_disconnects_total", "Links lost or attempts failed, by cause.",
    "cause", close_cause_count,
    [](size_t i) { return to_string(static_cast<close_cause>(i)); },
    total.disconnects);
  w.single("wsm_received_messages_total", "counter",
           "Messages received.", total.messages_in);
  w.single("wsm_received_bytes_total", "counter",
           "Bytes received, in message payloads.", total.bytes_in);
  w.single("wsm_sent_messages_total", "counter",
           "Messages written to the socket.", total.messages_out);
  w.single("wsm_sent_bytes_total", "counter",
           "Bytes written to the socket, in message payloads.",
           total.bytes_out);
  w.per_label(
    "wsm_undelivered_total", "Outputs handed back to their sender, by reason.",
    "reason", undelivered_cause_count,
    [](size_t i) { return to_string(static_cast<undelivered_cause>(i)); },
    total.undelivered_by);
  w.single("wsm_queued_outputs", "gauge",
           "Outputs not settled: queued, in flight, or written and waiting "
           "for their confirmation.",
           live.queue_depth);
  w.single("wsm_queued_output_bytes", "gauge",
           "The bytes of those outputs (bounded by max_queue_bytes each).",
           live.queue_bytes);
  w.single("wsm_unconfirmed_outputs", "gauge",
           "Outputs sent for confirmation and not confirmed yet.",
           live.unconfirmed);
  w.single("wsm_confirmed_outputs_total", "counter",
           "Outputs the application confirmed.", total.confirmed);
  w.single("wsm_resent_outputs_total", "counter",
           "Writes of outputs written before, on an earlier link.",
           total.resent);
  w.single("wsm_reading_paused_machines", "gauge",
           "Machines not reading because a subscriber is max_inbox behind.",
           paused);
  w.single("wsm_read_pauses_total", "counter",
           "Times reading stopped for a slow subscriber.", total.read_pauses);
  w.single("wsm_read_paused_seconds_total", "counter",
           "Time reading was stopped for slow subscribers.",
           number(seconds(total.read_paused)));

  w.begin("wsm_ping_round_trip_seconds", "histogram",
          "Round trips of pings answered by a pong.");
  uint64_t cumulative = 0;
  auto& h = x.round_trips;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    w.sample("le=\"" + number(h.bounds[i]) + "\"",
             std::to_string(cumulative), "_bucket");
  }
  w.sample("le=\"+Inf\"", std::to_string(h.count), "_bucket");
  w.sample("", number(h.sum), "_sum");
  w.sample("", std::to_string(h.count), "_count");

  if (!x.per_machine)
    return out;
  // One series per machine and metric: asked for by name, since they
  // multiply the series a server keeps.
  auto each = [&](const char* name, const char* type, const char* help,
                  auto value) {
    w.begin(name, type, help);
    for (auto& view : x.machines)
      if (view.machine != nullptr)
        w.sample(machine_labels(view), value(view));
  };
  w.begin("wsm_machine_state", "gauge",
          "1 for the state each machine is in.");
  for (auto& view : x.machines)
    if (view.machine != nullptr)
      w.sample(machine_labels(view) + ",state=\"" + to_string(view.last.state)
                 + "\"",
               uint64_t{1});
  each("wsm_machine_epoch", "gauge", "Successful connections of a machine.",
       [](auto& v) { return std::to_string(v.last.epoch); });
  each("wsm_machine_received_messages_total", "counter",
       "Messages a machine received.",
       [](auto& v) { return std::to_string(v.counters.messages_in); });
  each("wsm_machine_sent_messages_total", "counter",
       "Messages a machine wrote.",
       [](auto& v) { return std::to_string(v.counters.messages_out); });
  each("wsm_machine_received_bytes_total", "counter",
       "Payload bytes a machine received.",
       [](auto& v) { return std::to_string(v.counters.bytes_in); });
  each("wsm_machine_sent_bytes_total", "counter",
       "Payload bytes a machine wrote.",
       [](auto& v) { return std::to_string(v.counters.bytes_out); });
  each("wsm_machine_queued_outputs", "gauge",
       "Outputs a machine has not written yet.",
       [](auto& v) { return std::to_string(v.counters.queue_depth); });
  each("wsm_machine_unconfirmed_outputs", "gauge",
       "Outputs a machine sent for confirmation, not confirmed yet.",
       [](auto& v) { return std::to_string(v.counters.unconfirmed); });
  each("wsm_machine_queued_output_bytes", "gauge",
       "The bytes of the outputs a machine has not written yet.",
       [](auto& v) { return std::to_string(v.counters.queue_bytes); });
  each("wsm_machine_ping_round_trip_seconds", "gauge",
       "The round trip of a machine's last answered ping.",
       [](auto& v) { return number(seconds(v.counters.last_rtt)); });
  return out;
}

} // namespace wsm::detail

// wsm-bench: each workload through wsm and through a raw Beast client, in
// one run, so every figure comes with its ratio to that baseline.
//
// The process that the user starts runs the echo server (on a thread of its
// own, unless --url names another) and starts itself once per client with
// --client=beast or --client=wsm: each client is a process of its own, so
// its CPU time (getrusage) and its resident memory are its alone. A client
// prints one JSON line with what it measured; the parent prints the table.
//
// --pin=CPU pins the server and the clients to one core: on a 2-vCPU
// machine that is the steadiest setting (unpinned runs swing 3-4x with
// cross-core wake-ups), and it makes the clients' CPU time per message,
// not wall time, the figure to compare.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "echo_server.hpp"
#include "metrics_args.hpp"
#include "workload.hpp"
#include "wsm/error.hpp"
#include "wsm/metrics.hpp"
#include "wsm/version.hpp"

namespace {

using namespace wsm_bench;
namespace json = boost::json;

constexpr int exit_usage = 2;

// -- results as JSON ----------------------------------------------------------

void put(json::object& out, const char* key, double x) {
  if (x >= 0)
    out[key] = x;
  else
    out[key] = nullptr;
}

json::object to_json(const measurement& m) {
  json::object out;
  out["workload"] = m.workload;
  out["client"] = m.client;
  put(out, "msgs_per_s", m.msgs_per_s);
  put(out, "client_cpu_us_per_msg", m.client_cpu_us_per_msg);
  put(out, "p50_us", m.p50_us);
  put(out, "p99_us", m.p99_us);
  put(out, "p999_us", m.p999_us);
  put(out, "rss_kib_per_machine", m.rss_kib_per_machine);
  put(out, "rss_kib_per_machine_after_traffic",
      m.rss_kib_per_machine_after_traffic);
  put(out, "all_connected_ms", m.all_connected_ms);
  put(out, "all_echoed_ms", m.all_echoed_ms);
  put(out, "reconnected_at_ms", m.reconnected_at_ms);
  put(out, "attempts", m.attempts);
  put(out, "peak_rss_above_idle_kib", m.peak_rss_above_idle_kib);
  put(out, "in_order", m.in_order);
  put(out, "read_pauses", m.read_pauses);
  put(out, "read_paused_ms", m.read_paused_ms);
  return out;
}

double get(const json::object& in, const char* key) {
  auto i = in.find(key);
  if (i == in.end() || i->value().is_null())
    return -1;
  return i->value().to_number<double>();
}

measurement from_json(const std::string& line) {
  auto in = json::parse(line).as_object();
  measurement m;
  m.workload = json::value_to<std::string>(in.at("workload"));
  m.client = json::value_to<std::string>(in.at("client"));
  m.msgs_per_s = get(in, "msgs_per_s");
  m.client_cpu_us_per_msg = get(in, "client_cpu_us_per_msg");
  m.p50_us = get(in, "p50_us");
  m.p99_us = get(in, "p99_us");
  m.p999_us = get(in, "p999_us");
  m.rss_kib_per_machine = get(in, "rss_kib_per_machine");
  m.rss_kib_per_machine_after_traffic =
    get(in, "rss_kib_per_machine_after_traffic");
  m.all_connected_ms = get(in, "all_connected_ms");
  m.all_echoed_ms = get(in, "all_echoed_ms");
  m.reconnected_at_ms = get(in, "reconnected_at_ms");
  m.attempts = get(in, "attempts");
  m.peak_rss_above_idle_kib = get(in, "peak_rss_above_idle_kib");
  m.in_order = get(in, "in_order");
  m.read_pauses = get(in, "read_pauses");
  m.read_paused_ms = get(in, "read_paused_ms");
  return m;
}

// -- the process ---------------------------------------------------------------

/// As many descriptors as the hard limit allows: one per connection.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/// A client run in a process of its own, its stdout read line by line.
class client_process {
public:
  client_process(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      // Asio's sockets are not close-on-exec: without this the client would
      // hold the server's listening socket, and a restarted server could
      // not bind its port again.
      close_range(3, ~0U, 0);
      std::vector<char*> argv;
      for (auto& arg : args)
        argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      std::perror("wsm-bench: exec");
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
  }

  ~client_process() {
    if (out_ != nullptr)
      std::fclose(out_);
    // Still running here only when the parent gave up on it.
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  /// The next line, or nothing at the end.
  std::optional<std::string> next_line() {
    char* line = nullptr;
    size_t size = 0;
    auto n = getline(&line, &size, out_);
    std::optional<std::string> result;
    if (n >= 0)
      result = std::string{line, static_cast<size_t>(n > 0 && line[n - 1] == '\n' ? n - 1 : n)};
    std::free(line);
    return result;
  }

  /// Waits for the end; true if it ended well.
  bool succeeded() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

/// The highest number of accepts that fell into any window of `width` ms.
size_t busiest_window(std::vector<double> times, double width) {
  std::sort(times.begin(), times.end());
  size_t best = 0;
  size_t first = 0;
  for (size_t last = 0; last < times.size(); ++last) {
    while (times[last] - times[first] >= width)
      ++first;
    best = std::max(best, last - first + 1);
  }
  return best;
}

/// The CPU time (user + system) of process `pid` so far, in microseconds,
/// from /proc; -1 if it cannot be read.
double cpu_us_of(pid_t pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  std::getline(stat, text);
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return -1;
  std::istringstream fields{text.substr(close + 2)};
  std::string field;
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    if (i == 15)
      stime = std::stod(field);
  }
  return (utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// How busy the server was while a client's clock ran.
class server_load {
public:
  /// `pid`: the server's process (this one for the built-in server).
  explicit server_load(pid_t pid) : pid_(pid) {
  }

  void start() {
    cpu_ = cpu_us_of(pid_);
    wall_ = monotonic_ms();
  }

  void stop() {
    auto cpu = cpu_us_of(pid_);
    if (cpu_ >= 0 && cpu >= 0 && wall_ >= 0)
      busy_ = (cpu - cpu_) / ((monotonic_ms() - wall_) * 1e3);
  }

  /// The share of one core the server used, 0..1 per core; -1 unknown.
  double busy() const {
    return busy_;
  }

private:
  pid_t pid_;
  double cpu_ = -1;
  double wall_ = -1;
  double busy_ = -1;
};

struct run_result {
  measurement m;
  /// The share of one core the server used while the client was timed.
  double server_busy = -1;
  /// storm: from the server's return to the last machine back.
  double back_ms = -1;
  size_t busiest_100ms = 0;
};

/// Runs one client process and collects its measurement; for storm, takes
/// the server away when the client is ready and brings it back.
run_result run_client(const std::string& client, std::vector<std::string> args,
                      const std::string& url,
                      std::unique_ptr<wsm_echo::echo_server>& server,
                      const wsm_echo::server_options& server_opts,
                      const workload& w, pid_t server_pid) {
  // The user's --url (if any, as `--url=X` or `--url X`) is replaced by the
  // server this client talks to: CLI11 takes one.
  for (auto i = args.begin(); i != args.end();) {
    if (*i == "--url" && i + 1 != args.end())
      i = args.erase(i, i + 2);
    else if (i->rfind("--url=", 0) == 0)
      i = args.erase(i);
    else
      ++i;
  }
  args.push_back("--client=" + client);
  args.push_back("--url=" + url);
  client_process child{std::move(args)};
  run_result result;
  server_load load{server_pid};
  double restarted_at = -1;
  std::string last;
  while (auto line = child.next_line()) {
    if (*line == "TIMED") {
      load.start();
      continue;
    }
    if (*line == "UNTIMED") {
      load.stop();
      continue;
    }
    if (*line == "READY" && w.kind == workload_kind::storm) {
      server->stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(w.down_ms));
      server = std::make_unique<wsm_echo::echo_server>(server_opts);
      restarted_at = monotonic_ms();
      continue;
    }
    last = *line;
  }
  if (!child.succeeded() || last.empty())
    throw std::runtime_error(client + " client failed");
  result.m = from_json(last);
  result.server_busy = load.busy();
  if (w.kind == workload_kind::storm) {
    result.back_ms = result.m.reconnected_at_ms - restarted_at;
    result.busiest_100ms = busiest_window(server->accept_times_ms(), 100);
  }
  return result;
}

std::string ratio(double wsm, double beast) {
  if (wsm < 0 || beast <= 0)
    return "";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2fx", wsm / beast);
  return buffer;
}

std::string number(double x) {
  if (x < 0)
    return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), x >= 100 ? "%.0f" : "%.2f", x);
  return buffer;
}

void print_table(const std::vector<run_result>& runs) {
  struct column {
    const char* name;
    double measurement::*field;
  };
  static const column columns[] = {
    {"msgs/s", &measurement::msgs_per_s},
    {"cpu us/msg", &measurement::client_cpu_us_per_msg},
    {"p50 us", &measurement::p50_us},
    {"p99 us", &measurement::p99_us},
    {"p99.9 us", &measurement::p999_us},
    {"all connected ms", &measurement::all_connected_ms},
    {"KiB/machine idle", &measurement::rss_kib_per_machine},
    {"KiB/machine after traffic", &measurement::rss_kib_per_machine_after_traffic},
    {"all echoed ms", &measurement::all_echoed_ms},
    {"peak RSS above idle KiB", &measurement::peak_rss_above_idle_kib},
    {"all in order (1 = yes)", &measurement::in_order},
    {"read pauses", &measurement::read_pauses},
    {"read paused ms", &measurement::read_paused_ms},
  };
  const measurement* beast = nullptr;
  for (auto& run : runs)
    if (run.m.client == "beast")
      beast = &run.m;
  std::printf("%-26s", runs.front().m.workload.c_str());
  for (auto& run : runs)
    std::printf("%12s", run.m.client.c_str());
  std::printf("%12s\n", beast && runs.size() > 1 ? "wsm/beast" : "");
  for (auto& col : columns) {
    bool any = false;
    for (auto& run : runs)
      any = any || run.m.*col.field >= 0;
    if (!any)
      continue;
    std::printf("%-26s", col.name);
    for (auto& run : runs)
      std::printf("%12s", number(run.m.*col.field).c_str());
    if (beast && runs.size() > 1)
      std::printf("%12s", ratio(runs.back().m.*col.field, beast->*col.field).c_str());
    std::printf("\n");
  }
  bool any_load = false;
  for (auto& run : runs)
    any_load = any_load || run.server_busy >= 0;
  if (any_load) {
    std::printf("%-26s", "server busy (% of a core)");
    for (auto& run : runs)
      std::printf("%12s", run.server_busy < 0
                            ? "-"
                            : number(run.server_busy * 100).c_str());
    std::printf("\n");
  }
  for (auto& run : runs)
    if (run.back_ms >= 0) {
      std::printf("%-26s%12s\n", "all back after return ms",
                  number(run.back_ms).c_str());
      std::printf("%-26s%12zu\n", "attempts in busiest 100ms", run.busiest_100ms);
      std::printf("%-26s%12s\n", "attempts in all", number(run.m.attempts).c_str());
    }
}

/// `200us`, `5ms`, `2s` in microseconds; -1 if it is none of those.
int64_t parse_duration_us(const std::string& text) {
  std::istringstream in{text};
  double value = 0;
  std::string unit;
  if (!(in >> value) || value < 0)
    return -1;
  in >> unit;
  if (unit == "us")
    return static_cast<int64_t>(value);
  if (unit == "ms")
    return static_cast<int64_t>(value * 1e3);
  if (unit == "s" || unit.empty())
    return static_cast<int64_t>(value * 1e6);
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  raise_descriptor_limit();
  std::string client;
  std::string url;
  bool json_lines = false;
  int pin = -1;
  pid_t server_pid = 0;
  std::string slow_text;
  std::string down_text = "2s";
  workload w;
  CLI::App app{"Benchmarks wsm against a raw Beast client in the same run.",
               "wsm-bench"};
  app.require_subcommand(1);
  // Options of the program may follow the workload's name.
  app.fallthrough();
  app.add_option("--url", url,
                 "a ws:// echo server; default: a wsm-echo-server started "
                 "in this process. For feed, the URL of a server that "
                 "pushes a feed when asked by its query, as "
                 "../shared/bench's echoserver does at "
                 "ws://HOST:PORT/feed (count=N&size=S are added)");
  app.add_option("--server-pid", server_pid,
                 "with --url: the server's process, to report how busy it "
                 "was (its CPU time from /proc)");
  app.add_flag("--json", json_lines,
               "also print one JSON object per client and workload");
  app.add_option("--pin", pin,
                 "pin server and clients to this CPU (steadier figures on a "
                 "small machine; compare CPU per message, not wall time)");
  app.add_option("--io-threads", w.io_threads,
                 "threads of wsm's Asio context (wsm.io-threads); default: "
                 "the library's, one per usable CPU (one when pinned); the "
                 "raw Beast client always runs one")
    ->check(CLI::Range(1, 64));
  app.add_option("--scheduler", w.scheduler,
                 "where wsm's actors run (wsm.scheduler): io, on the Asio "
                 "threads; caf, on CAF's workers beside them")
    ->capture_default_str()
    ->check(CLI::IsMember({"io", "caf"}));
  // wsm's client serves them, to measure with metrics on.
  wsm_apps::metrics_flags metrics;
  wsm_apps::add_metrics_options(app, metrics);
  app.add_option("--client", client, "run one client and print its JSON line")
    ->check(CLI::IsMember({"wsm", "beast"}))
    ->group("");
  app.add_flag("--feed-at-url", w.feed_at_url,
               "with --client: the feed is the server's at --url")
    ->group("");
  auto throughput = app.add_subcommand("throughput",
                                       "one machine, pipelined echoes");
  throughput->add_option("--messages", w.count, "messages")->required();
  throughput->add_option("--size", w.size, "bytes each")->capture_default_str();
  throughput->add_option("--window", w.window, "echoes outstanding at most")
    ->capture_default_str();
  auto pingpong = app.add_subcommand("pingpong", "strict request and echo");
  pingpong->add_option("--round-trips", w.count, "round trips")->required();
  pingpong->add_option("--size", w.size, "bytes each")->capture_default_str();
  pingpong->add_flag("--async-baseline", w.async_baseline,
                     "the raw Beast client reads and writes asynchronously "
                     "(default: blocking calls, the fastest it can be)");
  auto feed = app.add_subcommand(
    "feed", "the server pushes messages as fast as the client takes them");
  feed->add_option("--messages", w.count, "messages")->required();
  feed->add_option("--size", w.size, "bytes each (at least 8)")
    ->capture_default_str()
    ->check(CLI::Range(size_t{8}, size_t{1} << 24));
  feed->add_option("--slow-subscriber", slow_text,
                   "the subscriber takes this long per input (e.g. 200us), "
                   "on a thread of its own; prints the peak RSS and whether "
                   "every message arrived in order; no baseline");
  feed->add_flag("--async-baseline", w.async_baseline,
                 "the raw Beast client reads asynchronously (default: "
                 "blocking reads, the fastest it can be)");
  feed->add_flag("--remote-subscriber", w.remote_subscriber,
                 "with --slow-subscriber: the subscriber lives in another "
                 "actor system (another node), linked by CAF's middleman");
  for (auto sub : {throughput, pingpong, feed})
    sub->add_option("--max-inbox", w.max_inbox,
                    "wsm's max_inbox (0: unbounded); default: the library's");
  auto scale = app.add_subcommand("scale",
                                  "N machines connect and echo one message each");
  scale->add_option("--machines", w.count, "machines")->required();
  scale->add_option("--source-addresses", w.source_addresses,
                    "connect from this many loopback addresses, 127.0.0.1 "
                    "up: beyond ~28,000 connections to one server")
    ->check(CLI::Range(1, 254));
  scale->add_option("--size", w.size, "bytes of the message each echoes")
    ->capture_default_str();
  scale->add_flag("--deflate", w.deflate,
                  "offer permessage-deflate: wsm with its default deflate "
                  "settings, the baseline with Beast's; each message then "
                  "goes compressed both ways if the server compresses one "
                  "of its size");
  scale->add_option("--deflate-max-window-bits", w.deflate_window_bits,
                    "with --deflate: wsm's window (default: the library's)")
    ->check(CLI::Range(9, 15));
  scale->add_option("--deflate-mem-level", w.deflate_mem_level,
                    "with --deflate: wsm's memLevel (default: the library's)")
    ->check(CLI::Range(1, 9));
  scale->add_flag("--simulate", w.simulate,
                  "machines without sockets (a broker that connects at once "
                  "and echoes): the actor layer beyond the descriptor limit; "
                  "no baseline");
  auto storm = app.add_subcommand(
    "storm", "N machines; the server goes away and comes back");
  storm->add_option("--machines", w.count, "machines")->required();
  storm->add_option("--down", down_text, "how long the server stays away")
    ->capture_default_str();
  storm->add_option("--connect-rate", w.connect_rate,
                    "connection attempts per second the reconnect governor "
                    "allows per host (0: no governor)")
    ->capture_default_str();
  app.set_version_flag("--version", std::string{"wsm-bench "}
                                      + wsm::library_version());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!metrics.address.empty())
    if (auto err = wsm::check_metrics_address(metrics.address)) {
      std::cerr << "wsm-bench: --" << wsm::describe(err) << '\n';
      return exit_usage;
    }
  w.metrics_address = metrics.address;
  w.metrics_per_machine = metrics.per_machine;
  w.kind = throughput->parsed() ? workload_kind::throughput
           : pingpong->parsed() ? workload_kind::pingpong
           : feed->parsed()     ? workload_kind::feed
           : scale->parsed()    ? workload_kind::scale
                                : workload_kind::storm;
  if (!slow_text.empty()) {
    auto slow = parse_duration_us(slow_text);
    if (slow < 0) {
      std::cerr << "wsm-bench: --slow-subscriber: '" << slow_text
                << "' is not a duration like 200us or 1ms\n";
      return exit_usage;
    }
    w.slow_subscriber_us = slow;
  }
  if (w.remote_subscriber && w.slow_subscriber_us == 0) {
    std::cerr << "wsm-bench: --remote-subscriber goes with --slow-subscriber\n";
    return exit_usage;
  }
  w.url = url;
  w.down_ms = parse_duration_us(down_text) / 1000;
  if (pin >= 0 && !pin_to(pin)) {
    std::cerr << "wsm-bench: --pin: cannot pin to CPU " << pin << '\n';
    return exit_usage;
  }
  try {
    if (!client.empty()) {
      auto m = client == "wsm" ? run_wsm(w) : run_beast(w);
      std::cout << json::serialize(to_json(m)) << std::endl;
      return 0;
    }
    if (w.kind == workload_kind::storm && !url.empty()) {
      std::cerr << "wsm-bench: storm starts and stops its own server; drop "
                   "--url\n";
      return exit_usage;
    }
    std::vector<std::string> args{argv, argv + argc};
    if (w.kind == workload_kind::feed && !url.empty())
      args.push_back("--feed-at-url");
    std::vector<run_result> runs;
    std::vector<std::string> clients{"beast", "wsm"};
    if (w.kind == workload_kind::storm || w.simulate
        || w.slow_subscriber_us > 0)
      clients = {"wsm"};
    for (auto& name : clients) {
      // Each client gets a server of its own on a fresh port: the previous
      // client's connections linger in TIME_WAIT, and with thousands of
      // them connect() to the same port spends its time looking for a free
      // ephemeral port (that doubled the second client's connect time).
      wsm_echo::server_options server_opts;
      std::unique_ptr<wsm_echo::echo_server> server;
      auto target = url;
      if (target.empty()) {
        server = std::make_unique<wsm_echo::echo_server>(server_opts);
        // A storm's server comes back on the same port.
        server_opts.port = server->port();
        target = "ws://127.0.0.1:" + std::to_string(server->port()) + "/";
      }
      auto pid = server ? getpid() : server_pid;
      runs.push_back(
        run_client(name, args, target, server, server_opts, w, pid));
    }
    print_table(runs);
    if (json_lines) {
      const measurement* beast = runs.size() > 1 ? &runs[0].m : nullptr;
      for (auto& run : runs) {
        auto out = to_json(run.m);
        put(out, "server_busy", run.server_busy);
        if (run.back_ms >= 0) {
          out["all_connected_ms"] = run.back_ms;
          out["busiest_100ms_attempts"] = run.busiest_100ms;
        }
        if (beast && &run.m != beast) {
          if (run.m.client_cpu_us_per_msg > 0)
            put(out, "cpu_ratio",
                run.m.client_cpu_us_per_msg / beast->client_cpu_us_per_msg);
          if (run.m.p50_us > 0)
            put(out, "p50_ratio", run.m.p50_us / beast->p50_us);
          if (run.m.p99_us > 0)
            put(out, "p99_ratio", run.m.p99_us / beast->p99_us);
          if (run.m.all_connected_ms > 0)
            put(out, "all_connected_ratio",
                run.m.all_connected_ms / beast->all_connected_ms);
          if (run.m.rss_kib_per_machine > 0)
            put(out, "rss_ratio",
                run.m.rss_kib_per_machine / beast->rss_kib_per_machine);
        }
        std::cout << json::serialize(out) << '\n';
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "wsm-bench: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

#pragma once

// What one benchmark client run is asked to do and what it measured. A run
// is one process (see main.cpp), so that its CPU time and memory are its
// own; it reports a `measurement` as one JSON line on stdout.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wsm_bench {

/// The workloads, as named on the command line.
enum class workload_kind { throughput, pingpong, feed, scale, storm };

const char* to_string(workload_kind x) noexcept;

/// Everything a client run needs to know.
/// The loopback address connection `i` of `w.source_addresses` comes from;
/// empty with one (the system chooses).
inline std::string source_address_of(size_t i, size_t source_addresses) {
  if (source_addresses <= 1)
    return {};
  return "127.0.0." + std::to_string(1 + i % source_addresses);
}

struct workload {
  workload_kind kind = workload_kind::throughput;
  std::string url;
  /// throughput, feed: messages; pingpong: round trips; scale, storm:
  /// machines.
  size_t count = 0;
  /// Payload bytes.
  size_t size = 64;
  /// throughput: echoes outstanding at most.
  size_t window = 64;
  /// storm: the server stays away this long (milliseconds).
  int64_t down_ms = 2000;
  /// wsm: threads of the shared Asio context (`wsm.io-threads`); 0 leaves
  /// the library's default (with the I/O scheduler, one per usable CPU: one
  /// when pinned).
  size_t io_threads = 0;
  /// wsm: where actors run (`wsm.scheduler`): `io` or `caf`.
  std::string scheduler = "io";
  /// wsm: serve metrics and the status page here (`wsm.metrics-address`);
  /// empty: off.
  std::string metrics_address;
  bool metrics_per_machine = false;
  /// pingpong's baseline: blocking reads and writes (the fastest a raw
  /// client can be) or asynchronous ones (what a client that must not
  /// block its thread, as a machine must not, can be).
  bool async_baseline = false;
  /// scale: connections come from this many loopback addresses, 127.0.0.1
  /// up (wsm's local_address, a bound socket in the baseline): one source
  /// address has ~28,000 ephemeral ports toward one server.
  size_t source_addresses = 1;
  /// scale: machines talk to a broker without sockets that connects at
  /// once and echoes, to go beyond the descriptor limit.
  bool simulate = false;
  /// storm: connection attempts per second and host the governor allows;
  /// 0 leaves the governor off.
  double connect_rate = 0;
  /// feed: the subscriber takes this long per input (microseconds); 0 takes
  /// them as fast as it can.
  int64_t slow_subscriber_us = 0;
  /// feed with a slow subscriber: the subscriber lives in another actor
  /// system (another node), reached through CAF's middleman.
  bool remote_subscriber = false;
  /// wsm: `max_inbox` of the machine; negative leaves the default.
  int64_t max_inbox = -1;
  /// feed: the server pushes the feed as soon as the link is up, asked by
  /// the URL's query (`/feed?count=N&size=S`, as ../shared/bench's server
  /// has it) rather than by a request over the link; the messages then
  /// carry no sequence number to check.
  bool feed_at_url = false;
  /// scale: offer permessage-deflate (wsm: the library's default deflate
  /// settings; the baseline: Beast's).
  bool deflate = false;
  /// scale with deflate: wsm's window and memLevel (0: the library's).
  int deflate_window_bits = 0;
  int deflate_mem_level = 0;
};

/// Messages (or round trips) each client runs before the clock starts, the
/// same for wsm and the baseline: connections, allocators and caches warm.
size_t warm_up_count(const workload& w);

/// What asks the benchmark's echo server to push `count` messages of
/// `size` bytes (see wsm-echo-server's `/FEED`).
std::string feed_request(size_t count, size_t size);

/// The URL that asks a server for its feed at `url` (`/feed?count=N&size=S`):
/// the warm-up's messages and the timed ones, in one feed.
std::string feed_url(const std::string& url, const workload& w);

/// The number a feed message carries in its first bytes: its place in the
/// feed, so that order and completeness can be checked.
uint64_t feed_sequence(const char* data, size_t size);

/// What a client run measured; a negative number was not measured.
struct measurement {
  std::string workload;
  std::string client;
  double msgs_per_s = -1;
  double client_cpu_us_per_msg = -1;
  double p50_us = -1;
  double p99_us = -1;
  double p999_us = -1;
  double rss_kib_per_machine = -1;
  double rss_kib_per_machine_after_traffic = -1;
  double all_connected_ms = -1;
  double all_echoed_ms = -1;
  /// storm: when the last machine was connected again, on CLOCK_MONOTONIC
  /// in milliseconds (the server's process compares it with its restart).
  double reconnected_at_ms = -1;
  /// storm: connection attempts the client made in all.
  double attempts = -1;
  /// feed: the peak resident set above the one once connected, in KiB.
  double peak_rss_above_idle_kib = -1;
  /// feed: 1 if every message arrived, in order; 0 if not.
  double in_order = -1;
  /// wsm: how often, and for how long in all (ms), reading was paused.
  double read_pauses = -1;
  double read_paused_ms = -1;
};

/// The peak resident set of this process so far (VmHWM), in KiB.
double peak_resident_kib();

/// The CPU time (user + system) this process used so far, in microseconds.
double process_cpu_us();

/// This process's resident set, in KiB.
double resident_kib();

/// Now on CLOCK_MONOTONIC, in milliseconds; comparable across processes.
double monotonic_ms();

/// The rate and the CPU per message of `count` messages that took
/// `seconds` and `cpu_us`.
measurement per_message(size_t count, double seconds, double cpu_us);

/// The percentile `p` (0..1) of `samples`, which it sorts.
double percentile(std::vector<double>& samples, double p);

/// Runs `w` through a raw Beast client: one io_context, no actors.
measurement run_beast(const workload& w);

/// Runs `w` through wsm machines.
measurement run_wsm(const workload& w);

} // namespace wsm_bench

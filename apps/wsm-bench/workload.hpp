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
enum class workload_kind { throughput, pingpong, scale, storm };

const char* to_string(workload_kind x) noexcept;

/// Everything a client run needs to know.
struct workload {
  workload_kind kind = workload_kind::throughput;
  std::string url;
  /// throughput: messages; pingpong: round trips; scale, storm: machines.
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
  /// pingpong's baseline: blocking reads and writes (the fastest a raw
  /// client can be) or asynchronous ones (what a client that must not
  /// block its thread, as a machine must not, can be).
  bool async_baseline = false;
  /// scale: machines talk to a broker without sockets that connects at
  /// once and echoes, to go beyond the descriptor limit.
  bool simulate = false;
  /// storm: connection attempts per second and host the governor allows;
  /// 0 leaves the governor off.
  double connect_rate = 0;
};

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
};

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

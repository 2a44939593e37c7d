#include "workload.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

namespace wsm_bench {

const char* to_string(workload_kind x) noexcept {
  switch (x) {
    case workload_kind::throughput:
      return "throughput";
    case workload_kind::pingpong:
      return "pingpong";
    case workload_kind::feed:
      return "feed";
    case workload_kind::scale:
      return "scale";
    case workload_kind::storm:
      return "storm";
  }
  return "unknown";
}

double process_cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& x) {
    return static_cast<double>(x.tv_sec) * 1e6 + static_cast<double>(x.tv_usec);
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

double resident_kib() {
  std::ifstream statm{"/proc/self/statm"};
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE))
         / 1024.0;
}

double peak_resident_kib() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stod(line.substr(6));
  return -1;
}

size_t warm_up_count(const workload& w) {
  return std::min<size_t>(std::max<size_t>(w.count / 10, 1), 10000);
}

std::string feed_request(size_t count, size_t size) {
  return "/FEED " + std::to_string(count) + " " + std::to_string(size);
}

std::string feed_url(const std::string& url, const workload& w) {
  auto separator = url.find('?') == std::string::npos ? '?' : '&';
  return url + separator + "count=" + std::to_string(warm_up_count(w) + w.count)
         + "&size=" + std::to_string(w.size);
}

uint64_t feed_sequence(const char* data, size_t size) {
  uint64_t result = 0;
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i)
    result |= static_cast<uint64_t>(static_cast<unsigned char>(data[i]))
              << (8 * i);
  return result;
}

double monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3
         + static_cast<double>(now.tv_nsec) / 1e6;
}

measurement per_message(size_t count, double seconds, double cpu_us) {
  measurement result;
  result.msgs_per_s = static_cast<double>(count) / seconds;
  result.client_cpu_us_per_msg = cpu_us / static_cast<double>(count);
  return result;
}

double percentile(std::vector<double>& samples, double p) {
  if (samples.empty())
    return -1;
  std::sort(samples.begin(), samples.end());
  auto index = static_cast<size_t>(std::ceil(p * static_cast<double>(samples.size()))) ;
  return samples[std::min(samples.size() - 1, index == 0 ? 0 : index - 1)];
}

} // namespace wsm_bench

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace wsm_bench {

/// A progress line on stderr, at most once a second, for runs longer than
/// a second.
class progress {
public:
  progress(std::string what, size_t total)
    : what_(std::move(what)), total_(total), last_(clock_type::now()) {
  }

  void update(size_t done) {
    if ((done & 63) != 0 && done != total_)
      return; // the clock is not free either
    auto now = clock_type::now();
    if (now - last_ < std::chrono::seconds(1))
      return;
    last_ = now;
    std::fprintf(stderr, "%s: %zu/%zu\n", what_.c_str(), done, total_);
  }

private:
  using clock_type = std::chrono::steady_clock;
  std::string what_;
  size_t total_;
  clock_type::time_point last_;
};

} // namespace wsm_bench

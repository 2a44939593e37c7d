#pragma once

#include <chrono>
#include <cstdint>

#include <caf/timespan.hpp>

namespace wsm {

/// How long a machine waits after failed attempts: exponential, capped,
/// with jitter so that many machines that lost one server spread their
/// retries instead of stampeding. Its defaults are those of a machine's
/// options (`retry_delay`, `backoff_factor`, `backoff_max`,
/// `backoff_jitter`), which are taken from here.
struct backoff_policy {
  /// The pause after the first failed attempt.
  caf::timespan initial = std::chrono::seconds(1);
  /// Each further failure multiplies the pause by this.
  double factor = 2.0;
  /// The pause never exceeds this.
  caf::timespan max = std::chrono::seconds(30);
  /// The pause varies by up to this fraction either way (0 = none, 1 = from
  /// nothing to twice the pause).
  double jitter = 0.2;
};

/// The pause after `failures` failed attempts in a row (1 for the first),
/// given `unit_random` drawn uniformly from [0, 1). A pure function.
caf::timespan backoff_delay(const backoff_policy& policy, uint32_t failures,
                            double unit_random) noexcept;

} // namespace wsm

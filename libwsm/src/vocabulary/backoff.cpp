#include "wsm/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace wsm {

caf::timespan backoff_delay(const backoff_policy& policy, uint32_t failures,
                            double unit_random) noexcept {
  using seconds = std::chrono::duration<double>;
  auto max = seconds{policy.max}.count();
  // Computed in doubles and capped before converting: factor^failures grows
  // past any integer type long before the loop of a long outage ends.
  auto exponent = failures == 0 ? 0.0 : static_cast<double>(failures - 1);
  auto base = std::min(max, seconds{policy.initial}.count()
                              * std::pow(std::max(policy.factor, 1.0),
                                         exponent));
  auto jitter = std::clamp(policy.jitter, 0.0, 1.0);
  auto spread = base * (1.0 + jitter * (2.0 * unit_random - 1.0));
  auto delay = std::clamp(spread, 0.0, max);
  return std::chrono::duration_cast<caf::timespan>(seconds{delay});
}

} // namespace wsm

// The backoff schedule, a pure function: exponential growth, the cap, and
// jitter that spreads machines without ever passing the cap.

#define CAF_SUITE backoff

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include "wsm/backoff.hpp"

using namespace std::chrono_literals;

namespace {

wsm::backoff_policy without_jitter() {
  wsm::backoff_policy policy;
  policy.initial = 500ms;
  policy.factor = 2.0;
  policy.max = 30s;
  policy.jitter = 0.0;
  return policy;
}

} // namespace

CAF_TEST(the pause doubles from the initial one) {
  auto policy = without_jitter();
  CAF_CHECK(wsm::backoff_delay(policy, 1, 0.5) == 500ms);
  CAF_CHECK(wsm::backoff_delay(policy, 2, 0.5) == 1s);
  CAF_CHECK(wsm::backoff_delay(policy, 3, 0.5) == 2s);
  CAF_CHECK(wsm::backoff_delay(policy, 6, 0.5) == 16s);
}

CAF_TEST(the pause stops at the maximum even after a very long outage) {
  auto policy = without_jitter();
  CAF_CHECK(wsm::backoff_delay(policy, 7, 0.5) == 30s);
  CAF_CHECK(wsm::backoff_delay(policy, 1000, 0.5) == 30s);
  CAF_CHECK(wsm::backoff_delay(policy, 4000000000u, 0.5) == 30s);
}

CAF_TEST(jitter spreads the pause by its fraction either way) {
  auto policy = without_jitter();
  policy.jitter = 0.2;
  CAF_CHECK(wsm::backoff_delay(policy, 3, 0.0) == 1600ms);
  CAF_CHECK(wsm::backoff_delay(policy, 3, 0.5) == 2s);
  CAF_CHECK(wsm::backoff_delay(policy, 3, 0.75) == 2200ms);
  // Never past the cap, even with jitter upwards.
  CAF_CHECK(wsm::backoff_delay(policy, 100, 0.99) == 30s);
  CAF_CHECK(wsm::backoff_delay(policy, 100, 0.0) == 24s);
}

CAF_TEST(full jitter reaches from nothing to twice the pause) {
  auto policy = without_jitter();
  policy.jitter = 1.0;
  CAF_CHECK(wsm::backoff_delay(policy, 1, 0.0) == 0s);
  CAF_CHECK(wsm::backoff_delay(policy, 1, 0.5) == 500ms);
}

CAF_TEST(odd settings stay sane) {
  auto policy = without_jitter();
  policy.factor = 0.5; // a shrinking pause makes no sense: held constant
  CAF_CHECK(wsm::backoff_delay(policy, 5, 0.5) == 500ms);
  policy.jitter = 7.0; // clamped to 1
  CAF_CHECK(wsm::backoff_delay(policy, 1, 0.0) == 0s);
  CAF_CHECK(wsm::backoff_delay(policy, 0, 0.5) == 500ms);
}

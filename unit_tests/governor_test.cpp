// The reconnect governor's token bucket, a pure function of time: a burst
// at once, then one attempt per 1/rate, each taker told its own wait.

#define CAF_SUITE governor

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>

#include "wsm/governor.hpp"

using namespace std::chrono_literals;

namespace {

/// A bucket of `rate` a second and `burst`, full at time zero.
wsm::token_bucket full_bucket(double rate, double burst) {
  return {rate, burst, burst, caf::timespan{0}};
}

} // namespace

CAF_TEST(a full bucket gives its burst at once) {
  auto bucket = full_bucket(100, 3);
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(bucket.take(0s) == caf::timespan{0});
  // The fourth waits for one token: 10ms at 100 a second.
  CAF_CHECK(bucket.take(0s) == caf::timespan{10ms});
}

CAF_TEST(takers beyond the burst are spread at the rate in order) {
  auto bucket = full_bucket(1000, 1);
  CAF_CHECK(bucket.take(0s) == caf::timespan{0});
  for (int n = 1; n <= 5; ++n)
    CAF_CHECK(bucket.take(0s) == caf::timespan{std::chrono::milliseconds(n)});
}

CAF_TEST(tokens come back with time but never beyond the burst) {
  auto bucket = full_bucket(10, 2);
  bucket.take(0s);
  bucket.take(0s);
  // After a minute idle the bucket holds its burst again, not 600 tokens.
  CAF_CHECK(bucket.take(60s) == caf::timespan{0});
  CAF_CHECK(bucket.take(60s) == caf::timespan{0});
  CAF_CHECK(bucket.take(60s) == caf::timespan{100ms});
}

CAF_TEST(a booked wait shrinks as time passes) {
  auto bucket = full_bucket(10, 1);
  bucket.take(0s);
  CAF_CHECK(bucket.take(0s) == caf::timespan{100ms});
  // 50ms later the next taker queues behind that one: 150ms from then.
  CAF_CHECK(bucket.take(50ms) == caf::timespan{150ms});
}

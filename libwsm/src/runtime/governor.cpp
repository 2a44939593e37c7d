#include "wsm/governor.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace wsm {

caf::timespan token_bucket::take(caf::timespan now) {
  using seconds = std::chrono::duration<double>;
  auto elapsed = std::chrono::duration_cast<seconds>(now - last).count();
  if (elapsed > 0) {
    tokens = std::min(burst, tokens + elapsed * rate);
    last = now;
  }
  tokens -= 1;
  if (tokens >= 0)
    return caf::timespan{0};
  return std::chrono::duration_cast<caf::timespan>(seconds{-tokens / rate});
}

namespace {

struct governor_state {
  double rate = 1;
  double burst = 1;
  std::unordered_map<std::string, token_bucket> hosts;
  static inline const char* name = "wsm.governor";
};

caf::behavior governor(caf::stateful_actor<governor_state>* self, double rate,
                       double burst) {
  self->state.rate = rate;
  self->state.burst = burst;
  return {
    [=](slot_atom, const std::string& host) -> caf::timespan {
      auto& st = self->state;
      auto now = self->clock().now().time_since_epoch();
      auto i = st.hosts.find(host);
      if (i == st.hosts.end())
        // A new host starts with a full burst.
        i = st.hosts
              .emplace(host, token_bucket{st.rate, st.burst, st.burst,
                                          std::chrono::duration_cast<
                                            caf::timespan>(now)})
              .first;
      return i->second.take(std::chrono::duration_cast<caf::timespan>(now));
    },
  };
}

} // namespace

caf::actor spawn_governor(caf::actor_system& sys, double rate, double burst) {
  return sys.spawn<caf::hidden>(governor, rate, std::max(1.0, burst));
}

} // namespace wsm

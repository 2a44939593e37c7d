#pragma once

// A subscriber slower than its feed: it takes `delay` per input on a thread
// of its own (a detached actor), checks that each input carries the next
// number (wsm-echo-server's /FEED puts it in the first 8 bytes), and
// watches how many inputs wait in its mailbox: with inbound flow control
// that stays near the machine's max_inbox however long the feed.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace wsm_test {

using fed_atom = caf::atom_constant<caf::atom("fed")>;

/// The number a /FEED message starts with.
inline uint64_t feed_number(const std::string& payload) {
  uint64_t result = 0;
  for (size_t i = 0; i < std::min<size_t>(payload.size(), 8); ++i)
    result |= static_cast<uint64_t>(static_cast<unsigned char>(payload[i]))
              << (8 * i);
  return result;
}

struct slow_subscriber_state {
  uint64_t received = 0;
  bool in_order = true;
  size_t most_waiting = 0;
  static inline const char* name = "wsm-test.slow-subscriber";
};

/// After `count` inputs, sends `(fed_atom, received, in_order,
/// most_waiting)` to `report_to`.
inline caf::behavior
slow_subscriber(caf::stateful_actor<slow_subscriber_state>* self,
                std::chrono::microseconds delay, uint64_t count,
                caf::actor report_to) {
  return {
    [=](const wsm::status&) {},
    [=](const wsm::input& x) {
      auto& st = self->state;
      // This input counts: it was sent and is not handled yet.
      st.most_waiting = std::max(st.most_waiting, self->mailbox().size() + 1);
      if (feed_number(x.payload) != st.received)
        st.in_order = false;
      ++st.received;
      std::this_thread::sleep_for(delay);
      if (st.received == count)
        self->send(report_to, fed_atom::value, st.received, st.in_order,
                   st.most_waiting);
    },
  };
}

} // namespace wsm_test

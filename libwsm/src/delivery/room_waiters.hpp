#pragma once

// Producers that wait for room in a queue of outputs (`room_atom`): one
// mechanism for the machine and the pool member.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/result.hpp>

#include "wsm/messages.hpp"

namespace wsm::detail {

/// How full a queue of outputs is, against its bounds.
struct queue_fill {
  uint64_t outputs = 0;
  uint64_t bytes = 0;
  size_t max_outputs = 0;
  size_t max_bytes = 0;

  /// What the queue takes now.
  room left() const noexcept;

  /// Whether one more output of `size` bytes fits.
  bool fits(uint64_t size) const noexcept;
};

class room_waiters {
public:
  /// The answer to `(room_atom, need)`: at once when an output of `need`
  /// bytes fits, later (see `offer`) when it does not yet, an error when it
  /// never can.
  caf::result<room> ask(caf::local_actor* self, uint64_t need,
                        const queue_fill& now);

  /// The queue has room again: answers every waiting producer whose output
  /// fits now, in the order they asked.
  void offer(const queue_fill& now);

  /// Answers every waiting producer with `reason` (the queue's owner ends).
  void fail_all(const caf::error& reason);

  bool empty() const noexcept {
    return waiting_.empty();
  }

private:
  std::vector<std::pair<uint64_t, caf::response_promise>> waiting_;
};

} // namespace wsm::detail

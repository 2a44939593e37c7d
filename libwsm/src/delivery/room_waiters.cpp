#include "delivery/room_waiters.hpp"

#include <algorithm>

#include <caf/local_actor.hpp>

#include "wsm/error.hpp"

namespace wsm::detail {

room queue_fill::left() const noexcept {
  return {max_outputs - std::min<uint64_t>(outputs, max_outputs),
          max_bytes - std::min<uint64_t>(bytes, max_bytes)};
}

bool queue_fill::fits(uint64_t size) const noexcept {
  auto x = left();
  return x.outputs > 0 && x.bytes >= size;
}

caf::result<room> room_waiters::ask(caf::local_actor* self, uint64_t need,
                                    const queue_fill& now) {
  if (need > now.max_bytes)
    return make_error(errc::invalid_option,
                      "an output of " + std::to_string(need)
                        + " bytes never fits max_queue_bytes ("
                        + std::to_string(now.max_bytes) + ")");
  if (waiting_.empty() && now.fits(need))
    return now.left();
  // Behind those that asked first, even if this one would fit: room goes
  // in the order it was asked for.
  auto promise = self->make_response_promise();
  waiting_.emplace_back(need, promise);
  return promise;
}

void room_waiters::offer(const queue_fill& now) {
  size_t answered = 0;
  for (auto& [need, promise] : waiting_) {
    if (!now.fits(need))
      break;
    promise.deliver(now.left());
    ++answered;
  }
  waiting_.erase(waiting_.begin(), waiting_.begin() + answered);
}

void room_waiters::fail_all(const caf::error& reason) {
  for (auto& entry : waiting_)
    entry.second.deliver(reason);
  waiting_.clear();
}

} // namespace wsm::detail

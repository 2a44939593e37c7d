#pragma once

// A machine's outputs on their way, from queued to settled:
//
//   queue ──link takes it──▶ in flight ──written──▶ settled
//     ▲                          │          │
//     │                          │          └─(asks for confirmation)─▶ held
//     │                          │                                       │
//     └──────── the link drops: held, then in flight, in their order ────┘
//                (the gate's outputs and heartbeats are for their link)
//
// An output that asks for confirmation (`output::confirm_id`) is held once
// written until the application confirms it, and written again on every
// new link until then: at least once. The outbox is the bookkeeping alone,
// with no actor and no clock of its own, so that the machine decides what
// each step means for senders, timers and counters.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "delivery/lazy_deque.hpp"
#include "delivery/output_sender.hpp"
#include "delivery/room_waiters.hpp"
#include "wsm/messages.hpp"

namespace wsm::detail {

/// Whose an output is, which says whether it takes room in the queue and
/// whether it goes again on the next link.
enum class output_kind : uint8_t {
  /// A user's: counted against max_queue, written again after a drop.
  user,
  /// The session gate's, for the link it was asked about: never counted,
  /// so it takes no room a producer was told of; not written again.
  gate,
  /// The machine's own heartbeat: nobody to tell, not written again.
  heartbeat,
};

/// An output on its way, with whom to tell how it ends. The payload is
/// shared with the link that writes it: never copied on the way.
struct pending_output {
  std::shared_ptr<const std::string> payload;
  frame_format format = frame_format::machine_default;
  output_kind kind = output_kind::user;
  /// The application's id for the server's confirmation; empty when the
  /// output is done once written.
  std::string confirm_id;
  /// How often it was handed to a link.
  uint32_t writes = 0;
  /// Confirmed while still in flight: settled once written.
  bool confirmed = false;
  /// When it was last written, while held.
  std::chrono::steady_clock::time_point written_at;
  output_sender sender;

  bool counted() const noexcept {
    return kind == output_kind::user;
  }

  bool awaits_confirmation() const noexcept {
    return !confirm_id.empty() && !confirmed;
  }
};

/// Why an output leaves the outbox when its link drops.
enum class leaves_because : uint8_t {
  /// Confirmed while it was in flight: settled, it need not go again.
  confirmed,
  /// The gate's output, when its link dropped before it was written.
  link_lost,
  /// Written `max_resends + 1` times, never confirmed.
  resends_exhausted,
};

/// An output that leaves the outbox when its link drops, and why.
struct leaving_output {
  pending_output output;
  leaves_because why;
};

class outbox {
public:
  using time_point = std::chrono::steady_clock::time_point;

  // -- room -------------------------------------------------------------------

  /// How full the outbox is against `max_outputs` and `max_bytes`: every
  /// user output not settled, queued, in flight or held.
  queue_fill fill(size_t max_outputs, size_t max_bytes) const noexcept {
    return {queue_.size() + counted_in_flight_ + held_.size(), counted_bytes_,
            max_outputs, max_bytes};
  }

  /// The bytes `fill` counts.
  uint64_t counted_bytes() const noexcept {
    return counted_bytes_;
  }

  // -- the queue --------------------------------------------------------------

  bool queue_empty() const noexcept {
    return queue_.empty();
  }

  size_t queued() const noexcept {
    return queue_.size();
  }

  void push_back(pending_output x);

  /// Takes the oldest (or the newest) queued output out, with its bytes.
  pending_output take_front();
  pending_output take_back();

  // -- in flight --------------------------------------------------------------

  /// Whether the link may take one more output: at most `max_frames` in
  /// flight, and `max_bytes` beyond the first frame (which goes whatever
  /// its size).
  bool window_open(size_t max_frames, uint64_t max_bytes) const noexcept {
    return in_flight_.size() < max_frames
           && (in_flight_.empty() || in_flight_bytes_ < max_bytes);
  }

  size_t in_flight() const noexcept {
    return in_flight_.size();
  }

  /// Moves the head of the queue into flight; its bytes still count until
  /// it is settled. Returns it, for the link to write.
  const pending_output& send_front();

  /// Puts an output that never was in the queue (the gate's, a heartbeat)
  /// in flight. Returns it, for the link to write.
  const pending_output& send_unqueued(pending_output x);

  /// The oldest output in flight was written. One that awaits confirmation
  /// is held from `now` (and `nullopt` returned); any other is settled and
  /// returned, for its sender to hear.
  std::optional<pending_output> written_one(time_point now);

  /// The oldest output in flight, which `written_one` takes next.
  const pending_output& oldest_in_flight() {
    return in_flight_.front();
  }

  // -- confirmation -----------------------------------------------------------

  /// Outputs written and waiting for their confirmation.
  size_t held() const noexcept {
    return held_.size();
  }

  /// Whether an output waits for its confirmation: held, or in flight.
  bool awaiting_confirmation() const noexcept;

  /// Outputs that asked for confirmation, were handed to a link and are
  /// not confirmed yet: held, in flight again, or queued again after a
  /// drop.
  size_t unconfirmed() const noexcept;

  /// The application confirms `id`: the oldest output waiting under it is
  /// settled and returned. One still in flight is settled once written
  /// (`nullopt` now); so is nothing when no output waits under `id` (a
  /// duplicate the server confirmed twice).
  std::optional<pending_output> confirm(const std::string& id);

  /// The oldest held output, taken out if it was written `timeout` or
  /// longer before `now`.
  std::optional<pending_output> take_overdue(time_point now,
                                             std::chrono::nanoseconds timeout);

  /// When the oldest held output becomes overdue; `nullopt` with none.
  std::optional<time_point>
  next_deadline(std::chrono::nanoseconds timeout) const;

  // -- the link drops ---------------------------------------------------------

  /// The link is gone: what was held, then what was in flight, goes back to
  /// the front of the queue in its order, to be written first on the next
  /// link. Outputs that need not or may not go again are returned: those
  /// confirmed in flight, the gate's, and those that await confirmation
  /// and were written `max_resends + 1` times. Heartbeats are dropped.
  std::vector<leaving_output> requeue(uint32_t max_resends);

  /// Every output not settled, oldest first (held, in flight, queued),
  /// heartbeats left out: the outbox is empty after.
  std::vector<pending_output> take_all();

private:
  void uncount(const pending_output& x) noexcept;

  lazy_deque<pending_output> queue_;
  /// Handed to the link, not yet written, oldest first.
  lazy_deque<pending_output> in_flight_;
  /// Written, waiting for confirmation, oldest write first.
  lazy_deque<pending_output> held_;
  /// User outputs among those in flight.
  size_t counted_in_flight_ = 0;
  /// The bytes of user outputs not settled.
  uint64_t counted_bytes_ = 0;
  /// The bytes in flight, of any kind.
  uint64_t in_flight_bytes_ = 0;
};

} // namespace wsm::detail

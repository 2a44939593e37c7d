#include "delivery/outbox.hpp"

#include <algorithm>

namespace wsm::detail {

void outbox::uncount(const pending_output& x) noexcept {
  if (x.counted())
    counted_bytes_ -= x.payload->size();
}

void outbox::push_back(pending_output x) {
  if (x.counted())
    counted_bytes_ += x.payload->size();
  queue_.push_back(std::move(x));
}

pending_output outbox::take_front() {
  auto x = std::move(queue_.front());
  queue_.pop_front();
  uncount(x);
  return x;
}

pending_output outbox::take_back() {
  auto x = std::move(queue_.back());
  queue_.pop_back();
  uncount(x);
  return x;
}

const pending_output& outbox::send_front() {
  // Taken out of the queue alone: its bytes count until it is settled.
  auto x = std::move(queue_.front());
  queue_.pop_front();
  if (x.counted())
    ++counted_in_flight_;
  in_flight_bytes_ += x.payload->size();
  ++x.writes;
  in_flight_.push_back(std::move(x));
  return in_flight_.back();
}

const pending_output& outbox::send_unqueued(pending_output x) {
  if (x.counted()) {
    counted_bytes_ += x.payload->size();
    ++counted_in_flight_;
  }
  in_flight_bytes_ += x.payload->size();
  ++x.writes;
  in_flight_.push_back(std::move(x));
  return in_flight_.back();
}

std::optional<pending_output> outbox::written_one(time_point now) {
  auto x = std::move(in_flight_.front());
  in_flight_.pop_front();
  in_flight_bytes_ -= x.payload->size();
  if (x.counted())
    --counted_in_flight_;
  if (x.awaits_confirmation()) {
    // Still counted: held outputs take room until confirmed.
    x.written_at = now;
    held_.push_back(std::move(x));
    return std::nullopt;
  }
  uncount(x);
  return x;
}

bool outbox::awaiting_confirmation() const noexcept {
  return !held_.empty()
         || std::any_of(in_flight_.begin(), in_flight_.end(),
                        [](const pending_output& x) {
                          return x.awaits_confirmation();
                        });
}

size_t outbox::unconfirmed() const noexcept {
  auto sent = [](const pending_output& x) {
    return x.awaits_confirmation() && x.writes > 0;
  };
  auto count = [&](const lazy_deque<pending_output>& from) {
    return static_cast<size_t>(std::count_if(from.begin(), from.end(), sent));
  };
  return held_.size() + count(in_flight_) + count(queue_);
}

std::optional<pending_output> outbox::confirm(const std::string& id) {
  auto matches = [&](const pending_output& x) {
    return x.awaits_confirmation() && x.confirm_id == id;
  };
  // Servers confirm in about the order they read: the oldest held first.
  if (auto i = std::find_if(held_.begin(), held_.end(), matches);
      i != held_.end()) {
    auto x = std::move(*i);
    held_.erase(i);
    uncount(x);
    if (held_.empty())
      held_.clear(); // gives its memory back
    return x;
  }
  // Written again and not yet acknowledged: settled once it is.
  if (auto i = std::find_if(in_flight_.begin(), in_flight_.end(), matches);
      i != in_flight_.end()) {
    i->confirmed = true;
    return std::nullopt;
  }
  // Back in the queue after a drop, confirmed late: it need not go again.
  if (auto i = std::find_if(queue_.begin(), queue_.end(), matches);
      i != queue_.end() && i->writes > 0) {
    auto x = std::move(*i);
    queue_.erase(i);
    uncount(x);
    return x;
  }
  return std::nullopt;
}

std::optional<pending_output>
outbox::take_overdue(time_point now, std::chrono::nanoseconds timeout) {
  if (held_.empty() || now - held_.front().written_at < timeout)
    return std::nullopt;
  auto x = std::move(held_.front());
  held_.pop_front();
  uncount(x);
  return x;
}

std::optional<outbox::time_point>
outbox::next_deadline(std::chrono::nanoseconds timeout) const {
  if (held_.empty())
    return std::nullopt;
  return held_.front().written_at + timeout;
}

std::vector<leaving_output> outbox::requeue(uint32_t max_resends) {
  std::vector<leaving_output> lost;
  // Newest first onto the front of the queue: in flight, then held, so
  // that the queue reads held, in flight, queued, as they were sent.
  auto put_back = [&](pending_output& x) {
    if (x.kind == output_kind::heartbeat)
      return;
    if (x.kind == output_kind::gate) {
      lost.push_back({std::move(x), leaves_because::link_lost});
      return;
    }
    if (x.awaits_confirmation() && x.writes > max_resends) {
      lost.push_back({std::move(x), leaves_because::resends_exhausted});
      return;
    }
    // Confirmed while in flight: the server has it, whether or not the
    // write was acknowledged before the drop.
    if (!x.confirm_id.empty() && x.confirmed) {
      lost.push_back({std::move(x), leaves_because::confirmed});
      return;
    }
    queue_.push_front(std::move(x));
    counted_bytes_ += queue_.front().payload->size();
  };
  for (auto* from : {&in_flight_, &held_}) {
    while (!from->empty()) {
      auto x = std::move(from->back());
      from->pop_back();
      uncount(x); // counted again if it goes back to the queue
      put_back(x);
    }
    from->clear();
  }
  counted_in_flight_ = 0;
  in_flight_bytes_ = 0;
  // Handed back newest first; their senders hear of them oldest first.
  std::reverse(lost.begin(), lost.end());
  return lost;
}

std::vector<pending_output> outbox::take_all() {
  std::vector<pending_output> all;
  for (auto* from : {&held_, &in_flight_, &queue_}) {
    for (auto& x : *from)
      if (x.kind != output_kind::heartbeat)
        all.push_back(std::move(x));
    from->clear();
  }
  counted_in_flight_ = 0;
  counted_bytes_ = 0;
  in_flight_bytes_ = 0;
  return all;
}

} // namespace wsm::detail

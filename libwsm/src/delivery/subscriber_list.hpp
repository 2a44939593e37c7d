#pragma once

// The actors that hear a machine's statuses and inputs: one list for the
// machine and for the pool member that stands in for a machine.

#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>

namespace wsm::detail {

/// Enqueues `content` to `dest` with `self` as its sender. A typed actor
/// may not `send` to dynamically typed handles, hence the mailbox element.
void deliver(caf::local_actor* self, const caf::strong_actor_ptr& dest,
             caf::message content);

/// A subscriber, and how far it has got with the inputs it was sent (the
/// machine's inbound flow control; a pool member leaves them at 0).
struct subscriber_entry {
  caf::actor handle;
  /// Inputs sent to it.
  uint64_t delivered = 0;
  /// Inputs it is known to have handled: all up to the last one sent as a
  /// request that it answered (its mailbox is FIFO per sender).
  uint64_t handled = 0;
};

/// Subscribers in the order they came, each once, monitored by their owner
/// while subscribed (a subscriber that ends is removed on its down message).
class subscriber_list {
public:
  using entries = std::vector<subscriber_entry>;

  /// Subscribes and monitors `who`, unless it is null or subscribed already.
  void add(caf::local_actor* self, const caf::actor& who);

  /// Removes the subscriber at `who`, if it is one.
  void remove(const caf::actor_addr& who);

  /// Sends `content` to every subscriber: all share the one message, so a
  /// payload is never copied per subscriber.
  void fan_out(caf::local_actor* self, const caf::message& content) const;

  bool empty() const noexcept {
    return entries_.empty();
  }

  size_t size() const noexcept {
    return entries_.size();
  }

  void clear() noexcept {
    entries_.clear();
  }

  entries::iterator begin() noexcept {
    return entries_.begin();
  }

  entries::iterator end() noexcept {
    return entries_.end();
  }

  entries::const_iterator begin() const noexcept {
    return entries_.begin();
  }

  entries::const_iterator end() const noexcept {
    return entries_.end();
  }

  subscriber_entry& front() noexcept {
    return entries_.front();
  }

private:
  entries entries_;
};

} // namespace wsm::detail

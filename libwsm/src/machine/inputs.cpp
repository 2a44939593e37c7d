// Inputs on their way to subscribers, and inbound flow control: at most
// max_inbox unhandled per subscriber, reading paused meanwhile; the
// subscriber list.

#include "machine/machine_state.hpp"

#include <algorithm>

namespace wsm::detail::fsm {

/// Every how many inputs a subscriber is asked to answer one: often enough
/// that the machine learns of its progress before it reaches the bound.
uint64_t probe_interval(size_t max_inbox) {
  return std::max<uint64_t>(1, max_inbox / 2);
}

bool any_subscriber_at_bound(const machine_state& st) {
  auto limit = st.opts().max_inbox;
  if (limit == 0)
    return false;
  return std::any_of(st.subscribers.begin(), st.subscribers.end(),
                     [=](const subscriber_entry& x) {
                       return x.delivered - x.handled >= limit;
                     });
}

/// Stops reading from the socket until the subscribers catch up.
void pause_reading(machine_self self) {
  auto& st = self->state;
  if (st.read_paused)
    return;
  st.read_paused = true;
  st.paused_since = self->clock().now();
  ++st.counters.read_pauses;
  if (st.connection.link)
    st.connection.link->pause_reading();
}

/// Reads again. A pong that could not be read while paused gets a full
/// `pong_timeout` from now: the peer was not slow, we were.
void resume_reading(machine_self self) {
  auto& st = self->state;
  if (!st.read_paused)
    return;
  st.read_paused = false;
  st.counters.read_paused += self->clock().now() - st.paused_since;
  // Nothing could arrive while paused: liveness counts from now.
  st.last_message = self->clock().now();
  if (!st.connection.link)
    return;
  st.connection.link->resume_reading();
  if (st.awaiting_pong)
    arm_timer(self, pong_timeout_atom{}, st.opts().pong_timeout,
              ++st.pong_deadline);
}

/// A change in the subscribers or in their progress may lift the pause:
/// what waited goes out first, and the link reads again once it is all out
/// and every subscriber is below the bound.
void check_inbox_bound(machine_self self) {
  auto& st = self->state;
  if (!st.read_paused)
    return;
  deliver_held(self);
  if (st.held.empty() && !any_subscriber_at_bound(st))
    resume_reading(self);
}

/// `subscriber` answered the input numbered `seq`: it has handled every
/// input up to that one.
void inputs_handled(machine_self self, const caf::actor_addr& subscriber,
                    uint64_t seq) {
  for (auto& x : self->state.subscribers)
    if (x.handle.address() == subscriber)
      x.handled = std::max(x.handled, seq);
  check_inbox_bound(self);
}

/// Registers what the answer to input `seq` of `x` means: whatever it is
/// (CAF answers a handler that returns nothing with an empty message, and a
/// dead or unwilling receiver, or an unexpected answer, with an error),
/// `x` is done with every input sent to it before.
void await_answer(machine_self self, const subscriber_entry& x,
                  caf::message_id request) {
  auto who = x.handle.address();
  auto seq = x.delivered;
  auto handled = [=] { inputs_handled(self, who, seq); };
  self->add_multiplexed_response_handler(
    request.response_id(),
    caf::behavior{[=]() { handled(); }, [=](caf::error&) { handled(); }});
}

/// Whether input number `x.delivered` goes to `x` as a request: now and
/// then, and always the one that puts it at the bound.
bool asks_for_answer(const subscriber_entry& x, size_t limit) {
  return limit > 0
         && (x.delivered - x.handled >= limit
             || x.delivered % probe_interval(limit) == 0);
}

/// Enqueues one input to `x`, as a request when it is time to ask.
template <class Content>
void deliver_input(machine_self self, subscriber_entry& x, Content&& content,
                   size_t limit) {
  auto dest = caf::actor_cast<caf::strong_actor_ptr>(x.handle);
  if (!dest)
    return;
  ++x.delivered;
  auto id = caf::make_message_id();
  if (asks_for_answer(x, limit)) {
    id = self->new_request_id(caf::message_priority::normal);
    await_answer(self, x, id);
  }
  dest->enqueue(caf::make_mailbox_element(
                  caf::actor_cast<caf::strong_actor_ptr>(self), id, {},
                  std::forward<Content>(content)),
                self->context());
}

/// Sends one input to every subscriber. One subscriber gets the input in
/// its mailbox element itself (one allocation); several share one message,
/// never a copy of the payload each.
void deliver_to_subscribers(machine_self self, input&& x) {
  auto& st = self->state;
  auto limit = st.opts().max_inbox;
  ++st.released;
  if (st.subscribers.size() == 1) {
    deliver_input(self, st.subscribers.front(), std::move(x), limit);
    return;
  }
  auto content = caf::make_message(std::move(x));
  for (auto& sub : st.subscribers)
    deliver_input(self, sub, content, limit);
}

/// Tells the link how many inputs left the machine since the last time:
/// it sends only so many more (see `link::consumed`).
void report_released(machine_self self) {
  auto& st = self->state;
  if (st.released == 0)
    return;
  if (st.connection.link)
    st.connection.link->consumed(st.released);
  st.released = 0;
}

/// Passes one input on. With `max_inbox`, an input now and then goes as a
/// request, and the one that puts a subscriber at the bound stops reading
/// until it is answered; what arrives meanwhile waits here, in order.
void fan_out_input(machine_self self, input&& x) {
  auto& st = self->state;
  if (st.read_paused || !st.held.empty()) {
    st.held.push_back(std::move(x));
    return;
  }
  deliver_to_subscribers(self, std::move(x));
  if (any_subscriber_at_bound(st))
    pause_reading(self);
}

/// Sends held inputs on, in order: while no subscriber is at the bound,
/// or all of them when `bounded` is false.
void release_held(machine_self self, bool bounded) {
  auto& st = self->state;
  while (!st.held.empty() && !(bounded && any_subscriber_at_bound(st))) {
    auto x = std::move(st.held.front());
    st.held.pop_front();
    deliver_to_subscribers(self, std::move(x));
  }
  if (st.held.empty())
    st.held.clear(); // gives its memory back
  report_released(self);
}

/// Sends held inputs on while no subscriber is at the bound.
void deliver_held(machine_self self) {
  release_held(self, true);
}

/// Before a change of state, every input that arrived goes out, bound or
/// not: subscribers see the inputs of a link before it is reported gone.
void flush_held(machine_self self) {
  release_held(self, false);
}

void update_self_reference(machine_self self) {
  auto& st = self->state;
  if (st.subscribers.empty())
    st.self_reference = nullptr;
  else if (!st.self_reference)
    st.self_reference = caf::actor_cast<caf::strong_actor_ptr>(self);
}

void add_subscriber(machine_self self, const caf::actor& subscriber) {
  self->state.subscribers.add(self, subscriber);
  update_self_reference(self);
}

void remove_subscriber(machine_self self, const caf::actor_addr& subscriber) {
  self->state.subscribers.remove(subscriber);
  update_self_reference(self);
  // A slow subscriber that leaves (or dies) no longer holds the socket.
  check_inbox_bound(self);
}

/// Counts an incoming frame and passes it on.
void pass_on(machine_self self, input& x) {
  auto& st = self->state;
  ++st.counters.messages_in;
  st.counters.bytes_in += x.payload.size();
  // Moved, not copied: the broker's message is ours alone.
  fan_out_input(self, std::move(x));
}

/// Messages arrived: the peer is alive, and subscribers get each.
void receive(machine_self self, input& x) {
  auto& st = self->state;
  st.last_heard = self->clock().now();
  st.last_message = st.last_heard;
  st.awaiting_pong = false;
  pass_on(self, x);
  report_released(self);
}

/// What one read from the socket brought, in one message from the broker:
/// one look at the clock for all of them.
void receive(machine_self self, std::vector<input>& xs) {
  auto& st = self->state;
  st.last_heard = self->clock().now();
  st.last_message = st.last_heard;
  st.awaiting_pong = false;
  for (auto& x : xs)
    pass_on(self, x);
  report_released(self);
}

} // namespace wsm::detail::fsm

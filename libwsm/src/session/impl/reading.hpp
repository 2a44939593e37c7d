#pragma once

// Reading: each message into a string that becomes the input's payload,
// handed to the machine in batches, as far as the machine's credit goes.

#include <algorithm>

#include <caf/send.hpp>

#include "io/io_scheduler.hpp"
#include "session/session.hpp"
#include "session/uninitialized_resize.hpp"

namespace wsm::detail {

/// Reads the next piece of a message. While none is under way, into a
/// small buffer of the session's own: an idle link then holds no read
/// buffer (Beast's async_read would hold 1.5 KiB per idle link); after the
/// first piece, straight into the message: into the room it has beyond
/// `filled_`, grown by bounded steps (`next_read_size`) only when it is
/// full, and never zero-filled: the kernel's copy is the only write to it.
template <class Stream>
void session<Stream>::do_read() {
  reading_ = true;
  if (filled_ == 0) {
    ws_.async_read_some(net::buffer(first_bytes_),
                        guard("read", [self = this->shared_from_this()](
                                        beast::error_code ec, size_t n) {
                          if (!ec && n > 0) {
                            self->message_.assign(self->first_bytes_.data(),
                                                  n);
                            self->filled_ = n;
                          }
                          self->on_read(ec);
                        }));
    return;
  }
  if (filled_ == message_.size())
    resize_uninitialized(message_, filled_ + next_read_size());
  ws_.async_read_some(net::buffer(message_.data() + filled_,
                                  message_.size() - filled_),
                      guard("read", [self = this->shared_from_this()](
                                      beast::error_code ec, size_t n) {
                        self->filled_ += n;
                        self->on_read(ec);
                      }));
}

/// How much the message under way may grow with the next read. What the
/// frame announces (an uncompressed final frame's remaining bytes), but
/// never more than `trusted_room`, or than what has arrived so far beyond
/// it: a compressed frame's length says nothing of what it inflates to,
/// and a peer may announce 2^63 bytes; memory follows the bytes that came,
/// at most `trusted_room` ahead of them. A message of up to `trusted_room`
/// then takes one allocation, and no copy. Never past max_message_size +
/// 1, the byte that tells Beast the message is too big.
template <class Stream>
size_t session<Stream>::next_read_size() const {
  auto filled = filled_;
  uint64_t size = std::min<uint64_t>(ws_.read_size_hint(read_step),
                                     std::max(trusted_room, filled));
  if (max_message_size_ > 0) {
    uint64_t limit = max_message_size_ + 1;
    size = std::min<uint64_t>(size, limit > filled ? limit - filled : 1);
  }
  return static_cast<size_t>(std::max<uint64_t>(size, 1));
}

/// Whether the frame under way announces more than the message may still
/// hold. Beast refuses such an uncompressed frame itself; a compressed one
/// announces its compressed bytes, which inflate to at least about as many
/// (deflate's worst case adds 5 bytes per 16 KiB stored, and a few).
template <class Stream>
bool session<Stream>::announces_too_much() const {
  if (max_message_size_ == 0)
    return false;
  uint64_t left = max_message_size_
                  - std::min<uint64_t>(max_message_size_, filled_);
  auto slack = (left >> 12) + (left >> 14) + 64;
  return ws_.read_size_hint(1) > left + slack;
}

template <class Stream>
void session<Stream>::on_read(beast::error_code ec) {
  reading_ = false;
  if (ec)
    return fail("read", ec);
  if (!ws_.is_message_done()) {
    if (announces_too_much())
      return fail_connection(message_too_big(),
                             websocket::close_code::too_big);
    return do_read();
  }
  // Kept until Beast has parsed what the socket gave (it then reads again,
  // and the layer calls deliver_inputs): the machine and its subscribers
  // run once for a burst of messages, and their answers leave in one send.
  message_.resize(filled_); // the room not filled goes
  inputs_.push_back(input{std::move(message_), ws_.got_text()});
  message_.clear(); // moved from: empty again for the next message
  filled_ = 0;
  if (phase_ != session_phase::open || read_paused_ || !has_credit()) {
    // No read follows (resume_reading reads again): deliver now.
    auto& layer = ws_.next_layer();
    layer.hold();
    deliver_inputs();
    return layer.release();
  }
  do_read();
}

/// Whether the machine may be sent more: it has taken all but a few of the
/// inputs sent to it. A machine on another thread, or one that is slow to
/// run, would otherwise let its mailbox grow before its pause reaches the
/// session. Out of credit, the session says so (`starved_`) and `consumed`
/// reads on.
template <class Stream>
bool session<Stream>::has_credit() {
  auto ahead = delivered_ + inputs_.size()
               - consumed_.load(std::memory_order_acquire);
  if (ahead < machine_credit)
    return true;
  starved_.store(true, std::memory_order_release);
  // The machine may have taken them just now.
  ahead = delivered_ + inputs_.size()
          - consumed_.load(std::memory_order_acquire);
  if (ahead < machine_credit) {
    starved_.store(false, std::memory_order_release);
    return true;
  }
  return false;
}

/// Reads again unless something holds the reading.
template <class Stream>
void session<Stream>::read_on() {
  if (phase_ == session_phase::open && !reading_ && !read_paused_
      && has_credit())
    do_read();
}

/// Hands the messages read since the last delivery to the machine, in one
/// message and one batch: the machine and its subscribers run once for all
/// of them when the batch ends, not once per message.
template <class Stream>
void session<Stream>::deliver_inputs() {
  if (inputs_.empty())
    return;
  batch_scope batch;
  if (inputs_.size() == 1) {
    ++delivered_;
    caf::anon_send(machine(), received_atom::value, id_,
                   std::move(inputs_.front()));
    inputs_.clear();
    return;
  }
  // One message for the burst: one trip through the machine's mailbox.
  delivered_ += inputs_.size();
  caf::anon_send(machine(), received_atom::value, id_, std::move(inputs_));
  inputs_ = {};
}

} // namespace wsm::detail

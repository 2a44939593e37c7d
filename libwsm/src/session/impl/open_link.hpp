#pragma once

// The open link: frames written and acknowledged, the one deadline timer
// (a step's bound, or the watch over sends), and every way the link ends.

#include <caf/send.hpp>

#include "io/io_scheduler.hpp"
#include "session/client_frame.hpp"
#include "session/session.hpp"
#include "vocabulary/wording.hpp"

namespace wsm::detail {

// -- writing ------------------------------------------------------------------

/// Writes one frame into the coalescing layer, which sends it with the
/// others of its batch; it is acked once its bytes are out. A message that
/// goes uncompressed is framed here (client_frame.hpp): masked straight
/// into the layer's bytes, one frame; Beast writes the ones it compresses.
template <class Stream>
void session<Stream>::write_frame(const std::string& payload, bool text) {
  if (phase_ != session_phase::open || !ws_.is_open())
    return; // closing or gone: the machine requeues what was not acked
  beast::error_code ec;
  if (frames_ours_) {
    auto size = payload.size();
    auto header = client_frame_header_size(size);
    auto key = mask_key();
    ws_.next_layer().write_bytes(
      header + size,
      [&](char* to) {
        auto out = reinterpret_cast<unsigned char*>(to);
        write_client_frame_header(out, text, size, key);
        copy_masked(out + header,
                    reinterpret_cast<const unsigned char*>(payload.data()),
                    size, key);
      },
      ec);
  } else {
    ws_.text(text);
    ws_.write(net::buffer(payload), ec);
  }
  if (ec)
    return fail("write", ec);
  frame_ends_.push_back(ws_.next_layer().bytes_written());
  // A peer that stops reading must not stall the link.
  if (deadline_duty_ != deadline_duty::watching_writes)
    watch_writes(write_timeout_);
}

template <class Stream>
void session<Stream>::on_sent(beast::error_code ec) {
  if (ec)
    return fail("write", ec);
  // The machine, woken by the acks, and the writes it starts run at the
  // end of this block.
  batch_scope batch;
  acknowledge_sent();
}

/// Tells the machine how many more frames are out on the socket: one
/// message per send, whatever number of frames it carried.
template <class Stream>
void session<Stream>::acknowledge_sent() {
  auto sent = ws_.next_layer().bytes_sent();
  uint64_t count = 0;
  while (!frame_ends_.empty() && frame_ends_.front() <= sent) {
    frame_ends_.pop_front();
    ++count;
  }
  if (count > 0)
    caf::anon_send(machine(), written_atom::value, id_, count);
}

// -- the deadline -------------------------------------------------------------

/// Watches the sends with the deadline timer: armed when a frame is
/// written and the timer is idle, it checks the send in flight when it
/// fires, so a steady stream of frames does not re-arm the timer (a
/// system call) for each one.
template <class Stream>
void session<Stream>::watch_writes(caf::timespan after) {
  deadline_duty_ = deadline_duty::watching_writes;
  deadline_.expires_after(after);
  deadline_.async_wait(guard("write", [self = this->shared_from_this(),
                                       armed = ++deadline_armed_](
                                        beast::error_code ec) {
    if (ec || armed != self->deadline_armed_)
      return;
    self->deadline_duty_ = deadline_duty::idle;
    auto& layer = self->ws_.next_layer();
    if (!layer.sending())
      return;
    auto busy = std::chrono::steady_clock::now() - layer.send_started();
    if (busy >= self->write_timeout_)
      self->drop({close_cause::timeout,
                  "write timed out after "
                    + in_milliseconds(self->write_timeout_)});
    else
      self->watch_writes(self->write_timeout_ - busy);
  }));
}

/// Runs `on_expiry` after `limit`, unless the deadline is cancelled or
/// armed again first.
template <class Stream>
template <class OnExpiry>
void session<Stream>::arm_deadline_for(caf::timespan limit,
                                       OnExpiry on_expiry) {
  deadline_duty_ = deadline_duty::bounding;
  deadline_.expires_after(limit);
  deadline_.async_wait(guard("deadline",
                             [self = this->shared_from_this(),
                              armed = ++deadline_armed_,
                              on_expiry = std::move(on_expiry)](
                               beast::error_code ec) mutable {
    // A wait that completed just as the timer was armed again is stale.
    if (!ec && armed == self->deadline_armed_)
      on_expiry();
  }));
}

/// Drops the link with a timeout after `limit`, unless cancelled or armed
/// again first.
template <class Stream>
void session<Stream>::arm_deadline(caf::timespan limit, std::string reason) {
  arm_deadline_for(limit, [this, reason = std::move(reason)] {
    drop({close_cause::timeout, reason});
  });
}

template <class Stream>
void session<Stream>::cancel_deadline() {
  ++deadline_armed_;
  deadline_duty_ = deadline_duty::idle;
  deadline_.cancel();
}

// -- the end ------------------------------------------------------------------

/// Beast tears the connection down (after the close frames, or after it
/// failed the connection) and waits for the peer to end TCP: no longer
/// than close_timeout. A quit's close, and a connection failed here, are
/// bounded already.
template <class Stream>
void session<Stream>::bound_teardown() {
  if (phase_ != session_phase::open)
    return;
  phase_ = session_phase::tearing_down;
  arm_deadline_for(close_timeout_,
                   [this] { ws_.next_layer().cut_teardown(); });
}

template <class Stream>
void session<Stream>::do_close() {
  phase_ = session_phase::closing;
  arm_deadline(close_timeout_,
               "close timed out after " + in_milliseconds(close_timeout_));
  // The close frame goes out after the frames written before it.
  ws_.async_close(websocket::close_code::normal,
                  guard("close", [self = this->shared_from_this()](
                                   beast::error_code ec) {
                    if (ec)
                      self->fail("close", ec);
                    else
                      self->report_closed({close_cause::closed_by_machine,
                                           "closed", 0,
                                           websocket::close_code::normal});
                  }));
}

/// Fails the connection from our side (RFC 6455 7.1.7) while no read is in
/// flight: the machine hears at once; the close frame goes out, and the
/// socket closes when the peer answers it or after close_timeout.
template <class Stream>
void session<Stream>::fail_connection(disconnect_info info,
                                      websocket::close_code code) {
  report_closed(std::move(info));
  // After report_closed, which cancels the deadline: the peer's answer is
  // awaited no longer than close_timeout.
  arm_deadline(close_timeout_,
               "close timed out after " + in_milliseconds(close_timeout_));
  ws_.async_close(code, guard("close", [self = this->shared_from_this()](
                                         beast::error_code) {
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).close(ignored);
  }));
}

template <class Stream>
disconnect_info session<Stream>::message_too_big() const {
  return {close_cause::message_too_big,
          "message larger than max_message_size ("
            + std::to_string(max_message_size_) + " bytes): closed with 1009",
          0, websocket::close_code::too_big};
}

/// Reports the end of the connection, once.
template <class Stream>
void session<Stream>::report_closed(disconnect_info info) {
  if (phase_ == session_phase::closed)
    return;
  // What was read before the end is the machine's before the end.
  deliver_inputs();
  phase_ = session_phase::closed;
  // Frames written before the end are acked before it, or the machine
  // would write them again on the next link.
  acknowledge_sent();
  cancel_deadline();
  caf::anon_send(machine(), closed_atom::value, id_, std::move(info));
}

/// Ends the connection now: reports `info` and closes the socket, which
/// makes every pending operation complete.
template <class Stream>
void session<Stream>::drop(disconnect_info info) {
  report_closed(std::move(info));
  if (handshake_) {
    if (handshake_->dial)
      handshake_->dial->cancel();
    if (handshake_->tunnel)
      handshake_->tunnel->cancel();
  }
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
}

/// Sorts a failed operation into a cause the machine can act on.
template <class Stream>
void session<Stream>::fail(const char* what, beast::error_code ec) {
  if (phase_ == session_phase::closed)
    return; // dropped on purpose or on a deadline: said already
  if (ec == websocket::error::closed) {
    auto& reason = ws_.reason();
    std::string text = "closed by peer: " + std::to_string(reason.code);
    if (!reason.reason.empty()) {
      text += ' ';
      text += reason.reason.c_str();
    }
    return report_closed({close_cause::closed_by_peer, std::move(text), 0,
                          static_cast<uint16_t>(reason.code),
                          std::string{reason.reason.c_str()}});
  }
  if (ec == websocket::error::message_too_big)
    return drop(message_too_big());
  // TLS errors after the TLS handshake (a TLS 1.3 server refuses a client
  // certificate only then) are TLS trouble, not the network's.
  if (ec.category() == net::error::get_ssl_category())
    return drop({close_cause::tls,
                 std::string{what} + ": TLS: " + ec.message()});
  auto text = std::string{what} + ": " + ec.message();
  drop({close_cause::network,
        handshake_ ? through_proxy(std::move(text)) : std::move(text)});
}

} // namespace wsm::detail

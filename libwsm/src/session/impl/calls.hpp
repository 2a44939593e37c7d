#pragma once

// The link's calls: what a machine (or the broker, on its behalf) asks of a
// session. Each runs on the session's thread, in the order of the calls.

#include "session/session.hpp"
#include "vocabulary/wording.hpp"

namespace wsm::detail {

template <class Stream>
void session<Stream>::start() {
  net::dispatch(ws_.get_executor(),
                guard("starting", [self = this->shared_from_this()] {
    auto& layer = self->ws_.next_layer();
    layer.set_owner(self);
    // These run inside the layer's calls, which Beast makes from the
    // session's own operations: the session is alive then.
    layer.on_sent([raw = self.get()](beast::error_code ec) {
      raw->guarded("write", [&] { raw->on_sent(ec); });
    });
    layer.before_read([raw = self.get()] {
      raw->guarded("read", [&] { raw->deliver_inputs(); });
    });
    layer.on_teardown([raw = self.get()] { raw->bound_teardown(); });
    // One deadline for resolve, connect and upgrade together.
    auto limit = self->handshake_->request.handshake_timeout;
    self->arm_deadline(limit,
                       "handshake timed out after " + in_milliseconds(limit));
    self->do_dial();
  }));
}

template <class Stream>
void session<Stream>::write(std::shared_ptr<const std::string> payload,
                            bool text) {
  in_order([self = this->shared_from_this(), payload = std::move(payload),
            text] { self->write_frame(*payload, text); });
}

template <class Stream>
void session<Stream>::ping(const std::string& payload) {
  in_order([self = this->shared_from_this(),
            payload = websocket::ping_data{payload.data(),
                                           std::min<size_t>(payload.size(),
                                                            125)}] {
    if (self->phase_ != session_phase::open)
      return;
    beast::error_code ec;
    self->ws_.ping(payload, ec);
    if (ec)
      self->fail("ping", ec);
  });
}

template <class Stream>
void session<Stream>::close() {
  in_order([self = this->shared_from_this()] {
    if (self->phase_ == session_phase::open)
      self->do_close();
    else if (self->phase_ < session_phase::open)
      self->drop({close_cause::closed_by_machine,
                  "closed before the connection was up"});
    // Tearing down, closing or closed: the end is on its way already.
  });
}

template <class Stream>
void session<Stream>::abort() {
  in_order([self = this->shared_from_this()] {
    self->drop({close_cause::closed_by_machine, "aborted"});
  });
}

template <class Stream>
void session<Stream>::pause_reading() {
  in_order([self = this->shared_from_this()] { self->read_paused_ = true; });
}

template <class Stream>
void session<Stream>::consumed(uint64_t count) {
  consumed_.fetch_add(count, std::memory_order_acq_rel);
  // A session that stopped for want of credit reads on.
  if (starved_.exchange(false, std::memory_order_acq_rel))
    in_order([self = this->shared_from_this()] { self->read_on(); });
}

template <class Stream>
void session<Stream>::resume_reading() {
  in_order([self = this->shared_from_this()] {
    self->read_paused_ = false;
    self->read_on();
  });
}

template <class Stream>
void session<Stream>::on_exception(const char* what, const char* why) noexcept {
  try {
    drop({close_cause::internal_error,
          std::string{what} + ": internal error: " + why});
  } catch (...) {
    // Not even the report could be made (memory exhausted): the socket
    // still closes, and the pending operations end with it.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
  }
}

} // namespace wsm::detail

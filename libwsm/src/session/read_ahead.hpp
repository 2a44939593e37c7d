#pragma once

// Read-ahead for the layer under a session's websocket stream: many frames
// per syscall where the bytes are there, none of it where they are not.
//
// Beast reads a frame in two steps: up to 1.5 KiB into its own buffer (the
// header and the first bytes), then the rest of the payload straight into
// the caller's buffer. Against a feed of small or middle-sized messages
// that is two `recvmsg` and two wake-ups per message. With read-ahead, a
// read smaller than `capacity` fills this buffer instead, and the reads
// that follow are served from it, with no syscall, until it is empty.
//
// It turns on only when a read filled all it asked for (more is likely
// waiting) and off when a read came back short (the socket is drained): a
// round trip of small messages reads straight into Beast's buffer as
// before. A read of `capacity` or more (a large message's payload) always
// goes straight to the caller's buffer, the kernel's copy the only one.
// The buffer is allocated when a read fills it and freed when it is empty:
// an idle link holds none.

#include <algorithm>
#include <cstddef>
#include <memory>

#include <boost/asio/buffer.hpp>

namespace wsm::detail {

class read_ahead {
public:
  /// Bytes one read from the socket may bring at most.
  static constexpr size_t capacity = 32 * 1024;

  /// Bytes read and not yet handed out.
  size_t size() const noexcept {
    return end_ - begin_;
  }

  /// Whether it holds a buffer now.
  bool holds_memory() const noexcept {
    return storage_ != nullptr;
  }

  /// Whether a read asking for `requested` bytes should fill this buffer
  /// rather than read straight into the caller's.
  bool should_fill(size_t requested) const noexcept {
    return on_ && requested < capacity;
  }

  /// The room to read into; allocated here, uninitialized.
  boost::asio::mutable_buffer prepare() {
    if (!storage_)
      storage_.reset(new char[capacity]);
    begin_ = end_ = 0;
    return boost::asio::buffer(storage_.get(), capacity);
  }

  /// A read into `prepare()`'s room brought `n` bytes; a short one says the
  /// socket had no more.
  void filled(size_t n) noexcept {
    end_ = n;
    on_ = n == capacity;
    if (n == 0)
      storage_.reset();
  }

  /// A read straight into the caller's buffer brought `n` of `requested`
  /// bytes: read ahead next time if it filled them all.
  void read_direct(size_t requested, size_t n) noexcept {
    on_ = requested > 0 && n == requested;
  }

  /// Copies what is buffered into `buffers`, as much as fits; frees the
  /// buffer once it is empty.
  template <class MutableBuffers>
  size_t take(const MutableBuffers& buffers) {
    auto n = boost::asio::buffer_copy(
      buffers, boost::asio::buffer(storage_.get() + begin_, size()));
    begin_ += n;
    if (begin_ == end_) {
      storage_.reset();
      begin_ = end_ = 0;
    }
    return n;
  }

private:
  std::unique_ptr<char[]> storage_;
  size_t begin_ = 0;
  size_t end_ = 0;
  /// The last read filled all it asked for.
  bool on_ = false;
};

} // namespace wsm::detail

#pragma once

// The layer under a session's websocket stream that turns many frames into
// one send. The session writes each frame with Beast's synchronous API,
// which lands here as bytes appended to a buffer at once (no Beast write
// operation, no queue of payloads); they go to the socket together:
//
// - at once, when nothing holds them and no send is in flight;
// - when the websocket stream is about to read from the socket again: it
//   has parsed everything the last read brought, and `before_read` lets the
//   session deliver those messages first, so every answer to them is
//   written by then and one send carries them all (the echoes of a burst of
//   pipelined messages);
// - while held (`hold`), they wait for `release` or that next read;
// - a send in flight takes the next batch when it completes.
//
// Beast's own asynchronous writes (the upgrade request, pongs, the close
// frame) queue behind what is gathered, in order, and complete when their
// bytes are sent. `on_sent` tells the session after every send, so that it
// can acknowledge the frames whose bytes are out.
//
// Reads go through `read_ahead` (read_ahead.hpp): while the socket has more
// than Beast asks for, one read takes many frames.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "session/byte_buffer.hpp"
#include "session/read_ahead.hpp"

namespace wsm::detail {

template <class NextLayer>
class write_coalescing_stream {
public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  using error_code = boost::beast::error_code;
  using clock_type = std::chrono::steady_clock;
  using completion_type =
    boost::asio::any_completion_handler<void(error_code, size_t)>;

  template <class... Args>
  explicit write_coalescing_stream(Args&&... args)
    : next_(std::forward<Args>(args)...) {
  }

  executor_type get_executor() noexcept {
    return next_.get_executor();
  }

  next_layer_type& next_layer() noexcept {
    return next_;
  }

  const next_layer_type& next_layer() const noexcept {
    return next_;
  }

  /// Who owns this layer: a send in flight keeps it alive.
  void set_owner(std::weak_ptr<void> owner) {
    owner_ = std::move(owner);
  }

  /// Called after every send with its outcome; `bytes_sent` then says how
  /// far the stream's bytes are out.
  void on_sent(std::function<void(error_code)> f) {
    on_sent_ = std::move(f);
  }

  /// Called when the websocket stream is about to read from the socket:
  /// what it parsed so far may be delivered, and the frames written in
  /// answer go out with one send right after.
  void before_read(std::function<void()> f) {
    before_read_ = std::move(f);
  }

  /// Called when the websocket stream starts tearing the connection down
  /// (after the close frames, or when it fails the connection). Beast then
  /// waits for the peer to end TCP, which a hostile peer never does: the
  /// owner bounds that wait with `cut_teardown`.
  void on_teardown(std::function<void()> f) {
    on_teardown_ = std::move(f);
  }

  /// Ends a teardown under way: the socket closes, and the teardown
  /// completes as if the peer had ended TCP, so that the stream still
  /// reports why it tore down (the peer's close frame, a message too big)
  /// instead of the cut.
  void cut_teardown() {
    teardown_cut_ = true;
    error_code ignored;
    boost::beast::get_lowest_layer(next_).close(ignored);
  }

  /// The teardown of the stream above, through this layer (see
  /// `async_teardown` below).
  template <class Handler>
  void async_teardown(boost::beast::role_type role, Handler&& handler) {
    if (on_teardown_)
      on_teardown_();
    using boost::beast::websocket::async_teardown;
    async_teardown(role, next_,
                   [this, handler = std::forward<Handler>(handler)](
                     error_code ec) mutable {
                     if (teardown_cut_)
                       ec = {};
                     std::move(handler)(ec);
                   });
  }

  /// Frames written from now on wait for the next read from the socket (or
  /// `release`).
  void hold() noexcept {
    holding_ = true;
  }

  /// Sends what is held, e.g. when the session stops reading for a while.
  void release() {
    holding_ = false;
    flush();
  }

  /// Bytes written to this layer since it was made.
  uint64_t bytes_written() const noexcept {
    return written_;
  }

  /// Bytes of those that the socket took.
  uint64_t bytes_sent() const noexcept {
    return sent_;
  }

  /// Whether it holds a send buffer now (none while idle).
  bool holds_send_buffer() const noexcept {
    return gathered_.capacity() > 0 || in_flight_.capacity() > 0;
  }

  /// Whether a send is under way, and since when.
  bool sending() const noexcept {
    return sending_;
  }

  clock_type::time_point send_started() const noexcept {
    return send_started_;
  }

  // -- what the websocket stream calls ----------------------------------------

  /// A synchronous write of Beast's (a frame, a ping): gathered, never
  /// blocking.
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, error_code& ec) {
    if (failed_) {
      ec = failed_;
      return 0;
    }
    ec = {};
    auto n = gather(buffers);
    if (!holding_ || gathered_.size() >= high_water)
      flush();
    return n;
  }

  /// Writes `size` bytes that `fill` puts in place (given where they go,
  /// uninitialized): a frame the session made itself, gathered as Beast's
  /// are, with no copy of its own.
  template <class Fill>
  void write_bytes(size_t size, Fill&& fill, error_code& ec) {
    if (failed_) {
      ec = failed_;
      return;
    }
    ec = {};
    fill(gathered_.extend(size));
    written_ += size;
    if (!holding_ || gathered_.size() >= high_water)
      flush();
  }

  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    error_code ec;
    auto n = write_some(buffers, ec);
    if (ec)
      throw boost::system::system_error{ec};
    return n;
  }

  /// An asynchronous write of Beast's: after what is gathered, completed
  /// once sent. Beast has one in flight at a time.
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, size_t)>(
      [this](auto completion, const ConstBuffers& data) {
        if (failed_) {
          boost::asio::post(next_.get_executor(),
                            [completion = std::move(completion),
                             ec = failed_]() mutable {
                              std::move(completion)(ec, 0);
                            });
          return;
        }
        waiting_bytes_ = gather(data);
        // Swapped in: Asio 1.81's move assignment of the handler recurses.
        completion_type held{std::move(completion)};
        waiting_.swap(held);
        flush();
      },
      handler, buffers);
  }

  /// Reading: from what was read ahead while there is any (completed
  /// through the executor, as Asio's rules want, with no syscall);
  /// otherwise from the socket, and then everything gathered goes out
  /// first.
  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, size_t)>(
      [this](auto completion, const MutableBuffers& into) {
        if (ahead_.size() > 0) {
          auto n = ahead_.take(into);
          boost::asio::post(next_.get_executor(),
                            boost::beast::bind_front_handler(
                              std::move(completion), error_code{}, n));
          return;
        }
        if (before_read_) {
          holding_ = true;
          before_read_();
        }
        holding_ = false;
        flush();
        auto requested = boost::asio::buffer_size(into);
        if (!ahead_.should_fill(requested)) {
          next_.async_read_some(
            into, [this, requested, completion = std::move(completion)](
                    error_code ec, size_t n) mutable {
              ahead_.read_direct(requested, n);
              std::move(completion)(ec, n);
            });
          return;
        }
        next_.async_read_some(
          ahead_.prepare(), [this, into, completion = std::move(completion)](
                              error_code ec, size_t n) mutable {
            ahead_.filled(n);
            std::move(completion)(ec, n > 0 ? ahead_.take(into) : 0);
          });
      },
      handler, buffers);
  }

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    if (ahead_.size() > 0) {
      ec = {};
      return ahead_.take(buffers);
    }
    return next_.read_some(buffers, ec);
  }

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    if (ahead_.size() > 0)
      return ahead_.take(buffers);
    return next_.read_some(buffers);
  }

private:
  /// Past this many bytes gathered, a send starts even while holding.
  static constexpr size_t high_water = 64 * 1024;

  template <class ConstBuffers>
  size_t gather(const ConstBuffers& buffers) {
    auto n = boost::asio::buffer_size(buffers);
    boost::asio::buffer_copy(boost::asio::buffer(gathered_.extend(n), n),
                             buffers);
    written_ += n;
    return n;
  }

  void flush() {
    if (sending_ || gathered_.empty() || failed_)
      return;
    sending_ = true;
    send_started_ = clock_type::now();
    gathered_.swap(in_flight_);
    // Beast's waiting write goes with this send, which carries its bytes:
    // held by the operation, not by the layer, it cannot keep the session
    // alive through a context that is destroyed with the send pending.
    auto covered = std::move(waiting_);
    boost::asio::async_write(
      next_, boost::asio::buffer(in_flight_.data(), in_flight_.size()),
      [hold = send_hold{owner_.lock(), this},
       covered = std::move(covered)](error_code ec, size_t n) mutable {
        hold.completed = true;
        hold.layer->on_flushed(ec, n, std::move(covered));
      });
  }

  /// What a send holds: its owner, alive until the send completes. One of
  /// Beast's writes that came while the send was under way waits in the
  /// layer, and holds the owner too (its handler does): a send destroyed
  /// without completing (its context destroyed) lets it go, or the two
  /// would hold each other forever.
  struct send_hold {
    std::shared_ptr<void> owner;
    write_coalescing_stream* layer = nullptr;
    bool completed = false;

    send_hold(std::shared_ptr<void> owner, write_coalescing_stream* layer)
      : owner(std::move(owner)), layer(layer) {
    }
    send_hold(send_hold&& other) noexcept
      : owner(std::move(other.owner)),
        layer(other.layer),
        completed(other.completed) {
    }
    send_hold& operator=(send_hold&&) = delete;
    ~send_hold() {
      if (owner && !completed) {
        completion_type dropped;
        dropped.swap(layer->waiting_);
      }
    }
  };

  void on_flushed(error_code ec, size_t n, completion_type covered) {
    sending_ = false;
    // A link with nothing more to send keeps no buffer (thousands of idle
    // links); while frames keep coming, the sent one is reused.
    if (gathered_.empty()) {
      in_flight_.release();
      gathered_.release();
    } else {
      in_flight_.clear();
    }
    if (ec)
      failed_ = ec;
    else
      sent_ += n;
    if (covered)
      std::move(covered)(ec, ec ? 0 : waiting_bytes_);
    // One that came while this send was under way, on a failure.
    if (waiting_ && ec) {
      auto completion = std::move(waiting_);
      std::move(completion)(ec, 0);
    }
    if (on_sent_)
      on_sent_(ec);
    if (!ec && (!holding_ || waiting_))
      flush();
  }

  NextLayer next_;
  read_ahead ahead_;
  std::weak_ptr<void> owner_;
  std::function<void(error_code)> on_sent_;
  std::function<void()> before_read_;
  std::function<void()> on_teardown_;
  /// Bytes not yet handed to the socket, and those being sent.
  byte_buffer gathered_;
  byte_buffer in_flight_;
  uint64_t written_ = 0;
  uint64_t sent_ = 0;
  /// Beast's asynchronous write, until the send that carries it starts.
  completion_type waiting_;
  size_t waiting_bytes_ = 0;
  error_code failed_;
  clock_type::time_point send_started_;
  bool holding_ = false;
  bool sending_ = false;
  /// `cut_teardown` ended the teardown under way.
  bool teardown_cut_ = false;
};

/// The websocket stream tears down the layer below this one.
template <class NextLayer>
void teardown(boost::beast::role_type role,
              write_coalescing_stream<NextLayer>& stream,
              boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

/// By the time Beast tears down, its close frame is sent: its write
/// completed only then. The owner hears of it and bounds the wait.
template <class NextLayer, class Handler>
void async_teardown(boost::beast::role_type role,
                    write_coalescing_stream<NextLayer>& stream,
                    Handler&& handler) {
  stream.async_teardown(role, std::forward<Handler>(handler));
}

} // namespace wsm::detail

#pragma once

// A stream layer under the server's websocket stream that gathers the frames
// the server writes and sends them together just before it reads again, as
// a fast server does (Go's gorilla behind a buffered writer, nginx's
// postponed output): a burst of echoes, or a feed, leaves in one send instead
// of one each, so a pipelining client is not held back by the server.
//
// A write is copied and completes at once while little is waiting; past
// `high_water` bytes its completion waits for the send in flight, so a feed
// into a slow client stops when TCP pushes back instead of growing here.
// Whatever is gathered goes out when the websocket stream reads from the
// socket (it has nothing buffered left to answer), or as soon as
// `high_water` is reached.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace wsm_echo {

template <class NextLayer>
class batched_write_stream {
public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  using error_code = boost::beast::error_code;

  template <class... Args>
  explicit batched_write_stream(Args&&... args)
    : next_(std::forward<Args>(args)...), state_(std::make_shared<state>()) {
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

  /// Sends what was gathered, then reads: the caller has nothing left to
  /// answer until these bytes arrive.
  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    flush();
    return next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, size_t)>(
      [this](auto completion, const ConstBuffers& data) {
        auto& st = *state_;
        auto n = boost::asio::buffer_size(data);
        if (st.failed) {
          post_completion(std::move(completion), st.failed, 0);
          return;
        }
        auto old = st.gathered.size();
        st.gathered.resize(old + n);
        boost::asio::buffer_copy(boost::asio::buffer(&st.gathered[old], n),
                                 data);
        if (st.gathered.size() < high_water) {
          post_completion(std::move(completion), {}, n);
          return;
        }
        // Beast has one write in flight at a time: at most one waits here,
        // taken by the send that carries it. Swapped in: Asio 1.81's move
        // assignment of the handler recurses.
        completion_type held{std::move(completion)};
        st.waiting.swap(held);
        st.waiting_bytes = n;
        flush();
      },
      handler, buffers);
  }

  /// Calls `handler` once everything gathered is sent: the socket may then
  /// be shut down.
  template <class Handler>
  void async_flush(Handler&& handler) {
    auto& st = *state_;
    if (!st.sending && st.gathered.empty()) {
      boost::asio::post(next_.get_executor(),
                        [handler = std::forward<Handler>(handler),
                         ec = st.failed]() mutable { std::move(handler)(ec); });
      return;
    }
    flushed_type held{std::forward<Handler>(handler)};
    st.flushed.swap(held);
    flush();
  }

  /// Sends what was gathered, unless a send is in flight (its completion
  /// sends the rest).
  void flush() {
    auto st = state_;
    if (st->sending || st->gathered.empty() || st->failed)
      return;
    st->sending = true;
    std::swap(st->gathered, st->in_flight);
    // What waits for this send goes with it: held by the operation, not by
    // the connection, it cannot keep the connection alive through a context
    // that is destroyed with the send pending. The state, not the layer,
    // for the same reason: a send may outlive the connection.
    auto waiting = std::move(st->waiting);
    auto flushed = std::move(st->flushed);
    boost::asio::async_write(
      next_, boost::asio::buffer(st->in_flight),
      [this, st, waiting = std::move(waiting),
       flushed = std::move(flushed)](error_code ec, size_t) mutable {
        st->sending = false;
        st->in_flight.clear();
        if (ec)
          st->failed = ec;
        if (waiting)
          std::move(waiting)(ec, ec ? 0 : st->waiting_bytes);
        if (flushed && !ec && !st->gathered.empty()) {
          // More came meanwhile: the next send says when all is out.
          st->flushed.swap(flushed);
        } else if (flushed) {
          std::move(flushed)(ec);
        }
        if (!ec && !st.unique())
          flush();
        // A teardown that asked while this send was under way, with
        // nothing more to send.
        if (st->flushed && !st->sending) {
          flushed_type done;
          done.swap(st->flushed);
          std::move(done)(st->failed);
        }
      });
  }

  // Synchronous use (Beast asks for it at compile time; the server never
  // blocks): straight through.
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    return next_.read_some(buffers, ec);
  }

  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, error_code& ec) {
    return next_.write_some(buffers, ec);
  }

private:
  /// Past this many gathered bytes a send starts at once.
  static constexpr size_t high_water = 64 * 1024;

  using completion_type =
    boost::asio::any_completion_handler<void(error_code, size_t)>;
  using flushed_type = boost::asio::any_completion_handler<void(error_code)>;

  struct state {
    std::string gathered;
    std::string in_flight;
    bool sending = false;
    error_code failed;
    completion_type waiting;
    size_t waiting_bytes = 0;
    flushed_type flushed;
  };

  template <class Completion>
  void post_completion(Completion completion, error_code ec, size_t n) {
    boost::asio::post(next_.get_executor(),
                      [completion = std::move(completion), ec, n]() mutable {
                        std::move(completion)(ec, n);
                      });
  }

  NextLayer next_;
  std::shared_ptr<state> state_;
};

/// The websocket stream tears down the layer below ours (synchronous use,
/// which the server never makes).
template <class NextLayer>
void teardown(boost::beast::role_type role,
              batched_write_stream<NextLayer>& stream,
              boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

/// What was gathered (the close frame among it) goes out first.
template <class NextLayer, class Handler>
void async_teardown(boost::beast::role_type role,
                    batched_write_stream<NextLayer>& stream,
                    Handler&& handler) {
  stream.async_flush([role, &stream, handler = std::forward<Handler>(handler)](
                       boost::beast::error_code) mutable {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::move(handler));
  });
}

} // namespace wsm_echo

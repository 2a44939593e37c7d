#pragma once

// One client connection on Beast, from resolve to close: the session.
//
//   dialing -> [tls_handshake] -> [tunneling] -> [tls_handshake] -> upgrading
//      |        (https:// proxy)       |           (wss:// server)     |
//      +-------------------------------+-------------------------------+
//                                      | drop: failure, deadline, abort
//   upgrading -> open -> [tearing_down | closing] ---------------> closed
//
// The session is a template over its stream, `ws://` (TCP) or `wss://`
// (TLS over TCP); the TLS one adds a step between connect and upgrade. Its
// member functions live in a file per operation (session/impl/), as
// Beast's websocket/impl/ does, and are instantiated once for each stream
// in plain_session.cpp and tls_session.cpp.
//
// Sessions live on Asio, touch nothing of any actor, and report to their
// machine with `anon_send` through a weak address, stamped with the
// connection id. Every member function runs on the thread of the
// session's context; the public ones dispatch themselves there first:
// called on that thread, they run at once, so a machine's write is
// gathered in the same handler.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>

#include "delivery/lazy_deque.hpp"
#include "session/dialer.hpp"
#include "session/proxy_tunnel.hpp"
#include "session/stream_types.hpp"
#include "wsm/machine.hpp"
#include "wsm/messages.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// What the broker routes a machine's commands to, whatever the stream; the
/// machine gets it with `connected` and writes through it directly.
class session_base : public wsm::link {
public:
  virtual void start() = 0;
};

/// Where a session is in its life. Each step's `do_x` starts it and `on_x`
/// completes it; `drop` jumps to `closed` from anywhere.
enum class session_phase : uint8_t {
  /// Resolving the name and connecting to one of its addresses (dialer).
  dialing,
  /// Asking the proxy for a tunnel to the server.
  tunneling,
  tls_handshake,
  upgrading,
  open,
  /// Beast is tearing the connection down inside a read (the peer closed,
  /// or Beast failed the connection): nothing more is written, and the
  /// deadline bounds the teardown.
  tearing_down,
  /// Our close handshake is under way.
  closing,
  /// The end was reported to the machine; nothing more happens.
  closed,
};

/// What the session's one timer does now.
enum class deadline_duty : uint8_t {
  idle,
  /// Bounds a step (handshake, close, teardown) and ends it on expiry.
  bounding,
  /// Checks the send in flight when it fires (`watch_writes`).
  watching_writes,
};

template <class Stream>
class session : public session_base,
                public std::enable_shared_from_this<session<Stream>> {
public:
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  /// `stream_args` follow the executor into the stream's constructor: the
  /// TLS context for a TLS stream, nothing for a plain one.
  template <class... StreamArgs>
  session(executor_type executor, uint64_t id, caf::actor_addr machine,
          connect_request request, std::shared_ptr<net::ssl::context> tls,
          StreamArgs&... stream_args)
    : ws_(executor, stream_args...),
      deadline_(executor),
      tls_(std::move(tls)),
      id_(id),
      machine_(std::move(machine)),
      handshake_(std::make_unique<handshake_state>(std::move(request))),
      write_timeout_(handshake_->request.write_timeout),
      close_timeout_(handshake_->request.close_timeout),
      max_message_size_(handshake_->request.max_message_size) {
    if (max_message_size_ > 0)
      ws_.read_message_max(max_message_size_);
  }

  // -- the link's calls (impl/calls.hpp) ------------------------------------

  void start() override;
  void write(std::shared_ptr<const std::string> payload, bool text) override;
  void ping(const std::string& payload) override;
  void close() override;
  void abort() override;
  void pause_reading() override;
  void consumed(uint64_t count) override;
  void resume_reading() override;

private:
  /// Runs `f` on the session's thread in the order of the calls: at once
  /// when called there with nothing posted before it, else posted behind
  /// what was posted. (Asio's dispatch alone would let a call made on the
  /// thread overtake one posted earlier from another: a machine's write or
  /// pause can come from either.)
  template <class F>
  void in_order(F&& f) {
    auto executor = ws_.get_executor();
    if (executor.running_in_this_thread()
        && posted_.load(std::memory_order_acquire) == 0) {
      guarded("serving the machine", f);
      return;
    }
    posted_.fetch_add(1, std::memory_order_acq_rel);
    net::post(executor, [this, f = std::forward<F>(f)]() mutable {
      posted_.fetch_sub(1, std::memory_order_acq_rel);
      guarded("serving the machine", f);
    });
  }

  /// Runs `f`, letting no exception out: one that escapes fails the link
  /// with its reason, the machine reconnects, and the process lives on.
  template <class F>
  void guarded(const char* what, F&& f) noexcept {
    try {
      f();
    } catch (const std::exception& e) {
      on_exception(what, e.what());
    } catch (...) {
      on_exception(what, "an exception of unknown type");
    }
  }

  /// `handler` as a completion handler that lets no exception out (see
  /// `guarded`). The handler holds the session alive; the wrapper need not.
  template <class Handler>
  auto guard(const char* what, Handler handler) {
    // The session by name: a generic lambda's implicit use of `this` is
    // one that clang does not see, and warns the capture is unused.
    return [session = this, what,
            handler = std::move(handler)](auto&&... args) mutable {
      session->guarded(
        what, [&] { handler(std::forward<decltype(args)>(args)...); });
    };
  }

  void on_exception(const char* what, const char* why) noexcept;

  // -- connecting (impl/connecting.hpp) -------------------------------------

  void do_dial();
  void on_dial(std::optional<disconnect_info> failure, socket_type socket);
  void on_connect();
  void do_tunnel();
  void on_tunnel(std::optional<tunnel_failure> failure);
  void on_tunnel_ready();
  /// Names the proxy in what went wrong before the tunnel was up: the
  /// server was never reached.
  std::string through_proxy(std::string what) const;
  void do_tls_handshake();
  void on_tls_handshake(beast::error_code ec);
  void do_upgrade();
  void decorate(websocket::request_type& req) const;
  std::string read_agreement(link_info& link);
  void on_handshake(beast::error_code ec);

  // -- the open link: writes, deadlines, acks, the end (impl/open_link.hpp) -

  void write_frame(const std::string& payload, bool text);
  void on_sent(beast::error_code ec);
  void acknowledge_sent();
  void watch_writes(caf::timespan after);
  template <class OnExpiry>
  void arm_deadline_for(caf::timespan limit, OnExpiry on_expiry);
  void arm_deadline(caf::timespan limit, std::string reason);
  void cancel_deadline();
  void bound_teardown();
  void do_close();
  void fail_connection(disconnect_info info, websocket::close_code code);
  disconnect_info message_too_big() const;
  void report_closed(disconnect_info info);
  void drop(disconnect_info info);
  void fail(const char* what, beast::error_code ec);

  // -- reading and credit (impl/reading.hpp) --------------------------------

  void do_read();
  void on_read(beast::error_code ec);
  size_t next_read_size() const;
  bool announces_too_much() const;
  bool has_credit();
  void read_on();
  void deliver_inputs();

  /// A new mask key for a frame of ours, from the generator Beast masks
  /// its own frames with (a ChaCha stream seeded from the system's
  /// entropy, per thread), as RFC 6455 asks: unpredictable, never zero.
  static uint32_t mask_key() {
    auto generate = websocket::detail::make_prng(true);
    for (;;)
      if (auto key = generate())
        return key;
  }

  machine_transport_actor machine() const {
    return caf::actor_cast<machine_transport_actor>(machine_);
  }

  /// The TLS stream under the gathering of writes.
  auto& tls_layer() {
    return ws_.next_layer().next_layer();
  }

  /// What only connecting needs, let go once the link is up: thousands of
  /// idle links do not keep their requests and answers.
  struct handshake_state {
    explicit handshake_state(connect_request x) : request(std::move(x)) {
    }
    connect_request request;
    websocket::response_type response;
    /// Resolving and connecting, then the proxy's tunnel, while under way.
    std::shared_ptr<dialer> dial;
    std::shared_ptr<proxy_tunnel> tunnel;
    /// The path to the server is open (through the proxy, if any).
    bool tunnel_up = false;
  };

  Stream ws_;
  timer_type deadline_;
  /// The TLS context the stream uses, shared by sessions alike; null for a
  /// plain stream.
  std::shared_ptr<net::ssl::context> tls_;
  /// The first bytes of each message land here.
  std::array<char, 128> first_bytes_;
  /// The message being read: its first `filled_` bytes, and room beyond.
  std::string message_;
  size_t filled_ = 0;
  /// Messages read, not yet handed to the machine (at most what one read
  /// from the socket holds).
  std::vector<input> inputs_;
  /// Where each frame written and not yet acked ends in the layer's bytes.
  lazy_deque<uint64_t> frame_ends_;
  uint64_t id_;
  caf::actor_addr machine_;
  std::unique_ptr<handshake_state> handshake_;
  caf::timespan write_timeout_;
  caf::timespan close_timeout_;
  uint64_t max_message_size_;
  /// Counts armings of `deadline_`: a completed wait of an older one is
  /// ignored.
  uint32_t deadline_armed_ = 0;
  session_phase phase_ = session_phase::dialing;
  deadline_duty deadline_duty_ = deadline_duty::idle;
  /// A read is in flight.
  bool reading_ = false;
  /// Our messages go uncompressed: the session frames them itself
  /// (`write_frame`); else Beast writes them, compressing.
  bool frames_ours_ = true;
  /// The machine asked to stop reading (its subscribers are behind).
  bool read_paused_ = false;
  /// Reading stopped for want of credit.
  std::atomic<bool> starved_{false};
  /// Calls posted to the session's thread and not yet run (see in_order).
  std::atomic<uint32_t> posted_{0};
  /// Inputs sent to the machine, and those it has taken (`consumed`).
  uint64_t delivered_ = 0;
  std::atomic<uint64_t> consumed_{0};
  /// Inputs the machine may have in its mailbox, not yet taken.
  static constexpr uint64_t machine_credit = 256;
  /// The room a read asks for when the frame's length says little of what
  /// is to come (a compressed frame, one not the last): Beast's
  /// `read_size_hint` floor (see `next_read_size`).
  static constexpr size_t read_step = 64 * 1024;
  /// The room a message may take ahead of its bytes, on the word of its
  /// frame's header.
  static constexpr size_t trusted_room = 1024 * 1024;
};

// Instantiated in plain_session.cpp and tls_session.cpp alone.
extern template class session<plain_stream>;
extern template class session<tls_stream>;

} // namespace wsm::detail

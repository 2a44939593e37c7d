// The broker: one actor per actor system that owns every Beast connection;
// the Asio context they run on belongs to the runtime module (runtime.hpp).
// The actor only routes a machine's commands to
// the connection's session; sessions live on Asio, touch nothing of any
// actor, and report back to their machine with `anon_send` through a weak
// address, stamped with the connection id.
//
// A session is a template over its stream, `ws://` (TCP) or `wss://` (TLS
// over TCP); the TLS one adds a step between connect and upgrade.
//
// This is the only file of libwsm that includes Beast; Asio's context is in
// io_runtime.hpp, shared with the I/O scheduler.

#include "vocabulary/wording.hpp"
#include "session/broker.hpp"
#include "request/extension_answer.hpp"
#include "request/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "io/io_runtime.hpp"
#include "io/io_scheduler.hpp"
#include "delivery/lazy_deque.hpp"
#include "request/tls_context.hpp"
#include "session/write_coalescing_stream.hpp"
#include "wsm/error.hpp"
#include "wsm/machine.hpp"
#include "wsm/version.hpp"

namespace wsm::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

/// What the broker routes a machine's commands to, whatever the stream; the
/// machine gets it with `connected` and writes through it directly.
class session_base : public wsm::link {
public:
  virtual void start() = 0;
};

// Frames are written with Beast's synchronous calls into a layer that sends
// them in batches (write_coalescing_stream.hpp); the websocket stream sits
// on a bare socket, as in any minimal Beast client: the session's own timer
// bounds what needs bounding.
// Each connection lives on one thread's context (io_runtime.hpp), so its
// socket, timer and resolver use that context's executor as it is: no
// strand, and no type-erased executor copied for every operation.
using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using timer_type =
  net::basic_waitable_timer<std::chrono::steady_clock,
                            net::wait_traits<std::chrono::steady_clock>,
                            executor_type>;
using resolver_type = net::ip::basic_resolver<tcp, executor_type>;
using plain_stream = websocket::stream<write_coalescing_stream<socket_type>>;
using tls_stream =
  websocket::stream<write_coalescing_stream<beast::ssl_stream<socket_type>>>;

/// Where a session is in its life. Each step's `do_x` starts it and `on_x`
/// completes it; `drop` jumps to `closed` from anywhere.
enum class session_phase : uint8_t {
  resolving,
  connecting,
  /// Asking the proxy for a tunnel to the server.
  tunneling,
  tls_handshake,
  upgrading,
  open,
  /// The close handshake is under way.
  closing,
  /// The end was reported to the machine; nothing more happens.
  closed,
};

/// One client connection, from resolve to close. Every member function runs
/// on the thread of the session's context; the public ones dispatch
/// themselves there first: called on that thread, they run at once, so a
/// machine's write is gathered in the same handler.
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
      handshake_(std::make_unique<handshake_state>(executor,
                                                   std::move(request))),
      write_timeout_(handshake_->request.write_timeout),
      close_timeout_(handshake_->request.close_timeout),
      max_message_size_(handshake_->request.max_message_size) {
    if (max_message_size_ > 0)
      ws_.read_message_max(max_message_size_);
  }

  void start() override {
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
      self->arm_deadline(self->handshake_->request.handshake_timeout,
                         "handshake timed out after "
                           + in_milliseconds(self->handshake_->request.handshake_timeout));
      self->do_resolve();
    }));
  }

  void write(std::shared_ptr<const std::string> payload, bool text) override {
    in_order([self = this->shared_from_this(),
                                       payload = std::move(payload), text] {
      self->write_frame(*payload, text);
    });
  }

  void ping(const std::string& payload) override {
    in_order([self = this->shared_from_this(),
              payload = websocket::ping_data{payload.data(),
                                             std::min<size_t>(payload.size(),
                                                              125)}] {
      if (self->phase_ != session_phase::open || self->tearing_down_)
        return;
      beast::error_code ec;
      self->ws_.ping(payload, ec);
      if (ec)
        self->fail("ping", ec);
    });
  }

  void close() override {
    in_order([self = this->shared_from_this()] {
      if (self->phase_ == session_phase::open && !self->tearing_down_)
        self->do_close();
      else if (self->phase_ < session_phase::open)
        self->drop({close_cause::closed_by_machine,
                    "closed before the connection was up"});
    });
  }

  void abort() override {
    in_order([self = this->shared_from_this()] {
      self->drop({close_cause::closed_by_machine, "aborted"});
    });
  }

  void pause_reading() override {
    in_order([self = this->shared_from_this()] {
      self->read_paused_ = true;
    });
  }

  void consumed(uint64_t count) override {
    consumed_.fetch_add(count, std::memory_order_acq_rel);
    // A session that stopped for want of credit reads on.
    if (starved_.exchange(false, std::memory_order_acq_rel))
      in_order([self = this->shared_from_this()] { self->read_on(); });
  }

  void resume_reading() override {
    in_order([self = this->shared_from_this()] {
      self->read_paused_ = false;
      self->read_on();
    });
  }

private:
  struct connect_attempt;

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

  // -- no exception leaves a handler --------------------------------------------

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
    return [this, what, handler = std::move(handler)](auto&&... args) mutable {
      guarded(what, [&] { handler(std::forward<decltype(args)>(args)...); });
    };
  }

  void on_exception(const char* what, const char* why) noexcept {
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

  // -- events to the machine --------------------------------------------------

  machine_transport_actor machine() const {
    return caf::actor_cast<machine_transport_actor>(machine_);
  }

  /// Hands the messages read since the last delivery to the machine, in
  /// one message and one batch: the machine and its subscribers run once
  /// for all of them when the batch ends, not once per message.
  void deliver_inputs() {
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

  /// Reports the end of the connection, once.
  void report_closed(disconnect_info info) {
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
  void drop(disconnect_info info) {
    report_closed(std::move(info));
    beast::error_code ignored;
    if (handshake_) {
      handshake_->resolver.cancel();
      handshake_->stagger.cancel();
      for (auto& attempt : handshake_->attempts)
        attempt->socket.close(ignored);
    }
    beast::get_lowest_layer(ws_).close(ignored);
  }

  /// Sorts a failed operation into a cause the machine can act on.
  void fail(const char* what, beast::error_code ec) {
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

  /// Runs `on_expiry` after `limit`, unless the deadline is cancelled or
  /// armed again first.
  template <class OnExpiry>
  void arm_deadline_for(caf::timespan limit, OnExpiry on_expiry) {
    write_watch_armed_ = false;
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

  disconnect_info message_too_big() const {
    return {close_cause::message_too_big,
            "message larger than max_message_size ("
              + std::to_string(max_message_size_) + " bytes): closed with 1009",
            0, websocket::close_code::too_big};
  }

  /// Fails the connection from our side (RFC 6455 7.1.7) while no read is
  /// in flight: the machine hears at once; the close frame goes out, and
  /// the socket closes when the peer answers it or after close_timeout.
  void fail_connection(disconnect_info info, websocket::close_code code) {
    report_closed(std::move(info));
    // After report_closed, which cancels the deadline: the peer's answer
    // is awaited no longer than close_timeout.
    arm_deadline(close_timeout_, "close timed out after "
                                   + in_milliseconds(close_timeout_));
    ws_.async_close(code, guard("close", [self = this->shared_from_this()](
                                           beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).close(ignored);
    }));
  }

  /// Drops the link with a timeout after `limit`, unless cancelled or
  /// armed again first.
  void arm_deadline(caf::timespan limit, std::string reason) {
    arm_deadline_for(limit, [this, reason = std::move(reason)] {
      drop({close_cause::timeout, reason});
    });
  }

  /// Beast tears the connection down (after the close frames, or after it
  /// failed the connection) and waits for the peer to end TCP: no longer
  /// than close_timeout. A quit's close, and a connection failed here, are
  /// bounded already.
  void bound_teardown() {
    if (phase_ != session_phase::open)
      return;
    tearing_down_ = true;
    arm_deadline_for(close_timeout_,
                     [this] { ws_.next_layer().cut_teardown(); });
  }

  void cancel_deadline() {
    ++deadline_armed_;
    write_watch_armed_ = false;
    deadline_.cancel();
  }

  /// Watches the sends with the deadline timer: armed when a frame is
  /// written and the timer is idle, it checks the send in flight when it
  /// fires, so a steady stream of frames does not re-arm the timer (a
  /// system call) for each one.
  void watch_writes(caf::timespan after) {
    write_watch_armed_ = true;
    deadline_.expires_after(after);
    deadline_.async_wait(guard("write", [self = this->shared_from_this(),
                          armed = ++deadline_armed_](beast::error_code ec) {
      if (ec || armed != self->deadline_armed_)
        return;
      self->write_watch_armed_ = false;
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

  /// Tells the machine how many more frames are out on the socket: one
  /// message per send, whatever number of frames it carried.
  void acknowledge_sent() {
    auto sent = ws_.next_layer().bytes_sent();
    uint64_t count = 0;
    while (!frame_ends_.empty() && frame_ends_.front() <= sent) {
      frame_ends_.pop_front();
      ++count;
    }
    if (count > 0)
      caf::anon_send(machine(), written_atom::value, id_, count);
  }

  void on_sent(beast::error_code ec) {
    if (ec)
      return fail("write", ec);
    // The machine, woken by the acks, and the writes it starts run at the
    // end of this block.
    batch_scope batch;
    acknowledge_sent();
  }

  // -- connecting -------------------------------------------------------------

  /// Where the TCP connection goes: the proxy if there is one.
  const std::string& dial_host() const {
    auto& r = handshake_->request;
    return r.proxy.kind == proxy_kind::none ? r.host : r.proxy.host;
  }

  const std::string& dial_port() const {
    auto& r = handshake_->request;
    return r.proxy.kind == proxy_kind::none ? r.port : r.proxy.port;
  }

  void do_resolve() {
    phase_ = session_phase::resolving;
    // An address needs no lookup, and no hop through Asio's resolver thread.
    beast::error_code not_an_address;
    auto address = net::ip::make_address(dial_host(), not_an_address);
    if (!not_an_address) {
      auto port = static_cast<unsigned short>(std::stoul(dial_port()));
      return on_resolve({}, tcp::resolver::results_type::create(
                              tcp::endpoint{address, port}, dial_host(),
                              dial_port()));
    }
    handshake_->resolver.async_resolve(
      dial_host(), dial_port(),
      guard("resolve", [self = this->shared_from_this()](
                         beast::error_code ec,
                         tcp::resolver::results_type results) {
        self->on_resolve(ec, std::move(results));
      }));
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (phase_ == session_phase::closed)
      return; // dropped while the answer was on its way
    if (ec)
      return fail(("resolve " + dial_host()).c_str(), ec);
    auto& hs = *handshake_;
    std::vector<tcp::endpoint> found;
    for (auto& entry : results)
      found.push_back(entry.endpoint());
    if (!hs.request.local_address.empty()) {
      // Only addresses of the local address's family can be reached from it.
      auto local = net::ip::make_address(hs.request.local_address);
      hs.local = tcp::endpoint{local, 0};
      found.erase(std::remove_if(found.begin(), found.end(),
                                 [&](const tcp::endpoint& x) {
                                   return x.address().is_v4()
                                          != local.is_v4();
                                 }),
                  found.end());
      if (found.empty())
        return drop({close_cause::network,
                     through_proxy("connect: " + dial_host() + " has no "
                                   + (local.is_v4() ? "IPv4" : "IPv6")
                                   + " address to reach from local_address "
                                   + hs.request.local_address)});
    }
    hs.endpoints = interleave_families(std::move(found));
    phase_ = session_phase::connecting;
    start_next_address();
  }

  /// RFC 8305 4: the addresses in the resolver's order, but alternating
  /// families, starting with the first one's.
  static std::vector<tcp::endpoint>
  interleave_families(std::vector<tcp::endpoint> xs) {
    if (xs.empty())
      return xs;
    auto first_v4 = xs.front().address().is_v4();
    std::vector<tcp::endpoint> preferred;
    std::vector<tcp::endpoint> other;
    for (auto& x : xs)
      (x.address().is_v4() == first_v4 ? preferred : other).push_back(x);
    std::vector<tcp::endpoint> result;
    for (size_t i = 0; i < std::max(preferred.size(), other.size()); ++i) {
      if (i < preferred.size())
        result.push_back(preferred[i]);
      if (i < other.size())
        result.push_back(other[i]);
    }
    return result;
  }

  /// Starts connecting to the next address of the name, bounded by
  /// connect_timeout; the one after it starts connect_attempt_delay later
  /// unless this one has failed first (happy eyeballs).
  void start_next_address() {
    auto& hs = *handshake_;
    if (hs.next_endpoint == hs.endpoints.size())
      return;
    auto endpoint = hs.endpoints[hs.next_endpoint++];
    auto attempt = std::make_shared<connect_attempt>(ws_.get_executor());
    hs.attempts.push_back(attempt);
    ++hs.pending;
    beast::error_code ec;
    attempt->socket.open(endpoint.protocol(), ec);
    if (!ec && hs.local)
      attempt->socket.bind(*hs.local, ec);
    if (ec) {
      // Fails like a connect that was refused: the next address may do.
      return net::post(ws_.get_executor(),
                       guard("connect", [self = this->shared_from_this(),
                                         attempt, ec] {
                         self->on_address_connected(attempt, ec);
                       }));
    }
    attempt->socket.async_connect(
      endpoint, guard("connect", [self = this->shared_from_this(),
                                  attempt](beast::error_code ec) {
        self->on_address_connected(attempt, ec);
      }));
    attempt->timer.expires_after(hs.request.connect_timeout);
    attempt->timer.async_wait([attempt](beast::error_code ec) {
      if (ec || attempt->done)
        return;
      attempt->timed_out = true;
      beast::error_code ignored;
      attempt->socket.close(ignored); // its connect completes, aborted
    });
    if (hs.next_endpoint < hs.endpoints.size()) {
      hs.stagger.expires_after(hs.request.connect_attempt_delay);
      hs.stagger.async_wait(
        guard("connect", [self = this->shared_from_this(),
                          armed = hs.next_endpoint](beast::error_code ec) {
          // Started already because the one before failed: nothing to do.
          if (!ec && self->phase_ == session_phase::connecting
              && self->handshake_->next_endpoint == armed)
            self->start_next_address();
        }));
    }
  }

  void on_address_connected(const std::shared_ptr<connect_attempt>& attempt,
                            beast::error_code ec) {
    if (attempt->done)
      return;
    attempt->done = true;
    attempt->timer.cancel();
    if (phase_ != session_phase::connecting)
      return; // another address won, or the session was dropped
    auto& hs = *handshake_;
    if (hs.pending > 0)
      --hs.pending;
    if (ec) {
      hs.last_error = attempt->timed_out
                        ? "timed out after "
                            + in_milliseconds(hs.request.connect_timeout)
                        : ec.message();
      if (hs.next_endpoint < hs.endpoints.size())
        return start_next_address(); // now rather than after the delay
      if (hs.pending == 0)
        drop({close_cause::network, through_proxy("connect: " + hs.last_error)});
      return;
    }
    // The first address to connect wins; the others are closed.
    hs.stagger.cancel();
    for (auto& other : hs.attempts)
      if (other != attempt && !other->done) {
        beast::error_code ignored;
        other->socket.close(ignored);
      }
    beast::get_lowest_layer(ws_) = std::move(attempt->socket);
    hs.attempts.clear();
    on_connect({});
  }

  /// Connected to the server (or to the proxy).
  void on_connect(beast::error_code ec) {
    if (phase_ == session_phase::closed)
      return;
    if (ec)
      return fail("connect", ec);
    if (handshake_->request.tcp_nodelay) {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), ignored);
    }
    auto kind = handshake_->request.proxy.kind;
    if constexpr (is_tls) {
      // TLS to an https:// proxy comes first, the tunnel through it next.
      if (kind == proxy_kind::https)
        return do_tls_handshake();
    }
    if (kind != proxy_kind::none)
      return do_tunnel(beast::get_lowest_layer(ws_));
    on_tunnel_ready();
  }

  /// The path to the server is open (directly, or through the proxy).
  void on_tunnel_ready() {
    handshake_->tunnel_up = true;
    if constexpr (is_tls) {
      if (handshake_->request.proxy.kind != proxy_kind::https)
        return do_tls_handshake();
    }
    do_upgrade();
  }

  // -- the proxy's tunnel -----------------------------------------------------

  /// Names the proxy in what went wrong before the tunnel was up: the
  /// server was never reached.
  std::string through_proxy(std::string what) const {
    auto& proxy = handshake_->request.proxy;
    if (proxy.kind == proxy_kind::none || handshake_->tunnel_up)
      return what;
    return "proxy " + proxy.name() + ": " + what;
  }

  /// The proxy refused: as the server's refusals, its status decides
  /// whether it is retried.
  void proxy_refused(std::string why, uint16_t status) {
    drop({close_cause::handshake_rejected, through_proxy(std::move(why)),
          status});
  }

  template <class AsyncStream>
  void do_tunnel(AsyncStream& stream) {
    phase_ = session_phase::tunneling;
    if (handshake_->request.proxy.kind == proxy_kind::http
        || handshake_->request.proxy.kind == proxy_kind::https)
      return do_http_connect(stream);
    do_socks_greeting(stream);
  }

  /// HTTP CONNECT (RFC 9110 9.3.6), Basic credentials if any.
  template <class AsyncStream>
  void do_http_connect(AsyncStream& stream) {
    auto& hs = *handshake_;
    auto& proxy = hs.request.proxy;
    hs.tunnel_out = http_connect_request(hs.request.host, hs.request.port,
                                         proxy.user, proxy.password,
                                         user_agent);
    net::async_write(stream, net::buffer(hs.tunnel_out),
                     guard("CONNECT", [self = this->shared_from_this(), &stream](
                       beast::error_code ec, size_t) {
                       if (self->phase_ == session_phase::closed)
                         return;
                       if (ec)
                         return self->fail("CONNECT", ec);
                       auto& hs = *self->handshake_;
                       hs.connect_answer.emplace();
                       // The answer to CONNECT has no body (RFC 9110).
                       hs.connect_answer->skip(true);
                       beast::http::async_read_header(
                         stream, hs.tunnel_in, *hs.connect_answer,
                         self->guard("CONNECT", [self](beast::error_code ec,
                                                       size_t) {
                           self->on_http_connect(ec);
                         }));
                     }));
  }

  void on_http_connect(beast::error_code ec) {
    if (phase_ == session_phase::closed)
      return;
    if (ec)
      return fail("CONNECT", ec);
    auto& answer = handshake_->connect_answer->get();
    auto status = static_cast<uint16_t>(answer.result_int());
    if (status / 100 != 2) {
      std::string text = std::to_string(status);
      if (!answer.reason().empty())
        text += " " + std::string{answer.reason()};
      return proxy_refused(std::move(text), status);
    }
    handshake_->connect_answer.reset();
    on_tunnel_ready();
  }

  /// SOCKS5 (RFC 1928): the methods we speak, user/password (RFC 1929)
  /// only with credentials.
  template <class AsyncStream>
  void do_socks_greeting(AsyncStream& stream) {
    auto& hs = *handshake_;
    hs.tunnel_out = socks5_greeting(!hs.request.proxy.user.empty());
    socks_exchange(stream, 2, [this, &stream] {
      auto& reply = handshake_->socks_in;
      if (reply[0] != 5)
        return drop({close_cause::protocol_violation,
                     through_proxy("not a SOCKS5 proxy (it answered version "
                                   + std::to_string(reply[0]) + ")")});
      if (reply[1] == 0)
        return do_socks_connect(stream);
      if (reply[1] == 2 && !handshake_->request.proxy.user.empty())
        return do_socks_login(stream);
      proxy_refused("SOCKS5: the proxy accepts none of our authentication "
                    "methods (does it want a user and password?)",
                    407);
    });
  }

  template <class AsyncStream>
  void do_socks_login(AsyncStream& stream) {
    auto& proxy = handshake_->request.proxy;
    handshake_->tunnel_out = socks5_login(proxy.user, proxy.password);
    socks_exchange(stream, 2, [this, &stream] {
      if (handshake_->socks_in[1] != 0)
        return proxy_refused("SOCKS5: authentication failed", 407);
      do_socks_connect(stream);
    });
  }

  /// Asks for the tunnel: by name (socks5h), or by the address the name
  /// resolves to here (socks5).
  template <class AsyncStream>
  void do_socks_connect(AsyncStream& stream) {
    auto& hs = *handshake_;
    auto port = static_cast<uint16_t>(std::stoul(hs.request.port));
    beast::error_code not_an_address;
    auto address = net::ip::make_address(hs.request.host, not_an_address);
    if (hs.request.proxy.kind == proxy_kind::socks5h && not_an_address) {
      hs.tunnel_out = socks5_connect_by_name(hs.request.host, port);
      return read_socks_reply(stream);
    }
    if (!not_an_address) {
      hs.tunnel_out = socks5_connect_to(address, port);
      return read_socks_reply(stream);
    }
    hs.resolver.async_resolve(
      hs.request.host, hs.request.port,
      guard("SOCKS5", [self = this->shared_from_this(), &stream](
        beast::error_code ec, tcp::resolver::results_type results) {
        if (self->phase_ == session_phase::closed)
          return;
        if (ec || results.empty())
          return self->fail(("resolve " + self->handshake_->request.host).c_str(),
                            ec ? ec : net::error::host_not_found);
        auto endpoint = results.begin()->endpoint();
        self->handshake_->tunnel_out
          = socks5_connect_to(endpoint.address(), endpoint.port());
        self->read_socks_reply(stream);
      }));
  }

  static std::string socks5_connect_to(const net::ip::address& address,
                                       uint16_t port) {
    if (address.is_v4()) {
      auto bytes = address.to_v4().to_bytes();
      return socks5_connect_by_address(bytes.data(), bytes.size(), port);
    }
    auto bytes = address.to_v6().to_bytes();
    return socks5_connect_by_address(bytes.data(), bytes.size(), port);
  }

  template <class AsyncStream>
  void read_socks_reply(AsyncStream& stream) {
    // Version, reply, reserved, address type; the bound address follows.
    socks_exchange(stream, 4, [this, &stream] {
      auto& reply = handshake_->socks_in;
      if (reply[1] != 0) {
        auto [why, status] = socks5_refusal(reply[1]);
        return proxy_refused("SOCKS5: " + why, status);
      }
      size_t rest = reply[3] == 1 ? 4 + 2 : reply[3] == 4 ? 16 + 2 : 0;
      if (rest == 0)
        return drop({close_cause::protocol_violation,
                     through_proxy("SOCKS5: an answer of address type "
                                   + std::to_string(reply[3])
                                   + ", which this client does not read")});
      handshake_->tunnel_out.clear();
      socks_exchange(stream, rest, [this] { on_tunnel_ready(); });
    });
  }

  /// Writes `tunnel_out` (if any), reads `n` bytes into `socks_in`, then
  /// runs `next`, unless the session ended meanwhile.
  template <class AsyncStream, class Next>
  void socks_exchange(AsyncStream& stream, size_t n, Next next) {
    auto read = [self = this->shared_from_this(), &stream, n, next]() {
      net::async_read(stream, net::buffer(self->handshake_->socks_in.data(), n),
                      self->guard("SOCKS5", [self, next](beast::error_code ec,
                                                         size_t) {
                        if (self->phase_ == session_phase::closed)
                          return;
                        if (ec)
                          return self->fail("SOCKS5", ec);
                        next();
                      }));
    };
    if (handshake_->tunnel_out.empty())
      return read();
    net::async_write(stream, net::buffer(handshake_->tunnel_out),
                     guard("SOCKS5", [self = this->shared_from_this(), read](
                       beast::error_code ec, size_t) {
                       if (self->phase_ == session_phase::closed)
                         return;
                       if (ec)
                         return self->fail("SOCKS5", ec);
                       read();
                     }));
  }

  /// The TLS stream under the gathering of writes.
  auto& tls_layer() {
    return ws_.next_layer().next_layer();
  }

  /// TLS to the server, or to an https:// proxy before the tunnel.
  void do_tls_handshake() {
    phase_ = session_phase::tls_handshake;
    auto ssl = tls_layer().native_handle();
    auto& hs = *handshake_;
    auto& peer = hs.tunnel_up || hs.request.proxy.kind != proxy_kind::https
                   ? hs.request.host
                   : hs.request.proxy.host;
    // SNI, and the name (or address) the certificate must be for.
    if (!prepare_tls_session(ssl, peer, !hs.request.tls.insecure_skip_verify))
      return drop({close_cause::tls,
                   "TLS: cannot check the certificate for host " + peer});
    tls_layer().async_handshake(
      net::ssl::stream_base::client,
      guard("TLS handshake", [self = this->shared_from_this()](
                               beast::error_code ec) {
        self->on_tls_handshake(ec);
      }));
  }

  void on_tls_handshake(beast::error_code ec) {
    if (phase_ == session_phase::closed)
      return;
    if (ec)
      return drop({close_cause::tls,
                   through_proxy("TLS handshake: "
                                 + describe_tls_failure(
                                   tls_layer().native_handle(), ec.message()))});
    if (!handshake_->tunnel_up)
      return do_tunnel(tls_layer());
    do_upgrade();
  }

  void do_upgrade() {
    phase_ = session_phase::upgrading;
    // The session's deadline bounds the upgrade; idle pings are the
    // machine's business (keepalive), so Beast's own timeouts are off.
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = websocket::stream_base::none();
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    if (handshake_->request.deflate.enabled) {
      auto& opts = handshake_->request.deflate;
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      pmd.client_max_window_bits = opts.max_window_bits;
      pmd.server_max_window_bits = opts.max_window_bits;
      pmd.client_no_context_takeover = opts.no_context_takeover;
      pmd.server_no_context_takeover = opts.no_context_takeover;
      pmd.compLevel = opts.level;
      pmd.msg_size_threshold = opts.threshold;
      ws_.set_option(pmd);
    }
    ws_.set_option(websocket::stream_base::decorator(
      [this](websocket::request_type& req) { decorate(req); }));
    ws_.async_handshake(handshake_->response, handshake_->request.host_header,
                        handshake_->request.target,
                        guard("handshake", [self = this->shared_from_this()](
                                             beast::error_code ec) {
                          self->on_handshake(ec);
                        }));
  }

  /// Adds our headers to the upgrade request. Values were checked at spawn.
  void decorate(websocket::request_type& req) const {
    req.set(beast::http::field::user_agent, user_agent);
    for (auto& h : handshake_->request.headers) {
      // The caller's User-Agent replaces ours; any other name may repeat.
      if (beast::iequals(h.name, "User-Agent"))
        req.set(beast::http::field::user_agent, h.value);
      else
        req.insert(h.name, h.value);
    }
    if (!handshake_->request.subprotocols.empty()) {
      std::string offer;
      for (auto& name : handshake_->request.subprotocols)
        offer += (offer.empty() ? "" : ", ") + name;
      req.set(beast::http::field::sec_websocket_protocol, offer);
    }
  }

  /// What the server agreed to, or why its answer is not acceptable.
  std::string read_agreement(link_info& link) const {
    using beast::http::field;
    link.subprotocol = std::string{handshake_->response[field::sec_websocket_protocol]};
    auto& offered = handshake_->request.subprotocols;
    if (!link.subprotocol.empty()
        && std::find(offered.begin(), offered.end(), link.subprotocol)
             == offered.end())
      return "handshake: the server chose subprotocol '" + link.subprotocol
             + "', which was not offered";
    // Beast compresses once the server accepted the offer in this header,
    // which must accept nothing that was not offered.
    auto extensions = handshake_->response[field::sec_websocket_extensions];
    if (auto problem = check_extension_answer(
          std::string_view{extensions.data(), extensions.size()},
          handshake_->request.deflate);
        !problem.empty())
      return problem;
    link.compressed = handshake_->request.deflate.enabled
                      && extensions.find("permessage-deflate")
                           != beast::string_view::npos;
    return {};
  }

  void on_handshake(beast::error_code ec) {
    if (phase_ == session_phase::closed)
      return;
    if (ec == websocket::error::upgrade_declined) {
      auto status = static_cast<uint16_t>(handshake_->response.result_int());
      std::string text = "handshake rejected: HTTP " + std::to_string(status);
      if (!handshake_->response.reason().empty()) {
        text += ' ';
        text += std::string{handshake_->response.reason()};
      }
      disconnect_info info{close_cause::handshake_rejected, std::move(text),
                           status};
      // Where a redirect leads: the machine decides whether to follow.
      if (status >= 300 && status < 400)
        info.location = std::string{
          handshake_->response[beast::http::field::location]};
      return drop(std::move(info));
    }
    if (ec)
      return fail("handshake", ec);
    link_info link;
    if (auto problem = read_agreement(link); !problem.empty())
      return drop({close_cause::protocol_violation, std::move(problem)});
    cancel_deadline();
    // The request and the answer have served their purpose.
    handshake_.reset();
    phase_ = session_phase::open;
    ws_.binary(true);
    ws_.control_callback(
      [this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong)
          guarded("pong", [&] {
            caf::anon_send(machine(), pong_atom::value, id_);
          });
      });
    link.direct = this->shared_from_this();
    caf::anon_send(machine(), connected_atom::value, id_, std::move(link));
    do_read();
  }

  // -- reading ----------------------------------------------------------------

  /// Reads the next piece of a message. While none is under way, into a
  /// small buffer of the session's own: an idle link then holds no read
  /// buffer (Beast's async_read would hold 1.5 KiB per idle link); after
  /// the first piece, straight into the message: into the room it has
  /// beyond `filled_`, grown by bounded steps (`next_read_size`) only when
  /// it is full, so that each byte of it is zeroed once however many reads
  /// fill it.
  void do_read() {
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
      message_.resize(filled_ + next_read_size());
    ws_.async_read_some(net::buffer(message_.data() + filled_,
                                    message_.size() - filled_),
                        guard("read", [self = this->shared_from_this()](
                                        beast::error_code ec, size_t n) {
                          self->filled_ += n;
                          self->on_read(ec);
                        }));
  }

  /// How much the message under way may grow with the next read. Never
  /// what the peer announces: a compressed frame's length says nothing of
  /// what it inflates to, and a peer may announce 2^63 bytes. At most
  /// what has arrived so far (at least `read_step`), so memory follows the
  /// bytes that came, not those promised; never past max_message_size + 1,
  /// the byte that tells Beast the message is too big.
  size_t next_read_size() const {
    auto filled = filled_;
    uint64_t size = std::min<uint64_t>(ws_.read_size_hint(read_step),
                                       std::max(read_step, filled));
    if (max_message_size_ > 0) {
      uint64_t limit = max_message_size_ + 1;
      size = std::min<uint64_t>(size, limit > filled ? limit - filled : 1);
    }
    return static_cast<size_t>(std::max<uint64_t>(size, 1));
  }

  /// Whether the frame under way announces more than the message may still
  /// hold. Beast refuses such an uncompressed frame itself; a compressed
  /// one announces its compressed bytes, which inflate to at least about as
  /// many (deflate's worst case adds 5 bytes per 16 KiB stored, and a few).
  bool announces_too_much() const {
    if (max_message_size_ == 0)
      return false;
    uint64_t left = max_message_size_ - std::min<uint64_t>(max_message_size_,
                                                           filled_);
    auto slack = (left >> 12) + (left >> 14) + 64;
    return ws_.read_size_hint(1) > left + slack;
  }

  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec)
      return fail("read", ec);
    if (!ws_.is_message_done()) {
      if (announces_too_much())
        return fail_connection(message_too_big(),
                               websocket::close_code::too_big);
      return do_read();
    }
    // Kept until Beast has parsed what the socket gave (it then reads
    // again, and the layer calls deliver_inputs): the machine and its
    // subscribers run once for a burst of messages, and their answers
    // leave in one send.
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

  /// Whether the machine may be sent more: it has taken all but a few of
  /// the inputs sent to it. A machine on another thread, or one that is
  /// slow to run, would otherwise let its mailbox grow before its pause
  /// reaches the session. Out of credit, the session says so (`starved_`)
  /// and `consumed` reads on.
  bool has_credit() {
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
  void read_on() {
    if (phase_ == session_phase::open && !reading_ && !read_paused_
        && has_credit())
      do_read();
  }

  // -- writing ----------------------------------------------------------------

  /// Writes one frame into the coalescing layer, which sends it with the
  /// others of its batch; it is acked once its bytes are out.
  void write_frame(const std::string& payload, bool text) {
    if (phase_ != session_phase::open || tearing_down_)
      return; // closing or gone: the machine requeues what was not acked
    beast::error_code ec;
    ws_.text(text);
    ws_.write(net::buffer(payload), ec);
    if (ec)
      return fail("write", ec);
    frame_ends_.push_back(ws_.next_layer().bytes_written());
    // A peer that stops reading must not stall the link.
    if (!write_watch_armed_)
      watch_writes(write_timeout_);
  }

  // -- closing ----------------------------------------------------------------

  void do_close() {
    phase_ = session_phase::closing;
    arm_deadline(close_timeout_,
                 "close timed out after "
                   + in_milliseconds(close_timeout_));
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

  /// What only connecting needs, let go once the link is up: thousands of
  /// idle links do not keep their requests and answers.
  /// One address being connected to.
  struct connect_attempt {
    explicit connect_attempt(executor_type executor)
      : socket(executor), timer(executor) {
    }
    socket_type socket;
    timer_type timer;
    /// Its connect completed (or failed to start).
    bool done = false;
    /// connect_timeout closed it.
    bool timed_out = false;
  };

  struct handshake_state {
    handshake_state(executor_type executor, connect_request x)
      : resolver(executor), stagger(executor), request(std::move(x)) {
    }
    resolver_type resolver;
    /// Starts the next address while earlier ones are pending.
    timer_type stagger;
    connect_request request;
    websocket::response_type response;
    /// The server's addresses, families alternating, and the next to try.
    std::vector<tcp::endpoint> endpoints;
    size_t next_endpoint = 0;
    /// The addresses tried so far, and how many are still connecting.
    std::vector<std::shared_ptr<connect_attempt>> attempts;
    size_t pending = 0;
    /// Why the last address failed.
    std::string last_error;
    /// Where to connect from (local_address), if given.
    std::optional<tcp::endpoint> local;
    /// The proxy's tunnel: up, what goes to the proxy, what came back.
    bool tunnel_up = false;
    std::string tunnel_out;
    beast::flat_buffer tunnel_in;
    std::optional<beast::http::response_parser<beast::http::empty_body>>
      connect_answer;
    std::array<uint8_t, 32> socks_in{};
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
  session_phase phase_ = session_phase::resolving;
  /// A read is in flight.
  bool reading_ = false;
  /// The machine asked to stop reading (its subscribers are behind).
  bool read_paused_ = false;
  /// The deadline timer watches the writes.
  bool write_watch_armed_ = false;
  /// Beast is tearing the connection down inside a read: nothing more is
  /// written, and the deadline bounds the teardown.
  bool tearing_down_ = false;
  /// Calls posted to the session's thread and not yet run (see in_order).
  std::atomic<uint32_t> posted_{0};
  /// Inputs sent to the machine, and those it has taken (`consumed`).
  uint64_t delivered_ = 0;
  std::atomic<uint64_t> consumed_{0};
  /// Reading stopped for want of credit.
  std::atomic<bool> starved_{false};
  /// Inputs the machine may have in its mailbox, not yet taken.
  static constexpr uint64_t machine_credit = 256;
  /// The first step by which a message under way grows (see
  /// `next_read_size`).
  static constexpr size_t read_step = 64 * 1024;
};

struct broker_state {
  std::shared_ptr<io_runtime> io;
  /// Weak: a session lives as long as its pending operations; the map only
  /// routes commands to it.
  std::unordered_map<uint64_t, std::weak_ptr<session_base>> sessions;
  /// Size at which the map is next swept of ended sessions.
  size_t sweep_at = 64;
  /// One TLS context per set of TLS options: machines that share options
  /// share certificates, store and session cache.
  std::map<std::string, std::shared_ptr<net::ssl::context>> tls_contexts;

  static inline const char* name = "wsm.broker";

  std::shared_ptr<session_base> find(uint64_t id) {
    auto i = sessions.find(id);
    return i == sessions.end() ? nullptr : i->second.lock();
  }

  void sweep() {
    for (auto i = sessions.begin(); i != sessions.end();)
      i = i->second.expired() ? sessions.erase(i) : std::next(i);
    sweep_at = std::max<size_t>(64, sessions.size() * 2);
  }

  /// The context for `opts`, made on first use.
  caf::expected<std::shared_ptr<net::ssl::context>>
  tls_context_for(const tls_options& opts) {
    auto key = opts.ca_file + '\0' + opts.ca_path + '\0' + opts.cert_file
               + '\0' + opts.key_file + '\0'
               + (opts.insecure_skip_verify ? "insecure" : "verify");
    if (auto i = tls_contexts.find(key); i != tls_contexts.end())
      return i->second;
    auto native = make_tls_context(opts);
    if (!native)
      return std::move(native.error());
    // Asio's context takes over one reference to OpenSSL's.
    SSL_CTX_up_ref(native->get());
    auto result = std::make_shared<net::ssl::context>(native->get());
    tls_contexts.emplace(std::move(key), result);
    return result;
  }

  /// A session of the right kind for `request`, or why there can be none.
  caf::expected<std::shared_ptr<session_base>>
  make_session(uint64_t id, caf::actor_addr machine, connect_request request) {
    // Not make_shared: the map's weak reference would keep the whole
    // session's memory until the next sweep, not just a control block.
    // Connections take the threads' contexts in turn.
    auto executor = io->next().get_executor();
    // TLS to an https:// proxy needs a TLS stream for a ws:// URL too.
    if (!request.secure && request.proxy.kind != proxy_kind::https)
      return std::shared_ptr<session_base>{new session<plain_stream>(
        executor, id, std::move(machine), std::move(request), nullptr)};
    auto context = tls_context_for(request.tls);
    if (!context)
      return std::move(context.error());
    return std::shared_ptr<session_base>{new session<tls_stream>(
      executor, id, std::move(machine), std::move(request), *context,
      **context)};
  }
};

using broker_self = broker_actor::stateful_pointer<broker_state>;

broker_actor::behavior_type broker(broker_self self,
                                   std::shared_ptr<io_runtime> io) {
  self->state.io = std::move(io);
  return {
    [=](open_atom, uint64_t id, connect_request& request) {
      auto& st = self->state;
      auto machine = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto made = st.make_session(id, machine, std::move(request));
      if (!made) {
        // Checked at spawn; a file may have gone since.
        caf::anon_send(caf::actor_cast<machine_transport_actor>(machine),
                       closed_atom::value, id,
                       disconnect_info{close_cause::tls,
                                       describe(made.error())});
        return;
      }
      auto& s = *made;
      st.sessions.emplace(id, s);
      if (st.sessions.size() >= st.sweep_at)
        st.sweep();
      s->start();
    },
    [=](write_atom, uint64_t id, std::string& payload, bool text) {
      if (auto s = self->state.find(id))
        s->write(std::make_shared<const std::string>(std::move(payload)),
                 text);
    },
    [=](ping_atom, uint64_t id) {
      if (auto s = self->state.find(id))
        s->ping({});
    },
    [=](ping_atom, uint64_t id, const std::string& payload) {
      if (auto s = self->state.find(id))
        s->ping(payload);
    },
    [=](close_atom, uint64_t id) {
      auto& st = self->state;
      if (auto s = st.find(id))
        s->close();
      st.sessions.erase(id);
    },
    [=](abort_atom, uint64_t id) {
      auto& st = self->state;
      if (auto s = st.find(id))
        s->abort();
      st.sessions.erase(id);
    },
    [=](pause_atom, uint64_t id) {
      if (auto s = self->state.find(id))
        s->pause_reading();
    },
    [=](resume_atom, uint64_t id) {
      if (auto s = self->state.find(id))
        s->resume_reading();
    },
  };
}

} // namespace

broker_actor spawn_broker(caf::actor_system& sys,
                          std::shared_ptr<io_runtime> io) {
  return sys.spawn<caf::hidden>(broker, std::move(io));
}

} // namespace wsm::detail

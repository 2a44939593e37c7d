#include "echo_server.hpp"

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

namespace wsm_echo {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

struct counters {
  std::atomic<size_t> connections{0};
  std::atomic<size_t> pings{0};
  std::atomic<size_t> closes{0};
};

/// One accepted connection: read a message, echo it, read the next.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket socket, counters& stats)
    : ws_(std::move(socket)), stats_(stats) {
  }

  void start() {
    ws_.set_option(
      websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping)
        ++stats_.pings;
      else if (kind == websocket::frame_type::close)
        ++stats_.closes;
    });
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return;
      ++self->stats_.connections;
      self->do_read();
    });
  }

  /// Drops the TCP connection without a close handshake.
  void abort() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

private:
  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec,
                                                        size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec)
      return; // closed by the client, or dropped
    auto data = buffer_.data();
    std::string_view text{static_cast<const char*>(data.data()), data.size()};
    if (text == "/CLOSE") {
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) {});
      return;
    }
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(), [self = shared_from_this()](
                                      beast::error_code ec, size_t) {
      if (ec)
        return;
      self->buffer_.consume(self->buffer_.size());
      self->do_read();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  counters& stats_;
};

} // namespace

struct echo_server::impl {
  net::io_context context{1};
  tcp::acceptor acceptor{context};
  counters stats;
  std::list<std::weak_ptr<connection>> connections;
  std::thread thread;
  uint16_t port = 0;
  bool stopped = false;

  void do_accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return; // the acceptor was closed
      auto conn = std::make_shared<connection>(std::move(socket), stats);
      connections.remove_if([](auto& x) { return x.expired(); });
      connections.push_back(conn);
      conn->start();
      do_accept();
    });
  }
};

echo_server::echo_server(server_options opts) : impl_(std::make_unique<impl>()) {
  tcp::endpoint endpoint{net::ip::make_address("127.0.0.1"), opts.port};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->do_accept();
  impl_->thread = std::thread{[this] { impl_->context.run(); }};
}

echo_server::~echo_server() {
  stop();
}

uint16_t echo_server::port() const noexcept {
  return impl_->port;
}

void echo_server::stop() {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  net::post(impl_->context, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& weak : impl_->connections)
      if (auto conn = weak.lock())
        conn->abort();
  });
  impl_->thread.join();
}

size_t echo_server::connections() const noexcept {
  return impl_->stats.connections;
}

size_t echo_server::pings() const noexcept {
  return impl_->stats.pings;
}

size_t echo_server::closes_received() const noexcept {
  return impl_->stats.closes;
}

} // namespace wsm_echo

#include "tcp_proxy.hpp"

#include <array>
#include <atomic>
#include <future>
#include <list>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace wsm_test {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

struct shared_mode {
  std::atomic<tcp_proxy::mode> current{tcp_proxy::mode::pass};
  std::atomic<int64_t> delay_ms{0};
  /// Bytes forwarded client to server, and server to client.
  std::atomic<size_t> forwarded[2] = {0, 0};
};

struct link {
  link(tcp::socket accepted, net::io_context& context)
    : client(std::move(accepted)), server(context) {
  }
  tcp::socket client;
  tcp::socket server;
  /// Dropping bytes both ways whatever the mode; touched on the proxy's
  /// thread only.
  bool blackholed = false;

  void reset() {
    error_code ignored;
    for (auto* socket : {&client, &server}) {
      socket->set_option(net::socket_base::linger(true, 0), ignored);
      socket->close(ignored);
    }
  }
};

/// One direction of one connection: read a chunk, forward it (or not).
/// Holds the connection, so its sockets outlive every pending operation.
class pump : public std::enable_shared_from_this<pump> {
public:
  pump(std::shared_ptr<link> connection, bool upstream, shared_mode& mode)
    : connection_(std::move(connection)),
      upstream_(upstream),
      from_(upstream ? connection_->client : connection_->server),
      to_(upstream ? connection_->server : connection_->client),
      timer_(from_.get_executor()),
      mode_(mode) {
  }

  void start() {
    from_.async_read_some(net::buffer(buffer_),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            self->on_read(ec, n);
                          });
  }

private:
  void on_read(error_code ec, size_t n) {
    if (ec) {
      error_code ignored;
      to_.shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (connection_->blackholed)
      return start(); // dropped on the floor
    switch (mode_.current.load()) {
      case tcp_proxy::mode::delay:
        timer_.expires_after(std::chrono::milliseconds(mode_.delay_ms.load()));
        timer_.async_wait([self = shared_from_this(), n](error_code ec) {
          if (!ec)
            self->forward(n);
        });
        return;
      case tcp_proxy::mode::pass:
        return forward(n);
    }
  }

  void forward(size_t n) {
    net::async_write(to_, net::buffer(buffer_.data(), n),
                     [self = shared_from_this()](error_code ec, size_t n) {
                       if (ec)
                         return;
                       self->mode_.forwarded[self->upstream_ ? 0 : 1] += n;
                       self->start();
                     });
  }

  std::shared_ptr<link> connection_;
  bool upstream_;
  tcp::socket& from_;
  tcp::socket& to_;
  net::steady_timer timer_;
  shared_mode& mode_;
  std::array<char, 16 * 1024> buffer_;
};

} // namespace

struct tcp_proxy::impl {
  net::io_context context{1};
  tcp::acceptor acceptor{context};
  tcp::endpoint target;
  shared_mode mode;
  std::list<std::shared_ptr<link>> links;
  std::atomic<size_t> accepted{0};
  std::thread thread;
  uint16_t port = 0;

  void do_accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec)
        return;
      auto next = std::make_shared<link>(std::move(socket), context);
      ++accepted;
      links.push_back(next);
      next->server.async_connect(target, [this, next](error_code ec) {
        if (ec)
          return next->reset();
        std::make_shared<pump>(next, true, mode)->start();
        std::make_shared<pump>(next, false, mode)->start();
      });
      do_accept();
    });
  }
};

tcp_proxy::tcp_proxy(uint16_t target_port) : impl_(std::make_unique<impl>()) {
  auto loopback = net::ip::make_address("127.0.0.1");
  impl_->target = tcp::endpoint{loopback, target_port};
  tcp::endpoint endpoint{loopback, 0};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->do_accept();
  impl_->thread = std::thread{[this] { impl_->context.run(); }};
}

tcp_proxy::~tcp_proxy() {
  net::post(impl_->context, [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& x : impl_->links)
      x->reset();
    impl_->links.clear();
  });
  impl_->thread.join();
}

uint16_t tcp_proxy::port() const noexcept {
  return impl_->port;
}

void tcp_proxy::set_mode(mode m, std::chrono::milliseconds delay) {
  impl_->mode.delay_ms = delay.count();
  impl_->mode.current = m;
}

void tcp_proxy::blackhole_current() {
  std::promise<void> done;
  net::post(impl_->context, [this, &done] {
    for (auto& x : impl_->links)
      x->blackholed = true;
    done.set_value();
  });
  done.get_future().wait();
}

void tcp_proxy::reset_all() {
  net::post(impl_->context, [this] {
    for (auto& x : impl_->links)
      x->reset();
    impl_->links.clear();
  });
}

size_t tcp_proxy::connections() const noexcept {
  return impl_->accepted;
}

size_t tcp_proxy::bytes_to_server() const noexcept {
  return impl_->mode.forwarded[0];
}

size_t tcp_proxy::bytes_to_client() const noexcept {
  return impl_->mode.forwarded[1];
}

} // namespace wsm_test

// The echo server's acceptor, its thread and what tests read of it; each
// connection is in connection.hpp.

#include "echo_server.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <list>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server_state.hpp"

namespace wsm_echo {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

double monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3
         + static_cast<double>(now.tv_nsec) / 1e6;
}

} // namespace

struct echo_server::impl {
  server_options opts;
  net::io_context context{1};
  tcp::acceptor acceptor{context};
  net::steady_timer drop_timer{context};
  detail::counters stats;
  std::list<std::weak_ptr<detail::connection_base>> connections;
  size_t sweep_at = 64;
  /// Set when the server speaks TLS.
  std::unique_ptr<net::ssl::context> tls;
  std::thread thread;
  uint16_t port = 0;
  bool stopped = false;
  /// Set on the server's thread when it stops: a completion already queued
  /// then (an accept, the drop timer) must start nothing new, or the
  /// thread would never run out of work and stop() would wait forever.
  bool closing = false;

  void do_accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec || closing)
        return; // the acceptor was closed
      // Echoes go out at once, as from any server of note.
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::shared_ptr<detail::connection_base> conn;
      if (tls)
        conn = detail::make_tls_connection(std::move(socket), opts, stats,
                                           *tls);
      else
        conn = detail::make_plain_connection(std::move(socket), opts, stats);
      {
        std::lock_guard<std::mutex> guard{stats.mutex};
        stats.accept_times.push_back(monotonic_ms());
      }
      // Swept now and then, not on every accept: thousands of connections.
      if (connections.size() >= sweep_at) {
        connections.remove_if([](auto& x) { return x.expired(); });
        sweep_at = std::max<size_t>(64, connections.size() * 2);
      }
      connections.push_back(conn);
      conn->start();
      do_accept();
    });
  }

  void abort_all() {
    for (auto& weak : connections)
      if (auto conn = weak.lock())
        conn->abort();
    connections.clear();
  }

  void arm_drop_timer() {
    drop_timer.expires_after(opts.drop_every);
    drop_timer.async_wait([this](error_code ec) {
      if (ec || closing)
        return;
      if (opts.log) {
        std::printf("DROP %zu\n", connections.size());
        std::fflush(stdout);
      }
      abort_all();
      arm_drop_timer();
    });
  }
};

echo_server::echo_server(server_options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
  if (!impl_->opts.cert_file.empty()) {
    // Throws with OpenSSL's reason if a file is missing or bad.
    impl_->tls = std::make_unique<net::ssl::context>(
      net::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(impl_->opts.cert_file);
    impl_->tls->use_private_key_file(impl_->opts.key_file,
                                     net::ssl::context::pem);
    if (!impl_->opts.client_ca_file.empty()) {
      impl_->tls->load_verify_file(impl_->opts.client_ca_file);
      impl_->tls->set_verify_mode(net::ssl::verify_peer
                                  | net::ssl::verify_fail_if_no_peer_cert);
    }
  }
  tcp::endpoint endpoint{net::ip::make_address(impl_->opts.address),
                         impl_->opts.port};
  impl_->acceptor.open(endpoint.protocol());
  // A restarted server takes its port back at once.
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(net::socket_base::max_listen_connections);
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->do_accept();
  if (impl_->opts.drop_every.count() > 0)
    impl_->arm_drop_timer();
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
    impl_->closing = true;
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->drop_timer.cancel();
    impl_->abort_all();
  });
  impl_->thread.join();
}

size_t echo_server::connections() const noexcept {
  return impl_->stats.connections;
}

size_t echo_server::pings() const noexcept {
  return impl_->stats.pings;
}

size_t echo_server::pongs() const noexcept {
  return impl_->stats.pongs;
}

size_t echo_server::closes_received() const noexcept {
  return impl_->stats.closes;
}

size_t echo_server::refused() const noexcept {
  return impl_->stats.refused;
}

std::string echo_server::last_request_header(const std::string& name) const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  auto& headers = impl_->stats.last_request;
  auto i = headers.find(detail::lower(name));
  return i == headers.end() ? std::string{} : i->second;
}

std::vector<double> echo_server::accept_times_ms() const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  return impl_->stats.accept_times;
}

std::vector<std::string> echo_server::messages_received() const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  return impl_->stats.messages;
}

std::string echo_server::last_ping_payload() const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  return impl_->stats.last_ping_payload;
}

std::string echo_server::last_peer_address() const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  return impl_->stats.last_peer_address;
}

std::string echo_server::last_server_name() const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  return impl_->stats.last_server_name;
}

std::string echo_server::last_client_certificate() const {
  std::lock_guard<std::mutex> guard{impl_->stats.mutex};
  return impl_->stats.last_client_certificate;
}

size_t echo_server::tls_failures() const noexcept {
  return impl_->stats.tls_failures;
}

} // namespace wsm_echo

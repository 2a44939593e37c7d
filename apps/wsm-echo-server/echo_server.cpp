#include "echo_server.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "batched_write_stream.hpp"

namespace wsm_echo {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

/// What the server counts and remembers, read from other threads.
struct counters {
  std::atomic<size_t> connections{0};
  std::atomic<size_t> pings{0};
  std::atomic<size_t> pongs{0};
  std::atomic<size_t> closes{0};
  std::atomic<size_t> refused{0};
  std::atomic<size_t> tls_failures{0};
  mutable std::mutex mutex;
  /// The last upgrade request's headers, by lower-case name.
  std::map<std::string, std::string> last_request;
  std::string last_client_certificate;
  /// The host name the last TLS client asked for (SNI).
  std::string last_server_name;
  /// The address the last upgrade request came from.
  std::string last_peer_address;
  /// What the last ping carried.
  std::string last_ping_payload;
  /// When each TCP connection was accepted (CLOCK_MONOTONIC, ms).
  std::vector<double> accept_times;
  /// Messages received, with record_messages.
  std::vector<std::string> messages;
};

double monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3
         + static_cast<double>(now.tv_nsec) / 1e6;
}

std::string lower(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return x;
}

/// Returns the subject of the certificate the peer of `ssl` presented.
std::string peer_subject(SSL* ssl) {
  auto cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr)
    return {};
  char buffer[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof(buffer));
  X509_free(cert);
  std::string result = buffer;
  // "/CN=name" in OpenSSL's one-line form; "CN=name" reads better.
  return result.empty() || result[0] != '/' ? result : result.substr(1);
}

// Frames written are gathered and sent together before the next read (see
// batched_write_stream.hpp).
using plain_stream =
  websocket::stream<batched_write_stream<beast::tcp_stream>>;
using tls_stream = websocket::stream<
  batched_write_stream<beast::ssl_stream<beast::tcp_stream>>>;

/// What the server keeps of a connection: a way to drop it.
class connection_base {
public:
  virtual ~connection_base() = default;
  virtual void start() = 0;
  /// Drops the TCP connection without a close handshake.
  virtual void abort() = 0;
};

/// One accepted connection: the TLS handshake if any, read the upgrade
/// request, accept or refuse it, then read a message, echo it, read the
/// next.
template <class Stream>
class connection : public connection_base,
                   public std::enable_shared_from_this<connection<Stream>> {
public:
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  template <class... StreamArgs>
  connection(tcp::socket socket, const server_options& opts, counters& stats,
             StreamArgs&... stream_args)
    : ws_(std::move(socket), stream_args...),
      timer_(ws_.get_executor()),
      ping_timer_(ws_.get_executor()),
      opts_(opts),
      stats_(stats) {
  }

  void start() override {
    if (opts_.stall_handshake)
      return hang();
    if constexpr (is_tls) {
      transport().async_handshake(
        net::ssl::stream_base::server,
        [self = this->shared_from_this()](beast::error_code ec) {
          if (ec) {
            ++self->stats_.tls_failures;
            self->log("TLS-FAIL " + ec.message());
            return;
          }
          auto ssl = self->transport().native_handle();
          auto subject = peer_subject(ssl);
          if (!subject.empty())
            self->log("CLIENT-CERT " + subject);
          auto sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
          {
            std::lock_guard<std::mutex> guard{self->stats_.mutex};
            self->stats_.last_client_certificate = subject;
            self->stats_.last_server_name = sni ? sni : "";
          }
          self->read_request();
        });
    } else {
      read_request();
    }
  }

  void abort() override {
    beast::error_code ignored;
    timer_.cancel();
    ping_timer_.cancel();
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

private:
  /// The stream under the gathering of writes: TCP, or TLS over TCP.
  auto& transport() {
    return ws_.next_layer().next_layer();
  }

  void read_request() {
    ws_.set_option(
      websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.control_callback([this](websocket::frame_type kind,
                                beast::string_view payload) {
      if (kind == websocket::frame_type::ping) {
        ++stats_.pings;
        {
          std::lock_guard<std::mutex> guard{stats_.mutex};
          stats_.last_ping_payload = std::string{payload};
        }
        log(payload.empty() ? std::string{"PING"}
                            : "PING " + std::string{payload});
      } else if (kind == websocket::frame_type::pong) {
        ++stats_.pongs;
        log("PONG");
      } else if (kind == websocket::frame_type::close) {
        ++stats_.closes;
        log("CLOSE " + std::to_string(ws_.reason().code));
      }
    });
    // The request is read first so that it can be refused or logged.
    http::async_read(ws_.next_layer(), buffer_, request_,
                     [self = this->shared_from_this()](beast::error_code ec,
                                                       size_t) {
                       self->on_request(ec);
                     });
  }

  void log(const std::string& line) {
    if (opts_.log) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  }

  void on_request(beast::error_code ec) {
    if (ec)
      return;
    {
      std::lock_guard<std::mutex> guard{stats_.mutex};
      beast::error_code ignored;
      stats_.last_peer_address = beast::get_lowest_layer(ws_)
                                   .socket()
                                   .remote_endpoint(ignored)
                                   .address()
                                   .to_string();
      stats_.last_request.clear();
      for (auto& field : request_) {
        log("HEADER " + std::string{field.name_string()} + ": "
            + std::string{field.value()});
        stats_.last_request[lower(std::string{field.name_string()})] =
          std::string{field.value()};
      }
    }
    for (auto& rule : opts_.redirects)
      if (request_.target() == rule.target)
        return redirect(rule);
    if (opts_.refuse_status != 0)
      return refuse();
    if (!opts_.force_extension.empty())
      ws_.set_option(websocket::stream_base::decorator(
        [forced = opts_.force_extension](websocket::response_type& res) {
          res.set(http::field::sec_websocket_extensions, forced);
        }));
    if (opts_.deflate) {
      websocket::permessage_deflate pmd;
      pmd.server_enable = true;
      ws_.set_option(pmd);
    }
    if (auto chosen = choose_subprotocol(); !chosen.empty())
      ws_.set_option(websocket::stream_base::decorator(
        [chosen](websocket::response_type& res) {
          res.set(http::field::sec_websocket_protocol, chosen);
        }));
    ws_.async_accept(request_, [self = this->shared_from_this()](
                                 beast::error_code ec) {
      if (ec)
        return;
      ++self->stats_.connections;
      self->log("CONNECT");
      if (self->opts_.ping_every.count() > 0)
        self->arm_ping();
      if (self->opts_.no_pong)
        self->hang();
      else
        self->do_read();
    });
  }

  /// The first subprotocol of the client's offer that the server speaks.
  std::string choose_subprotocol() const {
    if (!opts_.force_subprotocol.empty())
      return opts_.force_subprotocol;
    std::string offer{request_[http::field::sec_websocket_protocol]};
    for (size_t start = 0; start < offer.size();) {
      auto end = std::min(offer.find(',', start), offer.size());
      auto name = offer.substr(start, end - start);
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      for (auto& spoken : opts_.subprotocols)
        if (spoken == name)
          return name;
      start = end + 1;
    }
    return {};
  }

  /// Pings the client every `ping_every`, as servers that watch their
  /// clients do; its own timer, so that echo delays are not disturbed.
  void arm_ping() {
    ping_timer_.expires_after(opts_.ping_every);
    ping_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec)
        return;
      self->ws_.async_ping({}, [self](beast::error_code ec) {
        if (!ec)
          self->arm_ping();
      });
      self->ws_.next_layer().flush();
    });
  }

  /// Keeps the connection open without reading, until the server drops it.
  /// What was written so far (the upgrade's answer) still goes out.
  void hang() {
    ws_.next_layer().flush();
    timer_.expires_at(net::steady_timer::time_point::max());
    timer_.async_wait([self = this->shared_from_this()](beast::error_code) {});
  }

  void refuse() {
    ++stats_.refused;
    log("REFUSE " + std::to_string(opts_.refuse_status));
    answer_without_upgrade(opts_.refuse_status, "refused by wsm-echo-server\n",
                           {});
  }

  void redirect(const server_options::redirect_rule& rule) {
    auto location = rule.location;
    auto port = std::to_string(
      beast::get_lowest_layer(ws_).socket().local_endpoint().port());
    for (auto at = location.find("{port}"); at != std::string::npos;
         at = location.find("{port}"))
      location.replace(at, 6, port);
    log("REDIRECT " + std::to_string(rule.status) + " " + location);
    answer_without_upgrade(rule.status, "moved\n", location);
  }

  /// Answers the upgrade request with `status`, and closes.
  void answer_without_upgrade(unsigned status, std::string body,
                              const std::string& location) {
    auto response = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(status), request_.version());
    response->body() = std::move(body);
    if (!location.empty())
      response->set(http::field::location, location);
    response->keep_alive(false);
    response->prepare_payload();
    // Straight to the transport: the socket is closed once it is written.
    http::async_write(transport(), *response,
                      [self = this->shared_from_this(),
                       response](beast::error_code, size_t) { self->abort(); });
  }

  void do_read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec,
                                                        size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec)
      return; // closed by the client, or dropped
    auto data = buffer_.data();
    std::string_view text{static_cast<const char*>(data.data()), data.size()};
    log(std::string{"RECV "} + (ws_.got_text() ? "text " : "binary ")
        + std::to_string(text.size()));
    if (opts_.record_messages) {
      std::lock_guard<std::mutex> guard{stats_.mutex};
      stats_.messages.emplace_back(text);
    }
    if (text == "/CLOSE" || text.rfind("/CLOSE ", 0) == 0) {
      // "/CLOSE CODE REASON" closes with that code and reason.
      websocket::close_reason reason{websocket::close_code::normal};
      if (text.size() > 7) {
        auto rest = std::string{text.substr(7)};
        auto space = rest.find(' ');
        reason.code = static_cast<uint16_t>(std::stoul(rest.substr(0, space)));
        if (space != std::string::npos)
          reason.reason = rest.substr(space + 1);
      }
      ws_.async_close(reason, [self = this->shared_from_this()](beast::error_code) {});
      return;
    }
    if (text.rfind("/FEED ", 0) == 0)
      return start_feed(std::string{text.substr(6)});
    if (!opts_.play.empty() && !played_) {
      played_ = true;
      buffer_.consume(buffer_.size());
      return do_play(0);
    }
    if (opts_.echo_delay.count() > 0) {
      timer_.expires_after(opts_.echo_delay);
      timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec)
          self->do_echo();
      });
      return;
    }
    do_echo();
  }

  void do_echo() {
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(), [self = this->shared_from_this()](
                                      beast::error_code ec, size_t) {
      if (ec)
        return;
      self->buffer_.consume(self->buffer_.size());
      self->do_read();
    });
  }

  /// `/FEED COUNT SIZE`: COUNT binary messages of SIZE bytes, as fast as
  /// the client takes them, each starting with its number (8 bytes, little
  /// endian), like a market-data feed after a subscribe.
  void start_feed(const std::string& args) {
    buffer_.consume(buffer_.size());
    size_t count = 0;
    size_t size = 0;
    char kind[8] = {};
    if (std::sscanf(args.c_str(), "%zu %zu %7s", &count, &size, kind) < 2)
      return do_read();
    feed_text_ = std::string{kind} == "text";
    feed_message_.assign(std::max<size_t>(size, 10), 'x');
    feed_message_.resize(size);
    ws_.text(feed_text_);
    do_feed(0, count);
  }

  void do_feed(uint64_t index, uint64_t count) {
    if (index == count)
      return do_read();
    if (feed_text_) {
      char digits[16];
      std::snprintf(digits, sizeof(digits), "%010llu",
                    static_cast<unsigned long long>(index));
      feed_message_.replace(0, std::min<size_t>(10, feed_message_.size()),
                            digits, std::min<size_t>(10, feed_message_.size()));
    } else {
      for (size_t i = 0; i < std::min<size_t>(8, feed_message_.size()); ++i)
        feed_message_[i] = static_cast<char>((index >> (8 * i)) & 0xff);
    }
    ws_.async_write(net::buffer(feed_message_),
                    [self = this->shared_from_this(), index,
                     count](beast::error_code ec, size_t) {
                      if (!ec)
                        self->do_feed(index + 1, count);
                    });
  }

  void do_play(size_t index) {
    if (index == opts_.play.size()) {
      if (opts_.close_after_play) {
        ws_.async_close(websocket::close_code::going_away,
                        [self = this->shared_from_this()](beast::error_code) {});
        return;
      }
      return do_read();
    }
    ws_.text(true);
    ws_.async_write(net::buffer(opts_.play[index]),
                    [self = this->shared_from_this(), index](beast::error_code ec,
                                                       size_t) {
                      if (!ec)
                        self->do_play(index + 1);
                    });
  }

  Stream ws_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  net::steady_timer timer_;
  net::steady_timer ping_timer_;
  const server_options& opts_;
  counters& stats_;
  bool played_ = false;
  /// The message a feed sends, its number rewritten each time.
  std::string feed_message_;
  bool feed_text_ = false;
};

} // namespace

struct echo_server::impl {
  server_options opts;
  net::io_context context{1};
  tcp::acceptor acceptor{context};
  net::steady_timer drop_timer{context};
  counters stats;
  std::list<std::weak_ptr<connection_base>> connections;
  size_t sweep_at = 64;
  /// Set when the server speaks TLS.
  std::unique_ptr<net::ssl::context> tls;
  std::thread thread;
  uint16_t port = 0;
  bool stopped = false;

  void do_accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return; // the acceptor was closed
      // Echoes go out at once, as from any server of note.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::shared_ptr<connection_base> conn;
      if (tls)
        conn = std::make_shared<connection<tls_stream>>(std::move(socket), opts,
                                                        stats, *tls);
      else
        conn = std::make_shared<connection<plain_stream>>(std::move(socket),
                                                          opts, stats);
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
    drop_timer.async_wait([this](beast::error_code ec) {
      if (ec)
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
    beast::error_code ignored;
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
  auto i = headers.find(lower(name));
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

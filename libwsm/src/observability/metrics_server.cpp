// The HTTP server of the metrics and the status page. One listener, one
// session per connection on the listener's context; a session reads a
// request (`do_read`/`on_read`), answers it, and reads the next while the
// client keeps the connection. `/events` turns its session into an event
// stream: the registry's listener posts each event to the session, which
// writes them in order, one write in flight (`do_write`/`on_write`), and a
// pending read notices the client leaving.

#include "observability/metrics_server.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <caf/actor_system.hpp>

#include "io/io_runtime.hpp"
#include "observability/metrics_text.hpp"
#include "observability/status_page.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"
#include "wsm/metrics.hpp"

namespace wsm::detail {

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

/// How long a scrape waits for the machines' counters.
constexpr auto collect_timeout = std::chrono::seconds(2);

/// A request larger than this is refused: the server takes only GETs.
constexpr size_t max_request_bytes = 16 * 1024;

class http_session;

} // namespace

class metrics_server : public std::enable_shared_from_this<metrics_server> {
public:
  metrics_server(net::io_context& context, caf::actor_system& sys,
                 std::shared_ptr<machine_registry> registry)
    : context_(context), acceptor_(context), sys_(sys),
      registry_(std::move(registry)) {
  }

  caf::error listen(const listen_address& where) {
    error_code ec;
    auto address = net::ip::make_address(where.host, ec);
    if (ec)
      return make_error(errc::invalid_option,
                        "metrics-address " + quoted(where.host)
                          + " is not an IP address");
    tcp::endpoint endpoint{address, where.port};
    auto fail = [&](const char* step) {
      return make_error(errc::invalid_option,
                        "metrics-address " + where.host + ":"
                          + std::to_string(where.port) + ": " + step + ": "
                          + ec.message());
    };
    if (acceptor_.open(endpoint.protocol(), ec); ec)
      return fail("open");
    if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec)
      return fail("reuse_address");
    if (acceptor_.bind(endpoint, ec); ec)
      return fail("bind");
    if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec)
      return fail("listen");
    auto local = acceptor_.local_endpoint();
    auto host = local.address().to_string();
    endpoint_ = (local.address().is_v6() ? "[" + host + "]" : host) + ":"
                + std::to_string(local.port());
    return {};
  }

  void do_accept();

  void stop() {
    net::post(context_, [self = shared_from_this()] { self->close_all(); });
  }

  const std::string& endpoint() const noexcept {
    return endpoint_;
  }

  caf::actor_system& system() noexcept {
    return sys_;
  }

  const std::shared_ptr<machine_registry>& registry() const noexcept {
    return registry_;
  }

private:
  void close_all();

  net::io_context& context_;
  tcp::acceptor acceptor_;
  caf::actor_system& sys_;
  std::shared_ptr<machine_registry> registry_;
  std::string endpoint_;
  /// Open sessions, weakly, so that a stop closes them.
  std::vector<std::weak_ptr<http_session>> sessions_;
  bool stopped_ = false;
};

namespace {

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket socket, std::shared_ptr<metrics_server> server)
    : socket_(std::move(socket)), server_(std::move(server)) {
  }

  ~http_session() {
    if (listener_ != 0)
      server_->registry()->unlisten(listener_);
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(max_request_bytes);
    parser_->body_limit(max_request_bytes);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

private:
  void on_read(error_code ec) {
    if (ec) // the client left, or sent what is not HTTP: nothing to answer
      return close();
    auto request = parser_->release();
    keep_alive_ = request.keep_alive();
    if (request.method() != http::verb::get)
      return respond(http::status::method_not_allowed, "text/plain",
                     "only GET is served here\n");
    auto target = std::string{request.target()};
    if (auto query = target.find('?'); query != std::string::npos)
      target.resize(query);
    if (target == "/")
      return respond(http::status::ok, "text/html; charset=utf-8",
                     status_page_html());
    if (target == "/metrics")
      return respond_collected(
        "text/plain; version=0.0.4; charset=utf-8", render_metrics);
    if (target == "/machines.json")
      return respond_collected("application/json", snapshot_json);
    if (target == "/events")
      return start_events();
    respond(http::status::not_found, "text/plain",
            "not found: " + target + " (try /, /metrics, /machines.json)\n");
  }

  /// Answers with what `render` makes of a fresh snapshot, once the
  /// machines have told their counters.
  template <class Render>
  void respond_collected(const char* type, Render render) {
    auto& server = *server_;
    collect(server.system(), server.registry(), collect_timeout,
            [self = shared_from_this(), type, render](registry_snapshot x) {
              auto body = render(x);
              net::post(self->socket_.get_executor(),
                        [self, type, body = std::move(body)]() mutable {
                          self->respond(http::status::ok, type,
                                        std::move(body));
                        });
            });
  }

  void respond(http::status code, const char* type, std::string body) {
    auto response = std::make_shared<http::response<http::string_body>>(
      code, 11);
    response->set(http::field::server, "wsm");
    response->set(http::field::content_type, type);
    response->set(http::field::cache_control, "no-store");
    response->keep_alive(keep_alive_);
    response->body() = std::move(body);
    response->prepare_payload();
    http::async_write(socket_, *response,
                      [self = shared_from_this(), response](error_code ec,
                                                            size_t) {
                        if (ec || !self->keep_alive_)
                          return self->close();
                        self->do_read();
                      });
  }

  /// The rest of the connection is an event stream: the header now, then
  /// every status the registry records. The client never sends more, so a
  /// read that completes means it left.
  void start_events() {
    queue_.push_back("HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/event-stream\r\n"
                     "Cache-Control: no-store\r\n"
                     "Connection: keep-alive\r\n\r\n"
                     "retry: 1000\n\n");
    do_write();
    std::weak_ptr<http_session> weak = shared_from_this();
    auto executor = socket_.get_executor();
    listener_ = server_->registry()->listen(
      [weak, executor](const std::string& event) {
        // From the machine's thread: the session's own thread writes.
        net::post(executor, [weak, event] {
          if (auto self = weak.lock())
            self->send_event(event);
        });
      });
    socket_.async_read_some(net::buffer(probe_),
                            [self = shared_from_this()](error_code, size_t) {
                              self->close();
                            });
  }

  void send_event(const std::string& event) {
    if (!socket_.is_open())
      return;
    // An event stream that cannot keep up is dropped rather than held in
    // memory: the browser reconnects and reloads the table.
    if (queue_.size() > 1000)
      return close();
    queue_.push_back(event);
    if (queue_.size() == 1)
      do_write();
  }

  void do_write() {
    net::async_write(socket_, net::buffer(queue_.front()),
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->on_write(ec);
                     });
  }

  void on_write(error_code ec) {
    if (ec)
      return close();
    queue_.pop_front();
    if (!queue_.empty())
      do_write();
  }

  tcp::socket socket_;
  std::shared_ptr<metrics_server> server_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  bool keep_alive_ = false;
  uint64_t listener_ = 0;
  /// Events waiting to be written; the front one is being written.
  std::deque<std::string> queue_;
  char probe_[1];
};

} // namespace

void metrics_server::do_accept() {
  acceptor_.async_accept([self = shared_from_this()](error_code ec,
                                                    tcp::socket socket) {
    if (ec || self->stopped_)
      return;
    auto session = std::make_shared<http_session>(std::move(socket), self);
    // Forget sessions that ended, so that the list stays as long as the
    // open connections.
    auto& list = self->sessions_;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [](auto& x) { return x.expired(); }),
               list.end());
    list.push_back(session);
    session->do_read();
    self->do_accept();
  });
}

void metrics_server::close_all() {
  if (stopped_)
    return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& weak : sessions_)
    if (auto session = weak.lock())
      session->close();
  sessions_.clear();
}

caf::expected<listen_address> parse_listen_address(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_option,
                      "metrics-address " + quoted(text) + ": " + why
                        + " (write HOST:PORT, [IPv6]:PORT or a port)");
  };
  listen_address result{"127.0.0.1", 0};
  std::string port = text;
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    auto host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string::npos)
      return bad("an IPv6 address needs brackets");
    if (!host.empty())
      result.host = host;
  }
  if (port.empty() || port.size() > 5
      || port.find_first_not_of("0123456789") != std::string::npos
      || std::stoul(port) > 65535)
    return bad("no port");
  result.port = static_cast<uint16_t>(std::stoul(port));
  error_code ec;
  net::ip::make_address(result.host, ec);
  if (ec)
    return bad(quoted(result.host) + " is not an IP address");
  return result;
}

caf::expected<std::shared_ptr<metrics_server>>
start_metrics_server(io_runtime& io, caf::actor_system& sys,
                     std::shared_ptr<machine_registry> registry,
                     const listen_address& where) {
  auto& context = io.next();
  auto server = std::make_shared<metrics_server>(context, sys,
                                                 std::move(registry));
  if (auto err = server->listen(where))
    return err;
  // The listener's own thread starts it, as every later step runs there.
  net::post(context, [server] { server->do_accept(); });
  return server;
}

std::string endpoint_of(const metrics_server& server) {
  return server.endpoint();
}

void stop_metrics_server(metrics_server& server) {
  server.stop();
}

} // namespace wsm::detail

namespace wsm {

caf::error check_metrics_address(const std::string& text) {
  auto parsed = detail::parse_listen_address(text);
  return parsed ? caf::error{} : parsed.error();
}

} // namespace wsm

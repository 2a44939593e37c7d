// One accepted connection of the echo server, for either stream: compiled
// once for plain sockets (plain_connection.cpp) and once for TLS
// (tls_connection.cpp), two translation units that build side by side.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

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
#include "server_state.hpp"

namespace wsm_echo::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

/// Returns the subject of the certificate the peer of `ssl` presented.
inline std::string peer_subject(SSL* ssl) {
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
      else if (!self->start_feed_at_target())
        self->do_read();
    });
  }

  /// `/feed?count=N&size=S` (as ../shared/bench's server has it): N binary
  /// messages of S bytes pushed from the start, numbered as `/FEED`'s,
  /// then a close with 1000. False for any other target.
  bool start_feed_at_target() {
    auto target = std::string{request_.target()};
    size_t count = 0;
    size_t size = 0;
    if (target.rfind("/feed?", 0) != 0
        || std::sscanf(target.c_str(), "/feed?count=%zu&size=%zu", &count,
                       &size)
             != 2)
      return false;
    close_after_feed_ = true;
    begin_feed(count, size, false);
    return true;
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
    begin_feed(count, size, std::string{kind} == "text");
  }

  /// Pushes `count` messages of `size` bytes, numbered.
  void begin_feed(size_t count, size_t size, bool text) {
    feed_text_ = text;
    feed_message_.assign(std::max<size_t>(size, 10), 'x');
    feed_message_.resize(size);
    ws_.text(feed_text_);
    do_feed(0, count);
  }

  void do_feed(uint64_t index, uint64_t count) {
    if (index == count && close_after_feed_)
      return ws_.async_close(websocket::close_code::normal,
                             [self = this->shared_from_this()](
                               beast::error_code) {});
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
  /// The feed came with the target: the connection ends with it.
  bool close_after_feed_ = false;
};

} // namespace wsm_echo::detail

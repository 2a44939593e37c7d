// The proxy's tunnel: HTTP CONNECT and SOCKS5 (see proxy_tunnel.hpp).

#include "session/proxy_tunnel.hpp"

#include <exception>
#include <utility>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include "request/proxy_protocol.hpp"
#include "wsm/version.hpp"

namespace wsm::detail {

proxy_tunnel::proxy_tunnel(executor_type executor, std::string host,
                           std::string port, proxy_route proxy)
  : resolver_(executor),
    host_(std::move(host)),
    port_(std::move(port)),
    proxy_(std::move(proxy)) {
}

template <class AsyncStream>
void proxy_tunnel::async_open(AsyncStream& stream, handler done) {
  done_ = std::move(done);
  if (proxy_.kind == proxy_kind::http || proxy_.kind == proxy_kind::https)
    return do_http_connect(stream);
  do_socks_greeting(stream);
}

void proxy_tunnel::cancel() {
  finished_ = true;
  resolver_.cancel();
}

void proxy_tunnel::finish(std::optional<tunnel_failure> failure) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (finished_ || !done)
    return; // cancelled: the owner knows
  finished_ = true;
  done(std::move(failure));
}

void proxy_tunnel::refuse(close_cause cause, std::string why,
                          uint16_t status) {
  finish(tunnel_failure{{}, {}, disconnect_info{cause, std::move(why), status}});
}

template <class F>
auto proxy_tunnel::step(const char* what, F f) {
  return [self = shared_from_this(), what,
          f = std::move(f)](auto&&... args) mutable {
    if (self->finished_)
      return self->finish(std::nullopt); // lets go of the handler
    try {
      f(std::forward<decltype(args)>(args)...);
    } catch (const std::exception& e) {
      self->refuse(close_cause::internal_error,
                   std::string{what} + ": internal error: " + e.what());
    } catch (...) {
      self->refuse(close_cause::internal_error,
                   std::string{what}
                     + ": internal error: an exception of unknown type");
    }
  };
}

// -- HTTP CONNECT (RFC 9110 9.3.6) --------------------------------------------

template <class AsyncStream>
void proxy_tunnel::do_http_connect(AsyncStream& stream) {
  out_ = http_connect_request(host_, port_, proxy_.user, proxy_.password,
                              user_agent);
  net::async_write(stream, net::buffer(out_),
                   step("CONNECT", [this, &stream](beast::error_code ec,
                                                   size_t) {
    if (ec)
      return finish(tunnel_failure{"CONNECT", ec, {}});
    connect_answer_.emplace();
    // The answer to CONNECT has no body (RFC 9110).
    connect_answer_->skip(true);
    beast::http::async_read_header(stream, in_, *connect_answer_,
                                   step("CONNECT", [this](beast::error_code ec,
                                                          size_t) {
                                     on_http_connect(ec);
                                   }));
  }));
}

void proxy_tunnel::on_http_connect(beast::error_code ec) {
  if (ec)
    return finish(tunnel_failure{"CONNECT", ec, {}});
  auto& answer = connect_answer_->get();
  auto status = static_cast<uint16_t>(answer.result_int());
  if (status / 100 != 2) {
    std::string text = std::to_string(status);
    if (!answer.reason().empty())
      text += " " + std::string{answer.reason()};
    // As the server's refusals, the status decides whether it is retried.
    return refuse(close_cause::handshake_rejected, std::move(text), status);
  }
  connect_answer_.reset();
  finish(std::nullopt);
}

// -- SOCKS5 (RFC 1928, RFC 1929) ----------------------------------------------

/// The methods we speak: user/password only with credentials.
template <class AsyncStream>
void proxy_tunnel::do_socks_greeting(AsyncStream& stream) {
  out_ = socks5_greeting(!proxy_.user.empty());
  socks_exchange(stream, 2, [this, &stream] {
    if (socks_in_[0] != 5)
      return refuse(close_cause::protocol_violation,
                    "not a SOCKS5 proxy (it answered version "
                      + std::to_string(socks_in_[0]) + ")");
    if (socks_in_[1] == 0)
      return do_socks_connect(stream);
    if (socks_in_[1] == 2 && !proxy_.user.empty())
      return do_socks_login(stream);
    refuse(close_cause::handshake_rejected,
           "SOCKS5: the proxy accepts none of our authentication methods "
           "(does it want a user and password?)",
           407);
  });
}

template <class AsyncStream>
void proxy_tunnel::do_socks_login(AsyncStream& stream) {
  out_ = socks5_login(proxy_.user, proxy_.password);
  socks_exchange(stream, 2, [this, &stream] {
    if (socks_in_[1] != 0)
      return refuse(close_cause::handshake_rejected,
                    "SOCKS5: authentication failed", 407);
    do_socks_connect(stream);
  });
}

namespace {

std::string socks5_connect_to(const net::ip::address& address,
                              uint16_t port) {
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    return socks5_connect_by_address(bytes.data(), bytes.size(), port);
  }
  auto bytes = address.to_v6().to_bytes();
  return socks5_connect_by_address(bytes.data(), bytes.size(), port);
}

} // namespace

/// Asks for the tunnel: by name (socks5h), or by the address the name
/// resolves to here (socks5).
template <class AsyncStream>
void proxy_tunnel::do_socks_connect(AsyncStream& stream) {
  auto port = static_cast<uint16_t>(std::stoul(port_));
  beast::error_code not_an_address;
  auto address = net::ip::make_address(host_, not_an_address);
  if (proxy_.kind == proxy_kind::socks5h && not_an_address) {
    out_ = socks5_connect_by_name(host_, port);
    return read_socks_reply(stream);
  }
  if (!not_an_address) {
    out_ = socks5_connect_to(address, port);
    return read_socks_reply(stream);
  }
  resolver_.async_resolve(host_, port_,
                          step("SOCKS5", [this, &stream](
                                           beast::error_code ec,
                                           tcp::resolver::results_type found) {
    if (ec || found.empty())
      return finish(tunnel_failure{"resolve " + host_,
                                   ec ? ec : net::error::host_not_found, {}});
    auto endpoint = found.begin()->endpoint();
    out_ = socks5_connect_to(endpoint.address(), endpoint.port());
    read_socks_reply(stream);
  }));
}

template <class AsyncStream>
void proxy_tunnel::read_socks_reply(AsyncStream& stream) {
  // Version, reply, reserved, address type; the bound address follows.
  socks_exchange(stream, 4, [this, &stream] {
    if (socks_in_[1] != 0) {
      auto [why, status] = socks5_refusal(socks_in_[1]);
      return refuse(close_cause::handshake_rejected, "SOCKS5: " + why,
                    status);
    }
    size_t rest = socks_in_[3] == 1 ? 4 + 2 : socks_in_[3] == 4 ? 16 + 2 : 0;
    if (rest == 0)
      return refuse(close_cause::protocol_violation,
                    "SOCKS5: an answer of address type "
                      + std::to_string(socks_in_[3])
                      + ", which this client does not read");
    out_.clear();
    socks_exchange(stream, rest, [this] { finish(std::nullopt); });
  });
}

/// Writes `out_` (if any), reads `n` bytes into `socks_in_`, then runs
/// `next`, unless the tunnel ended meanwhile.
template <class AsyncStream, class Next>
void proxy_tunnel::socks_exchange(AsyncStream& stream, size_t n, Next next) {
  auto read = [this, &stream, n, next] {
    net::async_read(stream, net::buffer(socks_in_.data(), n),
                    step("SOCKS5", [this, next](beast::error_code ec, size_t) {
                      if (ec)
                        return finish(tunnel_failure{"SOCKS5", ec, {}});
                      next();
                    }));
  };
  if (out_.empty())
    return read();
  net::async_write(stream, net::buffer(out_),
                   step("SOCKS5", [this, read](beast::error_code ec, size_t) {
                     if (ec)
                       return finish(tunnel_failure{"SOCKS5", ec, {}});
                     read();
                   }));
}

// Over TCP to the proxy, or over TLS to an https:// proxy.
template void proxy_tunnel::async_open(socket_type&, handler);
template void proxy_tunnel::async_open(tls_socket_type&, handler);

} // namespace wsm::detail

#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "session/stream_types.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// Why a tunnel did not open: an I/O error in `step` (`ec` set), or what
/// the proxy answered (`refusal`, its reason not yet naming the proxy).
struct tunnel_failure {
  std::string step;
  beast::error_code ec;
  disconnect_info refusal;
};

/// Opens a tunnel through a proxy to the server, over a stream connected to
/// the proxy (TCP, or TLS to an https:// proxy): HTTP CONNECT (RFC 9110
/// 9.3.6) with Basic credentials if any, or SOCKS5 (RFC 1928; user and
/// password as RFC 1929). An asynchronous operation apart from the
/// session: it touches only the stream it is given and its own buffers,
/// and ends by calling the handler once.
class proxy_tunnel : public std::enable_shared_from_this<proxy_tunnel> {
public:
  /// Called once: with nothing when the tunnel is up, else with why not.
  using handler = std::function<void(std::optional<tunnel_failure>)>;

  /// A tunnel to `host`:`port` through `proxy`.
  proxy_tunnel(executor_type executor, std::string host, std::string port,
               proxy_route proxy);

  /// Starts the exchange on `stream`, which must outlive it (the handler
  /// usually holds its owner).
  template <class AsyncStream>
  void async_open(AsyncStream& stream, handler done);

  /// Stops a lookup under way; closing the stream ends the rest. The
  /// handler is then let go of without a call.
  void cancel();

private:
  template <class AsyncStream>
  void do_http_connect(AsyncStream& stream);
  void on_http_connect(beast::error_code ec);
  template <class AsyncStream>
  void do_socks_greeting(AsyncStream& stream);
  template <class AsyncStream>
  void do_socks_login(AsyncStream& stream);
  template <class AsyncStream>
  void do_socks_connect(AsyncStream& stream);
  template <class AsyncStream>
  void read_socks_reply(AsyncStream& stream);
  template <class AsyncStream, class Next>
  void socks_exchange(AsyncStream& stream, size_t n, Next next);

  /// A completion handler that runs `f` unless the tunnel ended, and
  /// lets no exception out.
  template <class F>
  auto step(const char* what, F f);
  void finish(std::optional<tunnel_failure> failure);
  void refuse(close_cause cause, std::string why, uint16_t status = 0);

  resolver_type resolver_;
  std::string host_;
  std::string port_;
  proxy_route proxy_;
  handler done_;
  /// What goes to the proxy next, and what came back.
  std::string out_;
  beast::flat_buffer in_;
  std::optional<beast::http::response_parser<beast::http::empty_body>>
    connect_answer_;
  std::array<uint8_t, 32> socks_in_{};
  /// The handler was called or the tunnel cancelled.
  bool finished_ = false;
};

} // namespace wsm::detail

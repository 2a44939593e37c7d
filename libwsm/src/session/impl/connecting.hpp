#pragma once

// Connecting: the dial (resolve and happy eyeballs, dialer.hpp), TLS, the
// proxy's tunnel (proxy_tunnel.hpp), then the WebSocket upgrade and what
// the server agreed to. One deadline, armed by `start`, bounds them all.

#include <algorithm>
#include <limits>

#include <caf/send.hpp>

#include "request/extension_answer.hpp"
#include "request/tls_context.hpp"
#include "session/session.hpp"
#include "wsm/version.hpp"

namespace wsm::detail {

template <class Stream>
void session<Stream>::do_dial() {
  phase_ = session_phase::dialing;
  auto& r = handshake_->request;
  // Where the TCP connection goes: the proxy if there is one.
  auto proxied = r.proxy.kind != proxy_kind::none;
  handshake_->dial = std::make_shared<dialer>(
    ws_.get_executor(),
    dial_target{proxied ? r.proxy.host : r.host,
                proxied ? r.proxy.port : r.port, r.local_address,
                r.connect_timeout, r.connect_attempt_delay});
  handshake_->dial->start([self = this->shared_from_this()](
                            std::optional<disconnect_info> failure,
                            socket_type socket) {
    self->guarded("connect", [&] {
      self->on_dial(std::move(failure), std::move(socket));
    });
  });
}

template <class Stream>
void session<Stream>::on_dial(std::optional<disconnect_info> failure,
                              socket_type socket) {
  if (phase_ == session_phase::closed)
    return;
  handshake_->dial.reset();
  if (failure) {
    if (failure->cause == close_cause::network)
      failure->reason = through_proxy(std::move(failure->reason));
    return drop(std::move(*failure));
  }
  beast::get_lowest_layer(ws_) = std::move(socket);
  on_connect();
}

/// Connected to the server (or to the proxy).
template <class Stream>
void session<Stream>::on_connect() {
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
    return do_tunnel();
  on_tunnel_ready();
}

template <class Stream>
void session<Stream>::do_tunnel() {
  phase_ = session_phase::tunneling;
  auto& r = handshake_->request;
  handshake_->tunnel = std::make_shared<proxy_tunnel>(ws_.get_executor(),
                                                      r.host, r.port, r.proxy);
  auto done = [self = this->shared_from_this()](
                std::optional<tunnel_failure> failure) {
    self->guarded("tunnel", [&] { self->on_tunnel(std::move(failure)); });
  };
  if constexpr (is_tls) {
    if (r.proxy.kind == proxy_kind::https)
      return handshake_->tunnel->async_open(tls_layer(), std::move(done));
  }
  handshake_->tunnel->async_open(beast::get_lowest_layer(ws_),
                                 std::move(done));
}

template <class Stream>
void session<Stream>::on_tunnel(std::optional<tunnel_failure> failure) {
  if (phase_ == session_phase::closed)
    return;
  handshake_->tunnel.reset();
  if (!failure)
    return on_tunnel_ready();
  if (failure->ec)
    return fail(failure->step.c_str(), failure->ec);
  auto info = std::move(failure->refusal);
  if (info.cause != close_cause::internal_error)
    info.reason = through_proxy(std::move(info.reason));
  drop(std::move(info));
}

/// The path to the server is open (directly, or through the proxy).
template <class Stream>
void session<Stream>::on_tunnel_ready() {
  handshake_->tunnel_up = true;
  if constexpr (is_tls) {
    if (handshake_->request.proxy.kind != proxy_kind::https)
      return do_tls_handshake();
  }
  do_upgrade();
}

template <class Stream>
std::string session<Stream>::through_proxy(std::string what) const {
  auto& proxy = handshake_->request.proxy;
  if (proxy.kind == proxy_kind::none || handshake_->tunnel_up)
    return what;
  return "proxy " + proxy.name() + ": " + what;
}

/// TLS to the server, or to an https:// proxy before the tunnel.
template <class Stream>
void session<Stream>::do_tls_handshake() {
  if constexpr (is_tls) {
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
}

template <class Stream>
void session<Stream>::on_tls_handshake(beast::error_code ec) {
  if constexpr (is_tls) {
    if (phase_ == session_phase::closed)
      return;
    if (ec)
      return drop({close_cause::tls,
                   through_proxy("TLS handshake: "
                                 + describe_tls_failure(
                                   tls_layer().native_handle(),
                                   ec.message()))});
    if (!handshake_->tunnel_up)
      return do_tunnel();
    do_upgrade();
  }
}

template <class Stream>
void session<Stream>::do_upgrade() {
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
    pmd.memLevel = opts.mem_level;
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
template <class Stream>
void session<Stream>::decorate(websocket::request_type& req) const {
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
template <class Stream>
std::string session<Stream>::read_agreement(link_info& link) {
  using beast::http::field;
  link.subprotocol
    = std::string{handshake_->response[field::sec_websocket_protocol]};
  auto& offered = handshake_->request.subprotocols;
  if (!link.subprotocol.empty()
      && std::find(offered.begin(), offered.end(), link.subprotocol)
           == offered.end())
    return "handshake: the server chose subprotocol '" + link.subprotocol
           + "', which was not offered";
  // Beast compresses once the server accepted the offer in this header,
  // which must accept nothing that was not offered.
  auto extensions = handshake_->response[field::sec_websocket_extensions];
  auto answer = read_extension_answer(
    std::string_view{extensions.data(), extensions.size()},
    handshake_->request.deflate);
  link.compressed = answer.deflate;
  // Beast writes our messages only where it compresses them.
  frames_ours_ = !answer.deflate || !answer.compress_ours;
  if (answer.deflate && !answer.compress_ours) {
    // Beast would compress with the window the answer allows, more than
    // asked: our messages go as they are (no compressor is ever made).
    websocket::permessage_deflate pmd;
    ws_.get_option(pmd);
    pmd.msg_size_threshold = std::numeric_limits<size_t>::max();
    ws_.set_option(pmd);
  }
  return answer.problem;
}

template <class Stream>
void session<Stream>::on_handshake(beast::error_code ec) {
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
      info.location
        = std::string{handshake_->response[beast::http::field::location]};
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
  ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong)
      guarded("pong",
              [&] { caf::anon_send(machine(), pong_atom::value, id_); });
  });
  link.direct = this->shared_from_this();
  caf::anon_send(machine(), connected_atom::value, id_, std::move(link));
  do_read();
}

} // namespace wsm::detail

#include "wsm/transport.hpp"

#include <atomic>

namespace wsm {

const char* to_string(close_cause x) noexcept {
  switch (x) {
    case close_cause::network:
      return "network";
    case close_cause::timeout:
      return "timeout";
    case close_cause::handshake_rejected:
      return "handshake_rejected";
    case close_cause::closed_by_peer:
      return "closed_by_peer";
    case close_cause::closed_by_machine:
      return "closed_by_machine";
    case close_cause::message_too_big:
      return "message_too_big";
    case close_cause::dead_peer:
      return "dead_peer";
    case close_cause::tls:
      return "tls";
    case close_cause::protocol_violation:
      return "protocol_violation";
    case close_cause::internal_error:
      return "internal_error";
  }
  return "unknown";
}

bool operator==(const disconnect_info& x, const disconnect_info& y) noexcept {
  return x.cause == y.cause && x.reason == y.reason
         && x.http_status == y.http_status && x.close_code == y.close_code
         && x.close_reason == y.close_reason && x.location == y.location;
}

bool operator==(const connect_request& x, const connect_request& y) noexcept {
  auto same_headers = [](const std::vector<header>& a,
                         const std::vector<header>& b) {
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].name != b[i].name || a[i].value != b[i].value)
        return false;
    return true;
  };
  auto& xt = x.tls;
  auto& yt = y.tls;
  auto same_tls = xt.ca_file == yt.ca_file && xt.ca_path == yt.ca_path
                  && xt.cert_file == yt.cert_file && xt.key_file == yt.key_file
                  && xt.insecure_skip_verify == yt.insecure_skip_verify;
  auto& xd = x.deflate;
  auto& yd = y.deflate;
  auto same_deflate = xd.enabled == yd.enabled
                      && xd.max_window_bits == yd.max_window_bits
                      && xd.no_context_takeover == yd.no_context_takeover
                      && xd.level == yd.level && xd.threshold == yd.threshold;
  return x.host == y.host && x.port == y.port && x.host_header == y.host_header
         && x.target == y.target && x.secure == y.secure
         && same_headers(x.headers, y.headers)
         && x.subprotocols == y.subprotocols && same_tls && same_deflate
         && x.handshake_timeout == y.handshake_timeout
         && x.write_timeout == y.write_timeout
         && x.close_timeout == y.close_timeout
         && x.max_message_size == y.max_message_size
         && x.tcp_nodelay == y.tcp_nodelay && x.url == y.url
         && x.local_address == y.local_address
         && x.connect_timeout == y.connect_timeout
         && x.connect_attempt_delay == y.connect_attempt_delay
         && x.proxy.kind == y.proxy.kind && x.proxy.host == y.proxy.host
         && x.proxy.port == y.proxy.port && x.proxy.user == y.proxy.user
         && x.proxy.password == y.proxy.password;
}

link::~link() = default;

void link::consumed(uint64_t) {
  // A connection reached through messages needs no credit.
}

bool operator==(const link_info& x, const link_info& y) noexcept {
  return x.subprotocol == y.subprotocol && x.compressed == y.compressed;
}

uint64_t next_connection_id() noexcept {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

} // namespace wsm

// The echo server's connections over TLS.

#include "connection.hpp"

namespace wsm_echo::detail {

std::shared_ptr<connection_base>
make_tls_connection(tcp::socket socket, const server_options& opts,
                    counters& stats, net::ssl::context& tls) {
  return std::make_shared<connection<tls_stream>>(std::move(socket), opts,
                                                  stats, tls);
}

} // namespace wsm_echo::detail

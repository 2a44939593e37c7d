// The echo server's connections on plain sockets.

#include "connection.hpp"

namespace wsm_echo::detail {

std::shared_ptr<connection_base>
make_plain_connection(tcp::socket socket, const server_options& opts,
                      counters& stats) {
  return std::make_shared<connection<plain_stream>>(std::move(socket), opts,
                                                    stats);
}

} // namespace wsm_echo::detail

#pragma once

// The types every session file shares: the streams a session runs over and
// the Asio objects beside them. Including this includes Beast's WebSocket:
// only the files of this folder do.
//
// Each connection lives on one thread's context (io/io_runtime.hpp), so its
// socket, timers and resolver use that context's executor as it is: no
// strand, and no type-erased executor copied for every operation.

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "session/write_coalescing_stream.hpp"

namespace wsm::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using timer_type =
  net::basic_waitable_timer<std::chrono::steady_clock,
                            net::wait_traits<std::chrono::steady_clock>,
                            executor_type>;
using resolver_type = net::ip::basic_resolver<tcp, executor_type>;
/// TLS over TCP: to a wss:// server, or to an https:// proxy.
using tls_socket_type = beast::ssl_stream<socket_type>;

// Frames are written with Beast's synchronous calls into a layer that sends
// them in batches (write_coalescing_stream.hpp); the websocket stream sits
// on a bare socket, as in any minimal Beast client: the session's own timer
// bounds what needs bounding.
using plain_stream = websocket::stream<write_coalescing_stream<socket_type>>;
using tls_stream = websocket::stream<write_coalescing_stream<tls_socket_type>>;

} // namespace wsm::detail

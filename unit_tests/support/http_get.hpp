#pragma once

// A blocking HTTP GET against an actor system's metrics server, for tests
// that read what it serves: from the test's own thread, never an actor's.

#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <caf/test/unit_test.hpp>

#include "wsm/metrics.hpp"

namespace wsm_test {

/// GETs `path` from the metrics server of `sys`; returns the body.
inline std::string http_get(const caf::actor_system& sys,
                            const std::string& path) {
  auto endpoint = wsm::metrics_endpoint(sys);
  CAF_REQUIRE(endpoint && !endpoint->empty());
  auto colon = endpoint->rfind(':');
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket{io};
  socket.connect(
    {boost::asio::ip::make_address(endpoint->substr(0, colon)),
     static_cast<uint16_t>(std::stoi(endpoint->substr(colon + 1)))});
  std::string request = "GET " + path
                        + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string response;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(response), ec);
  auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

/// The value of one series (name and labels) in a scrape, or -1.
inline double metric_value(const std::string& scrape,
                           const std::string& series) {
  auto at = scrape.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(scrape.substr(at + series.size() + 2));
}

} // namespace wsm_test

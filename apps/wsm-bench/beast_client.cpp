// The baseline: the same workloads through a minimal raw Beast client, one
// io_context on the calling thread, no actors: a websocket stream straight
// over a `tcp::socket` (no `tcp_stream` timers), TCP_NODELAY as every
// client of note sets it, and the same warm-up as wsm's client before the
// clock starts. It is what wsm is measured against, in the same run.

#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "progress.hpp"
#include "workload.hpp"

namespace wsm_bench {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

/// Tells the parent that the clock starts (it measures its server's load
/// from here), and that it stopped.
void mark(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// `ws://HOST:PORT/PATH` in pieces.
struct target {
  std::string host;
  std::string port;
  std::string path;
};

target parse(const std::string& url) {
  auto rest = url.substr(url.find("://") + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("the baseline needs ws://HOST:PORT/, not " + url);
  return {authority.substr(0, colon), authority.substr(colon + 1),
          slash == std::string::npos ? "/" : rest.substr(slash)};
}

using stream = websocket::stream<tcp::socket>;

/// A connected, upgraded stream, the blocking way (outside the timing).
std::unique_ptr<stream> connect_blocking(net::io_context& io,
                                         const target& t) {
  tcp::resolver resolver{io};
  auto ws = std::make_unique<stream>(io);
  net::connect(ws->next_layer(), resolver.resolve(t.host, t.port));
  ws->next_layer().set_option(tcp::no_delay(true));
  ws->handshake(t.host + ":" + t.port, t.path);
  ws->binary(true);
  return ws;
}

/// Runs `body` on the clock: CPU and wall time of `count` messages, with
/// the marks that tell the parent when to measure its server.
template <class Body>
measurement timed(size_t count, Body body) {
  mark("TIMED");
  auto cpu_before = process_cpu_us();
  auto start = clock_type::now();
  body();
  auto result = per_message(count, seconds_since(start),
                            process_cpu_us() - cpu_before);
  mark("UNTIMED");
  return result;
}

/// Closes without caring how the server ends it: some close the socket
/// without a close frame of their own.
void close_quietly(stream& ws) {
  beast::error_code ignored;
  ws.close(websocket::close_code::normal, ignored);
}

/// `count` pipelined echoes of `payload`, at most `window` outstanding (a
/// write counts from when it starts): one write in flight (Beast's rule)
/// and one read always pending. The loop of ../shared/bench's raw client,
/// step for step.
void pipelined(net::io_context& io, stream& ws, const std::string& payload,
               size_t count, size_t window, progress* report) {
  size_t sent = 0;
  size_t received = 0;
  bool writing = false;
  beast::flat_buffer buffer;
  std::function<void()> maybe_write = [&] {
    if (writing || sent == count || sent - received >= window)
      return;
    writing = true;
    ++sent;
    ws.async_write(net::buffer(payload), [&](beast::error_code ec, size_t) {
      if (ec)
        throw std::runtime_error("write: " + ec.message());
      writing = false;
      maybe_write();
    });
  };
  std::function<void()> read = [&] {
    ws.async_read(buffer, [&](beast::error_code ec, size_t) {
      if (ec)
        throw std::runtime_error("read: " + ec.message());
      buffer.consume(buffer.size());
      ++received;
      if (report != nullptr)
        report->update(received);
      if (received == count)
        return;
      read();
      maybe_write();
    });
  };
  read();
  maybe_write();
  io.restart();
  io.run();
}

measurement throughput(const workload& w) {
  net::io_context io{1};
  auto ws = connect_blocking(io, parse(w.url));
  std::string payload(w.size, 'x');
  pipelined(io, *ws, payload, warm_up_count(w), w.window, nullptr);
  progress report{"beast throughput", w.count};
  auto result = timed(w.count, [&] { pipelined(io, *ws, payload, w.count, w.window, &report); });
  close_quietly(*ws);
  return result;
}

/// The feed: the server pushes `count` messages of `size` bytes after one
/// request (or, `feed_at_url`, all of them from the moment the link is up);
/// the client takes them as fast as it can.
measurement feed(const workload& w) {
  net::io_context io{1};
  auto ws = connect_blocking(
    io, parse(w.feed_at_url ? feed_url(w.url, w) : w.url));
  beast::flat_buffer buffer;
  // Each message in its place, as wsm's client checks.
  auto check = [&](size_t i) {
    auto data = static_cast<const char*>(buffer.data().data());
    if (buffer.size() != w.size
        || (!w.feed_at_url && feed_sequence(data, w.size) != i))
      throw std::runtime_error("feed: message " + std::to_string(i)
                               + " out of order or of the wrong size");
    buffer.consume(buffer.size());
  };
  auto take = [&](size_t count, progress* report) {
    if (!w.feed_at_url)
      ws->write(net::buffer(feed_request(count, w.size)));
    if (!w.async_baseline) {
      for (size_t i = 0; i < count; ++i) {
        ws->read(buffer);
        check(i);
        if (report != nullptr)
          report->update(i + 1);
      }
      return;
    }
    // The same through completion handlers on the io_context.
    size_t received = 0;
    std::function<void()> read = [&] {
      ws->async_read(buffer, [&](beast::error_code ec, size_t) {
        if (ec)
          throw std::runtime_error("read: " + ec.message());
        check(received++);
        if (report != nullptr)
          report->update(received);
        if (received < count)
          read();
      });
    };
    read();
    io.restart();
    io.run();
  };
  take(warm_up_count(w), nullptr);
  progress report{"beast feed", w.count};
  auto result = timed(w.count, [&] { take(w.count, &report); });
  close_quietly(*ws);
  return result;
}

measurement pingpong(const workload& w) {
  net::io_context io{1};
  auto ws = connect_blocking(io, parse(w.url));
  std::string payload(w.size, 'x');
  beast::flat_buffer buffer;
  std::vector<double> latencies;
  latencies.reserve(w.count);
  size_t target_count = 0;
  progress report{"beast pingpong", w.count};
  auto record = [&](clock_type::time_point sent_at) {
    latencies.push_back(
      std::chrono::duration<double, std::micro>(clock_type::now() - sent_at)
        .count());
    report.update(latencies.size());
  };
  auto round_trips = [&](size_t count) {
    latencies.clear();
    target_count = count;
    if (!w.async_baseline) {
      for (size_t i = 0; i < count; ++i) {
        auto sent_at = clock_type::now();
        ws->write(net::buffer(payload));
        ws->read(buffer);
        buffer.consume(buffer.size());
        record(sent_at);
      }
      return;
    }
    // The same round trips through completion handlers on the io_context.
    clock_type::time_point sent_at;
    std::function<void()> round_trip = [&] {
      sent_at = clock_type::now();
      ws->async_write(net::buffer(payload), [&](beast::error_code ec, size_t) {
        if (ec)
          throw std::runtime_error("write: " + ec.message());
      });
      ws->async_read(buffer, [&](beast::error_code ec, size_t) {
        if (ec)
          throw std::runtime_error("read: " + ec.message());
        buffer.consume(buffer.size());
        record(sent_at);
        if (latencies.size() < target_count)
          round_trip();
      });
    };
    round_trip();
    io.restart();
    io.run();
  };
  round_trips(warm_up_count(w));
  auto result = timed(w.count, [&] { round_trips(w.count); });
  close_quietly(*ws);
  result.p50_us = percentile(latencies, 0.5);
  result.p99_us = percentile(latencies, 0.99);
  result.p999_us = percentile(latencies, 0.999);
  return result;
}

/// One of many connections of the scale workload.
struct scale_connection {
  explicit scale_connection(net::io_context& io) : ws(io) {
  }
  stream ws;
  beast::flat_buffer buffer;
};

measurement scale(const workload& w) {
  net::io_context io{1};
  auto t = parse(w.url);
  tcp::endpoint endpoint{net::ip::make_address(t.host),
                         static_cast<unsigned short>(std::stoul(t.port))};
  auto host = t.host + ":" + t.port;
  std::deque<scale_connection> connections;
  size_t connected = 0;
  size_t echoed = 0;
  progress report{"beast scale: connected", w.count};
  auto rss_before = resident_kib();
  auto start = clock_type::now();
  for (size_t i = 0; i < w.count; ++i) {
    auto& c = connections.emplace_back(io);
    if (w.deflate) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      c.ws.set_option(pmd);
    }
    if (auto source = source_address_of(i, w.source_addresses);
        !source.empty()) {
      auto& socket = c.ws.next_layer();
      socket.open(endpoint.protocol());
      socket.bind({net::ip::make_address(source), 0});
    }
    c.ws.next_layer().async_connect(
      endpoint, [&, &c = c](beast::error_code ec) {
        if (ec)
          throw std::runtime_error("connect: " + ec.message());
        c.ws.next_layer().set_option(tcp::no_delay(true));
        c.ws.async_handshake(host, t.path, [&, &c = c](beast::error_code ec) {
          if (ec)
            throw std::runtime_error("handshake: " + ec.message());
          report.update(++connected);
          // A connected client listens, as any client that wants to hear
          // from its server does (and as a machine does): one read pending.
          c.ws.async_read(c.buffer, [&](beast::error_code ec, size_t) {
            if (ec)
              throw std::runtime_error("read: " + ec.message());
            if (++echoed == w.count)
              io.stop();
          });
        });
      });
  }
  // Until every connection is up; the reads stay pending.
  while (connected < w.count && io.run_one() > 0)
    ;
  measurement result;
  result.all_connected_ms =
    std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  result.rss_kib_per_machine =
    (resident_kib() - rss_before) / static_cast<double>(w.count);
  std::string payload(w.size, 'x');
  start = clock_type::now();
  for (auto& c : connections) {
    c.ws.binary(true);
    c.ws.async_write(net::buffer(payload), [&](beast::error_code ec, size_t) {
      if (ec)
        throw std::runtime_error("write: " + ec.message());
    });
  }
  // The pending reads count the echoes and stop the loop at the last.
  io.run();
  result.all_echoed_ms =
    std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  result.rss_kib_per_machine_after_traffic =
    (resident_kib() - rss_before) / static_cast<double>(w.count);
  return result;
}

} // namespace

measurement run_beast(const workload& w) {
  measurement result;
  switch (w.kind) {
    case workload_kind::throughput:
      result = throughput(w);
      break;
    case workload_kind::pingpong:
      result = pingpong(w);
      break;
    case workload_kind::feed:
      if (w.slow_subscriber_us > 0)
        throw std::runtime_error("feed --slow-subscriber has no raw Beast "
                                 "client");
      result = feed(w);
      break;
    case workload_kind::scale:
      result = scale(w);
      break;
    case workload_kind::storm:
      throw std::runtime_error("storm has no raw Beast client");
  }
  result.workload = to_string(w.kind);
  result.client = "beast";
  return result;
}

} // namespace wsm_bench

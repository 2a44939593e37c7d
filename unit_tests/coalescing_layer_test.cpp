// The layer under the session's websocket stream, against a fake socket.
// Its read-ahead: reads under Beast that take many frames per syscall when
// the socket has them, and read straight into the caller's buffer when it
// does not or when the caller asks for a lot. Its send buffer: frames
// gathered into one send, and no buffer kept by a link with nothing to
// send.

#define CAF_SUITE coalescing_layer

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <cstring>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "session/write_coalescing_stream.hpp"

namespace net = boost::asio;
using wsm::detail::read_ahead;

namespace {

/// A socket that holds `pending` bytes and records each read it is asked
/// for: how many bytes the reader's buffer had room for.
struct fake_socket {
  using executor_type = net::io_context::executor_type;
  explicit fake_socket(net::io_context& io) : io(&io) {
  }
  executor_type get_executor() {
    return io->get_executor();
  }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    asked.push_back(net::buffer_size(buffers));
    auto n = net::buffer_copy(buffers, net::buffer(pending));
    pending.erase(0, n);
    net::post(*io, [h = std::move(handler), n]() mutable {
      std::move(h)(boost::system::error_code{}, n);
    });
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    auto n = net::buffer_size(buffers);
    std::string bytes(n, '\0');
    net::buffer_copy(net::buffer(bytes), buffers);
    sends.push_back(std::move(bytes));
    net::post(*io, [h = std::move(handler), n]() mutable {
      std::move(h)(boost::system::error_code{}, n);
    });
  }
  net::io_context* io;
  std::string pending;
  std::vector<size_t> asked;
  /// What each write to the socket carried.
  std::vector<std::string> sends;
};

struct fixture {
  net::io_context io;
  wsm::detail::write_coalescing_stream<fake_socket> layer{io};

  fake_socket& socket() {
    return layer.next_layer();
  }

  /// Reads `size` bytes' room through the layer; what came.
  std::string read(size_t size) {
    std::string into(size, '\0');
    size_t got = 0;
    bool done = false;
    layer.async_read_some(net::buffer(into),
                          [&](boost::system::error_code ec, size_t n) {
                            CAF_REQUIRE(!ec);
                            got = n;
                            done = true;
                          });
    io.restart();
    io.run();
    CAF_REQUIRE(done);
    into.resize(got);
    return into;
  }

  /// Writes `bytes` as the session writes a frame of its own.
  void write(const std::string& bytes) {
    boost::system::error_code ec;
    layer.write_bytes(
      bytes.size(),
      [&](char* to) { std::memcpy(to, bytes.data(), bytes.size()); }, ec);
    CAF_REQUIRE(!ec);
  }

  /// Runs what is posted: the sends complete.
  void run() {
    io.restart();
    io.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(coalescing_layer_tests, fixture)

CAF_TEST(a burst of small frames takes one read of the socket) {
  // 200 frames of 100 bytes, read 1536 bytes at a time as Beast does.
  std::string burst;
  for (int i = 0; i < 200; ++i)
    burst += std::string(100, static_cast<char>('a' + i % 26));
  socket().pending = burst;
  std::string got = read(1536); // fills all it asked: read ahead from now
  CAF_CHECK_EQUAL(socket().asked.size(), 1u);
  while (got.size() < burst.size())
    got += read(1536);
  CAF_CHECK_EQUAL(got, burst);
  // The first read, then one of read_ahead's capacity for the remaining
  // 18,464 bytes: not thirteen reads of 1536.
  CAF_CHECK_EQUAL(socket().asked, (std::vector<size_t>{1536,
                                                       read_ahead::capacity}));
}

CAF_TEST(a round trip reads straight into the callers buffer) {
  socket().pending = std::string(70, 'x');
  CAF_CHECK_EQUAL(read(1536), std::string(70, 'x'));
  socket().pending = std::string(70, 'y');
  CAF_CHECK_EQUAL(read(1536), std::string(70, 'y'));
  // Each came back short: the socket was drained, nothing was read ahead.
  CAF_CHECK_EQUAL(socket().asked, (std::vector<size_t>{1536, 1536}));
}

CAF_TEST(a large read goes straight to the callers buffer) {
  socket().pending = std::string(200000, 'z');
  CAF_CHECK_EQUAL(read(1536).size(), 1536u); // read ahead from now on
  auto big = read(100000);
  CAF_CHECK_EQUAL(big, std::string(100000, 'z'));
  // The payload's read asked for all its room: one read, no copy of ours.
  CAF_CHECK_EQUAL(socket().asked, (std::vector<size_t>{1536, 100000}));
}

CAF_TEST(bytes read ahead are served before the socket is read again) {
  socket().pending = std::string(1536, 'a') + std::string(100, 'b');
  CAF_CHECK_EQUAL(read(1536), std::string(1536, 'a'));
  CAF_CHECK_EQUAL(read(40), std::string(40, 'b')); // read ahead: all 100
  socket().pending = std::string(50, 'c'); // arrives after them
  CAF_CHECK_EQUAL(read(1536), std::string(60, 'b'));
  CAF_CHECK_EQUAL(read(1536), std::string(50, 'c'));
  // The 100 came short of read_ahead's room: the socket is read straight
  // again once they are out.
  CAF_CHECK_EQUAL(socket().asked, (std::vector<size_t>{1536,
                                                       read_ahead::capacity,
                                                       1536}));
}

CAF_TEST(the buffer is freed once empty) {
  read_ahead ahead;
  // Read ahead only after a read that filled all it asked for.
  CAF_CHECK(!ahead.should_fill(1536));
  ahead.read_direct(1536, 1536);
  CAF_CHECK(ahead.should_fill(1536));
  CAF_CHECK(!ahead.should_fill(read_ahead::capacity));
  auto room = ahead.prepare();
  std::memset(room.data(), 'q', 10);
  ahead.filled(10); // short: the socket is drained
  CAF_CHECK(!ahead.should_fill(1536));
  char out[4];
  CAF_CHECK_EQUAL(ahead.take(net::buffer(out)), 4u);
  CAF_CHECK_EQUAL(ahead.size(), 6u);
  char rest[16];
  CAF_CHECK_EQUAL(ahead.take(net::buffer(rest)), 6u);
  CAF_CHECK_EQUAL(ahead.size(), 0u);
  CAF_CHECK(!ahead.holds_memory());
}

CAF_TEST(frames written while held leave in one send) {
  layer.hold();
  write("first ");
  write("second ");
  write("third");
  run();
  CAF_CHECK(socket().sends.empty()); // held: nothing sent yet
  layer.release();
  run();
  CAF_CHECK_EQUAL(socket().sends,
                  (std::vector<std::string>{"first second third"}));
  CAF_CHECK_EQUAL(layer.bytes_written(), 18u);
  CAF_CHECK_EQUAL(layer.bytes_sent(), 18u);
}

CAF_TEST(frames written during a send go with the next one) {
  write("one");
  write("two"); // the first send is under way: gathered
  write("three");
  CAF_CHECK(layer.sending());
  run();
  CAF_CHECK_EQUAL(socket().sends,
                  (std::vector<std::string>{"one", "twothree"}));
  CAF_CHECK(!layer.sending());
}

CAF_TEST(a link with nothing more to send keeps no send buffer) {
  CAF_CHECK(!layer.holds_send_buffer());
  write(std::string(100000, 'a')); // a large frame, then small ones
  write("b");
  CAF_CHECK(layer.holds_send_buffer());
  run();
  std::string sent;
  for (auto& bytes : socket().sends)
    sent += bytes;
  CAF_CHECK(sent == std::string(100000, 'a') + "b");
  CAF_CHECK_EQUAL(layer.bytes_sent(), 100001u);
  CAF_CHECK(!layer.holds_send_buffer());
}

CAF_TEST_FIXTURE_SCOPE_END()

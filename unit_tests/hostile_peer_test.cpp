// Servers that lie and misbehave, written byte by byte (support/raw_peer):
// frame headers that announce 2^63 bytes, deflate bombs, close frames
// without the end of TCP. The process lives, memory follows what arrived
// (at most 1 MiB ahead of it, whatever a peer announces), and every link
// that must end is reported within its bound.

#define CAF_SUITE hostile_peer
#include <caf/test/unit_test_impl.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/live_fixture.hpp"
#include "support/raw_peer.hpp"

using namespace std::chrono_literals;

namespace {

constexpr size_t max_message = 1024 * 1024;
constexpr size_t rss_slack = 16 * 1024 * 1024;

constexpr uint8_t binary_opcode = 2;
constexpr uint8_t close_opcode = 8;

struct fixture : wsm_test::live_fixture {
  fixture() {
    opts.max_message_size = max_message;
    opts.close_timeout = 1s;
  }

  /// Connects a machine to `peer` and waits for CONNECTED.
  wsm::machine_actor connect(wsm_test::raw_peer& peer) {
    auto machine = spawn(url_of(peer.port()));
    expect_state(wsm::state::connecting);
    auto up = next_status();
    CAF_REQUIRE_EQUAL(up.state, wsm::state::connected);
    CAF_CHECK_EQUAL(up.compressed, opts.deflate.enabled);
    return machine;
  }

  /// Serves `script` to a machine: the link ends with 1009 for a message
  /// too big, the peer gets our close frame with 1009, and memory never
  /// grows by more than the message limit and some slack.
  void expect_too_big(const wsm_test::raw_script& script) {
    wsm_test::raw_peer peer{script};
    wsm_test::reset_peak_rss();
    auto rss_before = wsm_test::current_rss();
    auto machine = connect(peer);
    auto down = next_status();
    CAF_CHECK_EQUAL(down.state, wsm::state::disconnected);
    CAF_CHECK_EQUAL(down.close_code, 1009u);
    CAF_CHECK_EQUAL(down.error,
                    "message larger than max_message_size (1048576 bytes): "
                    "closed with 1009");
    CAF_CHECK(peer.wait_for_client_end(5s));
    auto codes = peer.close_codes();
    CAF_REQUIRE(!codes.empty());
    CAF_CHECK_EQUAL(codes.front(), 1009u);
    auto grown = wsm_test::peak_rss() - rss_before;
    CAF_MESSAGE("peak RSS grew by " << grown / 1024 << " KiB");
    CAF_CHECK_LESS(grown, max_message + rss_slack);
    quit(machine);
  }

  /// A script for a server that agreed to permessage-deflate, as the
  /// machine offers it.
  wsm_test::raw_script compressing(std::string bytes) {
    opts.deflate.enabled = true;
    wsm_test::raw_script script;
    script.deflate = true;
    script.bytes = std::move(bytes);
    return script;
  }
};

/// A compressed frame's header announcing `announced` bytes, then the
/// first valid bytes of it.
std::string compressed_lie(uint64_t announced) {
  return wsm_test::frame_header(binary_opcode, announced, true)
         + wsm_test::deflated("hello");
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(hostile_peer_tests, fixture)

CAF_TEST(a compressed frame announcing 2 ^ 63 bytes closes with 1009) {
  auto script = compressing(compressed_lie(0x7fffffffffffffffull));
  // Beast hands back the first bytes of a compressed frame after its next
  // read from the socket: the rest of them comes a little later.
  script.chunk = 12;
  script.pause = 50ms;
  expect_too_big(script);
}

CAF_TEST(a compressed frame announcing 1 GiB and trickled closes with 1009) {
  auto script = compressing(compressed_lie(uint64_t{1} << 30));
  script.chunk = 1;
  script.pause = 20ms;
  expect_too_big(script);
}

CAF_TEST(a deflate bomb closes with 1009 and the silent peer is cut off) {
  // 64 MiB of zeros in a few KiB: it inflates past the limit, which Beast
  // notices; the peer then never ends TCP, and the teardown is bounded.
  expect_too_big(compressing(wsm_test::frame(
    binary_opcode, wsm_test::deflated(std::string(64 * 1024 * 1024, '\0')),
    true)));
}

CAF_TEST(an uncompressed frame announcing 1 TiB closes with 1009) {
  wsm_test::raw_script script;
  script.bytes = wsm_test::frame_header(binary_opcode, uint64_t{1} << 40)
                 + "some bytes";
  expect_too_big(script);
}

CAF_TEST(a close frame from a peer that never ends TCP is reported in time) {
  wsm_test::raw_script script;
  script.bytes = wsm_test::frame(close_opcode, std::string{"\x03\xe8", 2}
                                                 + "bye");
  wsm_test::raw_peer peer{script};
  auto machine = connect(peer);
  auto started = std::chrono::steady_clock::now();
  auto down = next_status();
  CAF_CHECK_EQUAL(down.state, wsm::state::disconnected);
  CAF_CHECK_EQUAL(down.error, "closed by peer: 1000 bye");
  CAF_CHECK_EQUAL(down.close_code, 1000u);
  // Beast answered the close frame, then waited for the end of TCP that
  // never came: no longer than close_timeout.
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started,
                 opts.close_timeout + 2s);
  auto codes = peer.close_codes();
  CAF_REQUIRE_EQUAL(codes.size(), 1u);
  CAF_CHECK_EQUAL(codes.front(), 1000u);
  quit(machine);
}

CAF_TEST(a server that ends TCP after a lying header is a network error) {
  auto script = compressing(wsm_test::frame_header(binary_opcode, 100000, true));
  script.stay = false;
  wsm_test::raw_peer peer{script};
  auto machine = connect(peer);
  auto down = next_status();
  CAF_CHECK_EQUAL(down.state, wsm::state::disconnected);
  CAF_CHECK_EQUAL(down.error.rfind("read: ", 0), 0u);
  quit(machine);
}

CAF_TEST_FIXTURE_SCOPE_END()

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

CAF_TEST(memory exhausted while reading fails the link and the process lives) {
  // In a child whose address space is capped: a 768 MiB message (allowed:
  // max_message_size is 1 GiB) cannot be held, so the allocation inside
  // the read throws. The child reports what its machine saw in its exit
  // status.
  wsm_test::raw_script script;
  script.bytes = wsm_test::frame(binary_opcode,
                                 std::string(768 * 1024 * 1024, 'x'));
  wsm_test::raw_peer peer{script};
  auto child = fork();
  CAF_REQUIRE(child >= 0);
  if (child == 0) {
    int result = 10;
    {
      wsm::config cfg;
      caf::actor_system sys{cfg};
      caf::scoped_actor self{sys};
      wsm::options opts;
      opts.max_message_size = size_t{1} << 30;
      opts.min_uptime = caf::timespan{0};
      auto machine = wsm::spawn_machine(
        sys, "ws://127.0.0.1:" + std::to_string(peer.port()) + "/", opts,
        caf::actor_cast<caf::actor>(self));
      // Room for what runs, not for the message.
      rlimit cap{};
      getrlimit(RLIMIT_AS, &cap);
      std::ifstream status{"/proc/self/status"};
      std::string line;
      size_t virtual_size = 0;
      while (std::getline(status, line))
        if (line.rfind("VmSize:", 0) == 0)
          virtual_size = std::stoul(line.substr(7)) * 1024;
      cap.rlim_cur = virtual_size + 512 * 1024 * 1024;
      setrlimit(RLIMIT_AS, &cap);
      std::vector<wsm::status> seen;
      bool done = false;
      while (!done)
        self->receive(
          [&](wsm::status& x) {
            seen.push_back(x);
            // CONNECTING, CONNECTED, DISCONNECTED, CONNECTING again.
            done = seen.size() == 4;
          },
          caf::after(10s) >> [&] { done = true; });
      if (seen.size() == 4 && seen[2].state == wsm::state::disconnected
          && seen[2].error.find("internal error") != std::string::npos
          && seen[3].state == wsm::state::connecting)
        result = 0;
      else if (seen.size() >= 3)
        std::fprintf(stderr, "child saw: %s\n",
                     wsm::to_string(seen[2]).c_str());
      self->send_exit(*machine, caf::exit_reason::kill);
    }
    _exit(result);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CAF_CHECK(WIFEXITED(status));
  CAF_CHECK_EQUAL(WEXITSTATUS(status), 0);
}

#endif

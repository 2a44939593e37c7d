// libFuzzer target: what a server sends after a valid 101, fed into a real
// session (the broker's Beast stream, the machine and a subscriber, over
// loopback). The first byte of an input says whether permessage-deflate is
// agreed; the rest goes to the client as it is, then the server ends TCP.
//
// Nothing may crash; no exception may end a link (a status that says
// "internal error" is a bug found); no allocation may pass libFuzzer's
// -malloc_limit_mb (scripts/fuzz.sh sets it far below what a lying header
// announces); and the machine must report the end of the link in time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "support/raw_peer.hpp"
#include "wsm/wsm.hpp"

namespace {

using namespace std::chrono_literals;

/// Far more than a loopback exchange takes: a link whose end is not
/// reported within it is a hang.
constexpr auto bound = 10s;

// Not wsm::config: in a clang build CAF 0.17 (built with gcc) crashes
// setting an integer option from code compiled by clang (fuzz_machine.cpp).
struct fuzz_config : caf::actor_system_config {
  fuzz_config() {
    wsm::init(*this);
  }
};

struct harness {
  fuzz_config cfg;
  caf::actor_system sys{cfg};
  wsm_test::raw_peer peer;
};

/// Made once and never destroyed: libFuzzer ends the process with exit(),
/// and CAF's actor system must not be torn down from an atexit handler.
harness& the_harness() {
  static auto* instance = new harness;
  return *instance;
}

[[noreturn]] void found(const std::string& what) {
  std::fprintf(stderr, "fuzz_session: %s\n", what.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto& h = the_harness();
  wsm_test::raw_script script;
  script.deflate = (data[0] & 1) != 0;
  script.bytes.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  script.stay = false;
  h.peer.set_script(script);
  wsm::options opts;
  opts.deflate.enabled = script.deflate;
  opts.max_message_size = 64 * 1024;
  opts.close_timeout = 200ms;
  opts.min_uptime = caf::timespan{0};
  opts.max_inbox = 0;
  caf::scoped_actor self{h.sys};
  auto machine = wsm::spawn_machine(
    h.sys, "ws://127.0.0.1:" + std::to_string(h.peer.port()) + "/", opts,
    caf::actor_cast<caf::actor>(self));
  if (!machine)
    found("spawn: " + wsm::describe(machine.error()));
  self->monitor(*machine);
  // CONNECTING, CONNECTED, then the DISCONNECTED that ends the link.
  bool was_up = false;
  bool ended = false;
  while (!ended) {
    self->receive(
      [&](wsm::status& x) {
        if (x.error.find("internal error") != std::string::npos)
          found("an exception ended the link: " + wsm::to_string(x));
        if (x.state == wsm::state::connected)
          was_up = true;
        else if (x.state == wsm::state::disconnected && was_up)
          ended = true;
        else if (x.state == wsm::state::disconnected
                 || x.state == wsm::state::waiting)
          found("the 101 was not taken: " + wsm::to_string(x));
      },
      [](wsm::input&) {},
      caf::after(bound) >> [&] { found("no end of the link reported"); });
  }
  self->send(*machine, wsm::command::quit);
  auto down = false;
  while (!down)
    self->receive([&](caf::down_msg&) { down = true; },
                  [](wsm::status&) {}, [](wsm::input&) {},
                  caf::after(bound) >> [&] { found("the machine did not end"); });
  return 0;
}

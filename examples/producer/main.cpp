// A producer faster than the network, without a window of its own: it asks
// the machine for room, sends what the answer allows, and asks again. No
// output is ever refused for a full queue, however many it sends, and
// memory stays within max_queue_bytes. The echoes come back in order.
//
//   (room_atom, bytes) ──▶ machine      answered once an output of `bytes`
//   ◀── room{outputs, bytes}            fits: at once, or after a write
//   output × what fits ──▶ machine
//   (room_atom, bytes) ──▶ ...          behind those outputs: the answer
//                                       counts them
//
// Usage: wsm-example-producer URL [COUNT] [SIZE]

#include <cstdio>
#include <iostream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace {

struct producer_state {
  wsm::machine_actor machine;
  uint64_t count = 0;
  size_t size = 0;
  uint64_t sent = 0;
  uint64_t echoed = 0;
  uint64_t out_of_order = 0;
  uint64_t refused = 0;
  uint64_t room_asked = 0;
  bool quitting = false;
  static inline const char* name = "producer";
};

using producer_actor = caf::stateful_actor<producer_state>;

/// Message number `i`: its number in eight digits, padded to `size`.
std::string message(uint64_t i, size_t size) {
  char number[16];
  std::snprintf(number, sizeof(number), "%08llu",
                static_cast<unsigned long long>(i));
  auto result = std::string{number};
  result.resize(std::max(size, result.size()), '.');
  return result;
}

/// Asks for room for one more message; sends what the answer allows.
void produce(producer_actor* self) {
  auto& st = self->state;
  ++st.room_asked;
  self->request(st.machine, caf::infinite, wsm::room_atom::value,
                uint64_t{st.size})
    .then(
      [=](const wsm::room& room) {
        auto& st = self->state;
        auto fits = std::min<uint64_t>(room.outputs, room.bytes / st.size);
        for (uint64_t i = 0; i < fits && st.sent < st.count; ++i)
          self->send(st.machine, wsm::output{message(st.sent++, st.size)});
        if (st.sent < st.count)
          produce(self);
      },
      [=](caf::error& err) {
        std::cerr << "no room: " << wsm::describe(err) << std::endl;
        self->quit();
      });
}

caf::behavior producer(producer_actor* self, uint64_t count, size_t size) {
  self->state.count = count;
  self->state.size = size;
  return {
    [=](wsm::machine_actor machine) {
      self->state.machine = std::move(machine);
      produce(self);
    },
    [=](const wsm::status& x) {
      auto& st = self->state;
      if (x.state != wsm::state::disconnected || !st.quitting)
        return;
      std::cout << "sent " << st.sent << " messages of " << st.size
                << " bytes, " << st.refused << " refused\n"
                << "echoes: " << st.echoed << ", "
                << (st.out_of_order == 0 ? "in order" : "out of order")
                << "\nasked for room " << st.room_asked << " times"
                << std::endl;
      self->quit();
    },
    [=](const wsm::input& x) {
      auto& st = self->state;
      if (x.payload != message(st.echoed, st.size))
        ++st.out_of_order;
      if (++st.echoed == st.count) {
        st.quitting = true;
        self->send(st.machine, wsm::command::quit);
      }
    },
    [=](const wsm::undelivered&) { ++self->state.refused; },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: wsm-example-producer URL [COUNT] [SIZE]\n";
    return 2;
  }
  auto count = argc > 2 ? std::stoull(argv[2]) : 10000;
  auto size = argc > 3 ? std::stoul(argv[3]) : 1024;
  wsm::config cfg;
  caf::actor_system sys{cfg};
  // A small queue, so that the producer has to wait for room.
  wsm::options opts;
  opts.max_queue = 64;
  opts.max_queue_bytes = 64 * 1024;
  auto self = sys.spawn(producer, uint64_t{count}, size_t{size});
  auto machine = wsm::spawn_machine(sys, argv[1], opts, self);
  if (!machine) {
    std::cerr << "wsm-example-producer: " << wsm::describe(machine.error())
              << '\n';
    caf::anon_send_exit(self, caf::exit_reason::user_shutdown);
    return 2;
  }
  caf::anon_send(self, *machine);
  caf::scoped_actor{sys}->wait_for(self);
  return 0;
}

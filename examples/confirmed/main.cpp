// Outputs the server confirms, through a session gate, as a user writes
// them: N machines, each behind one gate that subscribes on every connect,
// each sending COUNT outputs as fast as its room answers allow. Every
// output asks for the server's confirmation under an id of its own; here
// the echo server's echo of it is that confirmation. The program keeps no
// resend bookkeeping: a machine holds what it wrote until it is confirmed,
// and writes it again first on the next link, right after the gate's
// subscribe. Written is not received; confirmed is.
//
//   machine ──(gate_atom, epoch)──▶ gate        after every CONNECTED
//   gate ──output "subscribe"──▶ machine        goes first, takes no room
//   producer ──(room_atom, size)──▶ machine     answered with room{...}
//   producer ──request(confirmed_output)──▶ machine
//   machine ──input (the echo)──▶ producer ──(confirm_atom, id)──▶ machine
//   machine ──the request's answer──▶ producer  once confirmed
//
// With --node (once per wsm-node), the machines run in a pool over those
// nodes: a machine lost with its node comes back on another, and the
// outputs it had not had confirmed follow it.
//
// Usage: wsm-example-confirmed URL [--machines=N] [--outputs=N] [--size=BYTES]
//                              [--rate=PER_SECOND] [--node=HOST:PORT]...
// Prints `halfway` once half of all outputs are confirmed, and at the end
//   confirmed C of T outputs on N machines, R refused, U undelivered
//   gate subscribed S times, X written again
// It exits with 0 when every output was confirmed.

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace {

using progress_atom = caf::atom_constant<caf::atom("progress")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using count_atom = caf::atom_constant<caf::atom("count")>;

/// What one producer reports when all its outputs are settled.
struct outcome {
  uint64_t confirmed = 0;
  uint64_t refused = 0;
  uint64_t undelivered = 0;
  uint64_t resent = 0;
};

// -- the gate: subscribes on every connect --------------------------------------

struct gate_state {
  std::string subscribe;
  uint64_t subscribed = 0;
  static inline const char* name = "subscribing-gate";
};

/// One gate for every machine. Asked after each CONNECTED, it sends the
/// machine (the sender of the question) its `subscribe`, which goes out
/// ahead of everything queued, and answers with nothing: the session is
/// ready, and what the machine holds or queued goes next.
caf::behavior subscribing_gate(caf::stateful_actor<gate_state>* self,
                               std::string subscribe) {
  self->state.subscribe = std::move(subscribe);
  return {
    [=](wsm::gate_atom, uint64_t) {
      auto machine = caf::actor_cast<wsm::machine_actor>(self->current_sender());
      self->send(machine, wsm::output{self->state.subscribe,
                                      wsm::frame_format::text});
      ++self->state.subscribed;
    },
    [=](count_atom) { return self->state.subscribed; },
  };
}

// -- the tally: progress and the final lines --------------------------------------

struct tally_state {
  uint64_t total = 0;
  size_t producers = 0;
  uint64_t confirmed_so_far = 0;
  size_t reported = 0;
  outcome sum;
  caf::actor gate;
  caf::actor report_to;
  static inline const char* name = "tally";
};

/// Counts confirmations, says `halfway`, and prints the last lines once
/// every producer reported; tells `report_to` whether all were confirmed.
caf::behavior tally(caf::stateful_actor<tally_state>* self, uint64_t total,
                    size_t producers, caf::actor gate, caf::actor report_to) {
  self->state.total = total;
  self->state.producers = producers;
  self->state.gate = std::move(gate);
  self->state.report_to = std::move(report_to);
  return {
    [=](progress_atom) {
      if (++self->state.confirmed_so_far * 2 == self->state.total)
        std::cout << "halfway" << std::endl;
    },
    [=](result_atom, uint64_t confirmed, uint64_t refused,
        uint64_t undelivered, uint64_t resent) {
      auto& st = self->state;
      st.sum.confirmed += confirmed;
      st.sum.refused += refused;
      st.sum.undelivered += undelivered;
      st.sum.resent += resent;
      if (++st.reported < st.producers)
        return;
      self->request(st.gate, std::chrono::seconds(5), count_atom::value)
        .then([=](uint64_t subscribed) {
          auto& st = self->state;
          std::cout << "confirmed " << st.sum.confirmed << " of " << st.total
                    << " outputs on " << st.producers << " machines, "
                    << st.sum.refused << " refused, " << st.sum.undelivered
                    << " undelivered\ngate subscribed " << subscribed
                    << " times, " << st.sum.resent << " written again"
                    << std::endl;
          self->send(st.report_to, st.sum.confirmed == st.total);
          self->quit();
        });
    },
  };
}

// -- a producer: sends its outputs and confirms their echoes ------------------------

struct producer_state {
  wsm::machine_actor machine;
  caf::actor tally;
  size_t index = 0;
  uint64_t count = 0;
  size_t size = 0;
  uint64_t sent = 0;
  outcome result;
  static inline const char* name = "producer";
};

using producer_actor = caf::stateful_actor<producer_state>;

/// The id of output `n` of machine `index`: the server confirms it.
std::string output_id(size_t index, uint64_t n) {
  return "m" + std::to_string(index) + "-" + std::to_string(n);
}

/// The id an echo carries: the payload up to its padding.
std::string id_in(const std::string& payload) {
  return payload.substr(0, payload.find('.'));
}

/// Once every output is confirmed or back: reports, and quits the machine.
void finish_if_settled(producer_actor* self) {
  auto& st = self->state;
  auto& r = st.result;
  if (r.confirmed + r.refused + r.undelivered < st.count)
    return;
  self->request(st.machine, std::chrono::seconds(5), wsm::get_atom::value,
                wsm::stats_atom::value)
    .then(
      [=](const wsm::stats& x) {
        auto& st = self->state;
        st.result.resent = x.resent;
        self->send(st.tally, result_atom::value, st.result.confirmed,
                   st.result.refused, st.result.undelivered, st.result.resent);
        self->send(st.machine, wsm::command::quit);
        self->quit();
      },
      [=](caf::error&) {
        auto& r = self->state.result;
        self->send(self->state.tally, result_atom::value, r.confirmed,
                   r.refused, r.undelivered, uint64_t{0});
        self->quit();
      });
}

/// Sends output number `sent`, asking for its confirmation; the answer
/// comes once it is confirmed, or says why it never will be.
void send_one(producer_actor* self) {
  auto& st = self->state;
  auto id = output_id(st.index, st.sent++);
  auto payload = id;
  payload.resize(std::max(st.size, payload.size() + 1), '.');
  self->request(st.machine, caf::infinite,
                wsm::confirmed_output(std::move(payload), id))
    .then(
      [=] {
        ++self->state.result.confirmed;
        self->send(self->state.tally, progress_atom::value);
        finish_if_settled(self);
      },
      [=](caf::error& err) {
        auto why = wsm::describe(err);
        auto& r = self->state.result;
        ++(why.rfind("queue full", 0) == 0 ? r.refused : r.undelivered);
        std::cerr << "wsm-example-confirmed: " << id << ": " << why << '\n';
        finish_if_settled(self);
      });
}

/// Asks for room for one more output; sends what the answer allows.
void produce(producer_actor* self) {
  auto& st = self->state;
  self->request(st.machine, caf::infinite, wsm::room_atom::value,
                uint64_t{st.size})
    .then(
      [=](const wsm::room& room) {
        auto& st = self->state;
        auto fits = std::min<uint64_t>(room.outputs, room.bytes / st.size);
        for (uint64_t i = 0; i < fits && st.sent < st.count; ++i)
          send_one(self);
        if (st.sent < st.count)
          produce(self);
      },
      [=](caf::error& err) {
        std::cerr << "wsm-example-confirmed: no room: " << wsm::describe(err)
                  << '\n';
      });
}

caf::behavior producer(producer_actor* self, size_t index, uint64_t count,
                       size_t size, caf::actor tally) {
  auto& st = self->state;
  st.index = index;
  st.count = count;
  st.size = size;
  st.tally = std::move(tally);
  return {
    [=](wsm::machine_actor machine) {
      self->state.machine = std::move(machine);
      produce(self);
    },
    [=](const wsm::status&) {},
    [=](const wsm::input& x) {
      // The echo of an output is its confirmation; the subscribe's echo
      // confirms nothing.
      if (x.payload.rfind('m', 0) == 0)
        self->send(self->state.machine, wsm::confirm_atom::value,
                   id_in(x.payload));
    },
  };
}

struct example_config : wsm::config {
  example_config() {
    load<caf::io::middleman>();
  }
};

/// Splits `HOST:PORT`.
bool split_node(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  host = text.substr(0, colon);
  try {
    auto number = std::stoul(text.substr(colon + 1));
    if (number == 0 || number > 65535)
      return false;
    port = static_cast<uint16_t>(number);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

/// Ends the actors this program started. The gate must be ended by name:
/// machines on other nodes hold it through CAF's middleman, and an actor
/// system waits for every actor at its end.
void end_all(const std::vector<caf::actor>& actors) {
  for (auto& x : actors)
    if (x)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
}

} // namespace

int main(int argc, char** argv) {
  std::string url;
  size_t machines = 20;
  uint64_t outputs = 1000;
  size_t size = 64;
  double rate = 0;
  std::vector<std::string> nodes;
  CLI::App app{"Sends outputs the server confirms through a session gate "
               "that subscribes on every connect; prints how many were "
               "confirmed.",
               "wsm-example-confirmed"};
  app.add_option("URL", url, "the echo server's ws:// URL")->required();
  app.add_option("--machines", machines, "how many machines")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);
  app.add_option("--outputs", outputs, "outputs each machine sends")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);
  app.add_option("--size", size, "bytes of each output")
    ->capture_default_str()
    ->check(CLI::Range(16, 65536));
  app.add_option("--rate", rate,
                 "outputs each machine writes per second at most, 0: no limit")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
  app.add_option("--node", nodes,
                 "HOST:PORT of a wsm-node: run the machines in a pool over "
                 "the nodes given");
  CLI11_PARSE(app, argc, argv);
  example_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // An actor function with no arguments would meet a CAF 0.17 bug (a null
  // argument tuple dereferenced): the gate is given its message.
  auto gate = sys.spawn(subscribing_gate, std::string{"subscribe"});
  auto counter = sys.spawn(tally, machines * outputs, machines, gate,
                           caf::actor_cast<caf::actor>(self));
  wsm::options opts;
  opts.gate = gate;
  opts.max_queue = 100;
  opts.retry_delay = std::chrono::milliseconds(200);
  opts.send_rate = rate;
  // Machines started together stay together: a short link after a
  // restart still counts.
  opts.min_uptime = {};
  wsm::pool_actor pool;
  if (!nodes.empty()) {
    pool = wsm::spawn_pool(sys, false);
    for (auto& node : nodes) {
      std::string host;
      uint16_t port = 0;
      if (!split_node(node, host, port)) {
        std::cerr << "wsm-example-confirmed: --node " << node
                  << ": write it as HOST:PORT\n";
        end_all({gate, counter, caf::actor_cast<caf::actor>(pool)});
        return 2;
      }
      auto added = false;
      self->request(pool, std::chrono::seconds(10), wsm::add_node_atom::value,
                    host, port)
        .receive([&](const std::string&) { added = true; },
                 [&](caf::error& err) {
                   std::cerr << "wsm-example-confirmed: node " << node << ": "
                             << wsm::describe(err) << '\n';
                 });
      if (!added) {
        end_all({gate, counter, caf::actor_cast<caf::actor>(pool)});
        return 1;
      }
    }
  }
  std::vector<caf::actor> producers;
  for (size_t i = 0; i < machines; ++i) {
    auto p = sys.spawn(producer, i, outputs, size, caf::actor{counter});
    producers.push_back(p);
    auto machine = pool ? caf::expected<wsm::machine_actor>{caf::sec::none}
                        : wsm::spawn_machine(sys, url, opts, p);
    if (pool)
      self->request(pool, std::chrono::seconds(10), wsm::spawn_atom::value,
                    url, opts, p)
        .receive([&](wsm::machine_actor& x) { machine = std::move(x); },
                 [&](caf::error& err) { machine = std::move(err); });
    if (!machine) {
      std::cerr << "wsm-example-confirmed: " << wsm::describe(machine.error())
                << '\n';
      producers.insert(producers.end(), {gate, counter,
                                         caf::actor_cast<caf::actor>(pool)});
      end_all(producers);
      return 2;
    }
    caf::anon_send(p, *machine);
  }
  auto all_confirmed = false;
  self->receive([&](bool x) { all_confirmed = x; });
  end_all({gate, caf::actor_cast<caf::actor>(pool)});
  return all_confirmed ? 0 : 1;
}

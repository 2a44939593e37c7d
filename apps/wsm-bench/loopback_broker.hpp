#pragma once

// A broker without sockets: every connection is up at once and every frame
// written comes straight back as received. It stands in for the network
// where the network is not what is measured: the actor layer's cost per
// message (wsm-microbench), and machines beyond the descriptor limit
// (wsm-bench scale --simulate).

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/machine.hpp"

namespace wsm_bench {

using loopback_go_atom = caf::atom_constant<caf::atom("lb_go")>;

struct loopback_broker_state {
  uint64_t writes = 0;
  uint64_t expected = 0;
  /// Told `(loopback_go_atom)` after `expected` writes, if set.
  caf::actor done_to;
  static inline const char* name = "wsm-bench.loopback-broker";
};

/// `echo`: frames written come back as received.
inline caf::behavior
loopback_broker(caf::stateful_actor<loopback_broker_state>* self, bool echo) {
  auto machine = [=] {
    return caf::actor_cast<wsm::machine_transport_actor>(self->current_sender());
  };
  return {
    [=](wsm::open_atom, uint64_t id, const wsm::connect_request&) {
      caf::anon_send(machine(), wsm::connected_atom::value, id,
                     wsm::link_info{});
    },
    [=](wsm::write_atom, uint64_t id, std::string& payload, bool text) {
      auto to = machine();
      caf::anon_send(to, wsm::written_atom::value, id, uint64_t{1});
      if (echo)
        caf::anon_send(to, wsm::received_atom::value, id,
                       wsm::input{std::move(payload), text});
      auto& st = self->state;
      if (++st.writes == st.expected && st.done_to)
        self->send(st.done_to, loopback_go_atom::value);
    },
    [=](loopback_go_atom, uint64_t expected, caf::actor done_to) {
      auto& st = self->state;
      st.writes = 0;
      st.expected = expected;
      st.done_to = std::move(done_to);
    },
    [](wsm::ping_atom, uint64_t) {},
    [](wsm::close_atom, uint64_t) {},
    [](wsm::abort_atom, uint64_t) {},
  };
}

} // namespace wsm_bench

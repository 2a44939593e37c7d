#pragma once

// The reconnect governor: one actor per actor system that hands out
// connection attempts per host from a token bucket, so that thousands of
// machines coming back to one server arrive at a rate it can take.
// `wsm.connect-rate` (attempts per second and host; 0, the default, turns it
// off) and `wsm.connect-burst` configure it.

#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace wsm {

/// To the governor: `(slot_atom, host)`, answered with the time to wait
/// before the attempt may start (zero: at once). The slot is the caller's
/// from then on; nothing needs to be given back.
using slot_atom = caf::atom_constant<caf::atom("wsm_slot")>;

/// A token bucket that books tokens ahead: `rate` tokens a second, at most
/// `burst` saved up. A pure value, tested on its own.
struct token_bucket {
  /// Tokens added per second.
  double rate = 1;
  /// Tokens saved up at most.
  double burst = 1;
  /// Tokens in hand; below zero, tokens already promised to waiting takers.
  double tokens = 0;
  /// When `tokens` was last brought up to date.
  caf::timespan last{};

  /// Takes one token at `now` (any monotonic clock, as a duration since its
  /// epoch) and returns how long the taker waits for it. Takers are served
  /// in order: the n-th taker beyond the burst waits n / rate.
  caf::timespan take(caf::timespan now);
};

/// Spawns a governor allowing `rate` attempts a second per host, `burst` at
/// once.
caf::actor spawn_governor(caf::actor_system& sys, double rate, double burst);

} // namespace wsm

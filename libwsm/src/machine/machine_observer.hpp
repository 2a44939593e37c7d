#pragma once

// What a machine tells whoever watches the machines of a system (the
// metrics registry, when metrics are on), without knowing who that is: as
// gun's state machine reports to its event handler.

#include <cstdint>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/timespan.hpp>

#include "wsm/messages.hpp"

namespace wsm::detail {

/// Told of every machine's life. Called from the machine's own handlers,
/// on any thread: an observer is thread-safe, and quick.
class machine_observer {
public:
  virtual ~machine_observer() = default;

  /// Machine `id` (its actor id) started, for `url` on `host`.
  virtual void machine_started(uint64_t id, caf::actor_addr machine,
                               std::string url, std::string host)
    = 0;

  /// Machine `id` published `x`.
  virtual void machine_status(uint64_t id, const status& x) = 0;

  /// A machine's ping was answered after `round_trip`.
  virtual void machine_round_trip(caf::timespan round_trip) = 0;

  /// Machine `id` ended; `last` are its counters.
  virtual void machine_ended(uint64_t id, const stats& last) = 0;
};

} // namespace wsm::detail

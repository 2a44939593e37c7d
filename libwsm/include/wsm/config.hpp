#pragma once

#include <caf/actor_system_config.hpp>

namespace wsm {

/// Announces libwsm's messages to an actor system, so machines can be used
/// from any actor and across nodes.
void add_message_types(caf::actor_system_config& cfg);

/// Makes an actor system configuration ready for machines: announces the
/// messages, installs the scheduler (by default the I/O scheduler, which
/// runs the actors on the threads of the shared Asio context; see
/// `wsm.scheduler` and `wsm.io-threads`) and loads the module that holds the
/// broker. `wsm::config` calls it; call it on a configuration of your own
/// instead of deriving from `wsm::config`.
void init(caf::actor_system_config& cfg);

/// An actor system configuration that knows libwsm: its messages, its error
/// category, and the options `wsm.scheduler` (`io`, the default: actors run
/// on the Asio threads; `caf`: CAF's own scheduler beside them) and
/// `wsm.io-threads` (threads of the shared Asio context; default: one per
/// usable CPU with `io`, 1 with `caf`). Derive from it to add options of
/// your own.
class config : public caf::actor_system_config {
public:
  config();
};

} // namespace wsm

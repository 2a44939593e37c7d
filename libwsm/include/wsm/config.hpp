#pragma once

#include <caf/actor_system_config.hpp>

namespace wsm {

/// Announces libwsm's messages to an actor system, so machines can be used
/// from any actor and across nodes.
void add_message_types(caf::actor_system_config& cfg);

/// Makes an actor system configuration ready for machines: announces the
/// messages and loads the module that runs the shared Asio context (see
/// `wsm.io-threads`). `wsm::config` calls it; call it on a configuration of
/// your own instead of deriving from `wsm::config`.
void init(caf::actor_system_config& cfg);

/// An actor system configuration that knows libwsm: its messages, its error
/// category, and the option `wsm.io-threads` (threads running the shared
/// Asio context, default 1). Derive from it to add options of your own.
class config : public caf::actor_system_config {
public:
  config();
};

} // namespace wsm

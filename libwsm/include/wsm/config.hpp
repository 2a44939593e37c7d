#pragma once

#include <caf/actor_system_config.hpp>

namespace wsm {

/// Announces libwsm's messages to an actor system, so machines can be used
/// from any actor and across nodes.
void add_message_types(caf::actor_system_config& cfg);

/// An actor system configuration that knows libwsm: its messages, its error
/// category, and the option `wsm.io-threads` (threads running the shared
/// Asio context, default 1). Derive from it to add options of your own.
class config : public caf::actor_system_config {
public:
  config();
};

} // namespace wsm

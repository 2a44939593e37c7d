#pragma once

#include <caf/fwd.hpp>

#include "wsm/machine.hpp"

namespace wsm::detail {

/// Spawns a machine for a request already checked.
machine_actor spawn_checked_machine(caf::actor_system& sys,
                                    connect_request request, options opts,
                                    caf::actor first_subscriber,
                                    broker_actor broker,
                                    caf::actor timer_relay,
                                    caf::actor governor);

} // namespace wsm::detail

#pragma once

// Links between nodes over TLS: CAF's openssl module (caf_openssl) in place
// of the plain middleman for publishing and connecting, with the
// certificate options of `wss://`.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "wsm/options.hpp"
#include "wsm/spawner.hpp"

namespace wsm {

/// Makes every link this node opens or accepts with `publish_spawner` and
/// pools (`add_node_atom`) a TLS link on which both sides prove themselves:
/// each presents `cert_file` (key `key_file`) and accepts only a peer whose
/// certificate `ca_file` or `ca_path` vouches for (host names are not
/// checked: the CA admits nodes). Call it on a configuration that loads
/// `caf::io::middleman`, before the actor system starts. Missing files, a
/// key that does not match, no CA, or `insecure_skip_verify` are refused
/// with an error naming the problem, and nothing is changed.
caf::error enable_node_tls(caf::actor_system_config& cfg,
                           const tls_options& tls);

/// Publishes `spawner` on `address:port` (0 picks a free port) for other
/// nodes, over TLS when `enable_node_tls` was called on the system's
/// configuration; returns the port.
caf::expected<uint16_t> publish_spawner(caf::actor_system& sys,
                                        const spawner_actor& spawner,
                                        uint16_t port,
                                        const std::string& address);

/// Reaches the spawner published on `host:port`, the same way. Blocks the
/// calling thread until it is reached: for `main`, not for actors (a pool
/// connects without blocking, see `add_node_atom`).
caf::expected<spawner_actor> remote_spawner(caf::actor_system& sys,
                                            const std::string& host,
                                            uint16_t port);

} // namespace wsm

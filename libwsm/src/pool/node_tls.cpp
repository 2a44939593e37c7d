#include "wsm/node_tls.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "request/tls_context.hpp"
#include "wsm/error.hpp"

namespace wsm {

caf::error enable_node_tls(caf::actor_system_config& cfg,
                           const tls_options& tls) {
  if (tls.insecure_skip_verify)
    return make_error(errc::invalid_option,
                      "node TLS: insecure_skip_verify is not supported "
                      "between nodes; give a CA");
  if (tls.cert_file.empty() || tls.key_file.empty())
    return make_error(errc::invalid_option,
                      "node TLS: every node needs cert_file and key_file");
  if (tls.ca_file.empty() && tls.ca_path.empty())
    return make_error(errc::invalid_option,
                      "node TLS: ca_file or ca_path must say which CA "
                      "admits nodes");
  // The same checks as for wss://: files exist, the key matches.
  if (auto context = detail::make_tls_context(tls); !context)
    return make_error(errc::invalid_option,
                      "node TLS: " + describe(context.error()));
  cfg.openssl_certificate = tls.cert_file;
  cfg.openssl_key = tls.key_file;
  cfg.openssl_cafile = tls.ca_file;
  cfg.openssl_capath = tls.ca_path;
  cfg.load<caf::openssl::manager>();
  return {};
}

caf::expected<uint16_t> publish_spawner(caf::actor_system& sys,
                                        const spawner_actor& spawner,
                                        uint16_t port,
                                        const std::string& address) {
  if (sys.has_openssl_manager())
    return caf::openssl::publish(spawner, port, address.c_str(), false);
  return sys.middleman().publish(spawner, port, address.c_str());
}

caf::expected<spawner_actor> remote_spawner(caf::actor_system& sys,
                                            const std::string& host,
                                            uint16_t port) {
  if (sys.has_openssl_manager())
    return caf::openssl::remote_actor<spawner_actor>(sys, host, port);
  return sys.middleman().remote_actor<spawner_actor>(host, port);
}

} // namespace wsm

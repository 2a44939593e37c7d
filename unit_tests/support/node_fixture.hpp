#pragma once

// What the suites of machines across nodes share: a node's configuration
// (optionally with TLS between nodes), node certificates, and an echo
// server that keeps what it received.

#include <optional>
#include <string>

#include <caf/io/middleman.hpp>
#include <caf/test/unit_test.hpp>

#include "echo_server.hpp"
#include "test_pki.hpp"
#include "wsm/wsm.hpp"

namespace wsm_test {

/// A node that knows libwsm and CAF's networking, over TLS if given
/// certificates.
struct node_config : wsm::config {
  explicit node_config(const std::optional<wsm::tls_options>& tls = {}) {
    load<caf::io::middleman>();
    if (tls)
      CAF_REQUIRE_EQUAL(wsm::describe(wsm::enable_node_tls(*this, *tls)),
                        "");
  }
};

/// Node TLS options for a certificate `pki` issues under `name`.
inline wsm::tls_options node_tls(test_pki& pki, const std::string& name) {
  auto cert = pki.issue(name, "wsm " + name, {"127.0.0.1"},
                        test_pki::role::node);
  wsm::tls_options tls;
  tls.ca_file = pki.ca_file();
  tls.cert_file = cert.cert_file;
  tls.key_file = cert.key_file;
  return tls;
}

/// An echo server that records every message, to count outputs at the
/// server.
inline wsm_echo::server_options recording() {
  wsm_echo::server_options opts;
  opts.record_messages = true;
  return opts;
}

} // namespace wsm_test

// wsm-test-pki DIR: writes a CA and certificates it issued into DIR, for
// the process tests (tests in C++ use test_pki directly):
//   ca.pem                       the CA to trust
//   server.pem, server.key       for localhost, 127.0.0.1 and ::1
//   client.pem, client.key       a client certificate, CN=wsm test client
//   expired.pem, expired.key     for localhost and 127.0.0.1, expired

#include <cstdio>
#include <exception>

#include "test_pki.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: wsm-test-pki DIR\n");
    return 2;
  }
  try {
    using wsm_test::test_pki;
    test_pki pki{"wsm test CA", argv[1]};
    pki.issue("server", "localhost", {"localhost", "127.0.0.1", "::1"});
    pki.issue("client", "wsm test client", {}, test_pki::role::client);
    pki.issue("expired", "localhost", {"localhost", "127.0.0.1"},
              test_pki::role::server, -48 * 3600, -24 * 3600);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wsm-test-pki: %s\n", e.what());
    return 1;
  }
  return 0;
}

#pragma once

#include <string>
#include <vector>

#include <openssl/types.h>

namespace wsm_test {

/// A throwaway public-key infrastructure made at test time in a temporary
/// directory: a CA, and certificates it issues for given names with a
/// given validity. Everything is removed with the object.
class test_pki {
public:
  /// A certificate and its key, as PEM files.
  struct issued {
    std::string cert_file;
    std::string key_file;
  };

  /// Which side a certificate is for (its extended key usage); a node
  /// links to other nodes as either.
  enum class role { server, client, node };

  /// Makes the directory and a CA named `ca_name`; `dir` keeps the files
  /// there instead of in a temporary directory that goes with the object.
  explicit test_pki(std::string ca_name = "wsm test CA", std::string dir = {});
  ~test_pki();

  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  /// The CA's certificate, to trust.
  const std::string& ca_file() const noexcept {
    return ca_.cert_file;
  }

  /// A directory holding the CA's certificate under its hashed name, as
  /// `openssl rehash` leaves it: for `ca_path`.
  const std::string& ca_dir() const noexcept {
    return ca_dir_;
  }

  /// Issues a certificate named `file_name` with common name `common_name`
  /// for `alt_names` (DNS names, or IP addresses written as such), valid
  /// from `valid_from` to `valid_until` seconds from now.
  issued issue(const std::string& file_name, const std::string& common_name,
               const std::vector<std::string>& alt_names,
               role for_role = role::server, long valid_from = -3600,
               long valid_until = 24 * 3600);

private:
  std::string dir_;
  bool remove_dir_;
  issued ca_;
  std::string ca_dir_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_cert_ = nullptr;
  long next_serial_ = 1;
};

} // namespace wsm_test

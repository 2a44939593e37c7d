#include "vocabulary/wording.hpp"
#include "request/tls_context.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "wsm/error.hpp"

namespace wsm::detail {

namespace {

/// OpenSSL's reason for the last error on this thread, and the queue
/// emptied so that it does not show up later elsewhere.
std::string last_openssl_error() {
  auto code = ERR_peek_last_error();
  std::string result = code != 0 && ERR_reason_error_string(code) != nullptr
                         ? ERR_reason_error_string(code)
                         : "unknown error";
  ERR_clear_error();
  return result;
}

caf::error bad_file(const char* option, const std::string& path,
                    const std::string& why) {
  return make_error(errc::invalid_option,
                    std::string{"tls "} + option + " " + quoted(path) + ": "
                      + why);
}

/// A file OpenSSL would fail to open gets the system's reason instead of
/// OpenSSL's vaguer one.
caf::error check_readable(const char* option, const std::string& path) {
  std::ifstream file{path};
  if (!file)
    return bad_file(option, path, std::strerror(errno));
  return {};
}

} // namespace

caf::expected<tls_context> make_tls_context(const tls_options& opts) {
  ERR_clear_error();
  tls_context result{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
  if (!result)
    return make_error(errc::invalid_option,
                      "tls: cannot make a context: " + last_openssl_error());
  auto ctx = result.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // An idle connection gives its read and write buffers back: thousands of
  // quiet wss:// links stay small.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(ctx,
                     opts.insecure_skip_verify ? SSL_VERIFY_NONE
                                               : SSL_VERIFY_PEER,
                     nullptr);
  if (!opts.ca_file.empty() || !opts.ca_path.empty()) {
    if (!opts.ca_file.empty()) {
      if (auto err = check_readable("ca_file", opts.ca_file))
        return err;
    }
    auto file = opts.ca_file.empty() ? nullptr : opts.ca_file.c_str();
    auto path = opts.ca_path.empty() ? nullptr : opts.ca_path.c_str();
    if (SSL_CTX_load_verify_locations(ctx, file, path) != 1)
      return opts.ca_file.empty()
               ? bad_file("ca_path", opts.ca_path, last_openssl_error())
               : bad_file("ca_file", opts.ca_file,
                          "no CA certificate in it ("
                            + last_openssl_error() + ")");
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return make_error(errc::invalid_option,
                      "tls: cannot use the system's certificate store: "
                        + last_openssl_error());
  }
  if (opts.key_file.empty() != opts.cert_file.empty())
    return make_error(errc::invalid_option,
                      opts.cert_file.empty()
                        ? "tls key_file is given without a cert_file"
                        : "tls cert_file is given without a key_file");
  if (!opts.cert_file.empty()) {
    if (auto err = check_readable("cert_file", opts.cert_file))
      return err;
    if (SSL_CTX_use_certificate_chain_file(ctx, opts.cert_file.c_str()) != 1)
      return bad_file("cert_file", opts.cert_file,
                      "no certificate in it (" + last_openssl_error() + ")");
    if (auto err = check_readable("key_file", opts.key_file))
      return err;
    auto mismatch = [&] {
      ERR_clear_error();
      return bad_file("key_file", opts.key_file,
                      "does not match the certificate in "
                        + quoted(opts.cert_file));
    };
    if (SSL_CTX_use_PrivateKey_file(ctx, opts.key_file.c_str(),
                                    SSL_FILETYPE_PEM)
        != 1) {
      auto code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_X509
          && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH)
        return mismatch();
      return bad_file("key_file", opts.key_file,
                      "no private key in it (" + last_openssl_error() + ")");
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
      return mismatch();
  }
  return result;
}

bool prepare_tls_session(ssl_st* ssl, const std::string& host, bool verify) {
  auto param = SSL_get0_param(ssl);
  // An address is checked against the certificate's IP entries and has no
  // place in SNI, which carries names only.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1)
    return true;
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return false;
  if (!verify)
    return true;
  // Partial wildcards (`w*.example.com`) are not accepted, as RFC 6125 asks.
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1;
}

std::string describe_tls_failure(ssl_st* ssl, const std::string& message) {
  auto result = SSL_get_verify_result(ssl);
  ERR_clear_error();
  if (result != X509_V_OK)
    return "certificate verify failed: "
           + std::string{X509_verify_cert_error_string(result)};
  return message;
}

} // namespace wsm::detail

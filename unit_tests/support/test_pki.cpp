#include "test_pki.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace wsm_test {

namespace {

void require(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string{"test PKI: "} + what);
}

EVP_PKEY* make_key() {
  // P-256: a key in microseconds, where RSA would take a while.
  auto key = EVP_EC_gen("P-256");
  require(key != nullptr, "cannot make a key");
  return key;
}

void add_extension(X509* cert, X509V3_CTX& ctx, int nid, const char* value) {
  auto ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  require(ext != nullptr, "bad extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// An unsigned certificate for `key` named `common_name`, issued by
/// `issuer` (itself when null).
X509* make_certificate(EVP_PKEY* key, const std::string& common_name,
                       long serial, long valid_from, long valid_until,
                       X509* issuer) {
  auto cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), valid_from);
  X509_gmtime_adj(X509_getm_notAfter(cert), valid_until);
  X509_set_pubkey(cert, key);
  auto name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(
                               common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(issuer ? issuer : cert));
  return cert;
}

void write_pem(const std::string& path, X509* cert) {
  auto file = std::fopen(path.c_str(), "w");
  require(file != nullptr, "cannot write a certificate");
  PEM_write_X509(file, cert);
  std::fclose(file);
}

void write_pem(const std::string& path, EVP_PKEY* key) {
  auto file = std::fopen(path.c_str(), "w");
  require(file != nullptr, "cannot write a key");
  PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(file);
}

bool is_address(const std::string& x) {
  return x.find_first_not_of("0123456789.") == std::string::npos
         || x.find(':') != std::string::npos;
}

} // namespace

test_pki::test_pki(std::string ca_name, std::string dir)
  : dir_(std::move(dir)), remove_dir_(dir_.empty()) {
  if (dir_.empty()) {
    char name[] = "/tmp/wsm-pki-XXXXXX";
    require(mkdtemp(name) != nullptr, "cannot make a directory");
    dir_ = name;
  } else {
    std::filesystem::create_directories(dir_);
  }
  ca_key_ = make_key();
  ca_cert_ = make_certificate(ca_key_, ca_name, next_serial_++, -3600,
                              30 * 24 * 3600, nullptr);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert_, ca_cert_, nullptr, nullptr, 0);
  add_extension(ca_cert_, ctx, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca_cert_, ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca_cert_, ctx, NID_subject_key_identifier, "hash");
  require(X509_sign(ca_cert_, ca_key_, EVP_sha256()) > 0, "cannot sign");
  ca_.cert_file = dir_ + "/ca.pem";
  ca_.key_file = dir_ + "/ca.key";
  write_pem(ca_.cert_file, ca_cert_);
  write_pem(ca_.key_file, ca_key_);
  ca_dir_ = dir_ + "/ca.d";
  std::filesystem::create_directories(ca_dir_);
  char hashed[16];
  std::snprintf(hashed, sizeof(hashed), "%08lx.0",
                X509_subject_name_hash(ca_cert_));
  write_pem(ca_dir_ + "/" + hashed, ca_cert_);
}

test_pki::~test_pki() {
  X509_free(ca_cert_);
  EVP_PKEY_free(ca_key_);
  if (remove_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

test_pki::issued test_pki::issue(const std::string& file_name,
                                 const std::string& common_name,
                                 const std::vector<std::string>& alt_names,
                                 role for_role, long valid_from,
                                 long valid_until) {
  auto key = make_key();
  auto cert = make_certificate(key, common_name, next_serial_++, valid_from,
                               valid_until, ca_cert_);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert_, cert, nullptr, nullptr, 0);
  add_extension(cert, ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, ctx, NID_key_usage, "critical,digitalSignature");
  add_extension(cert, ctx, NID_ext_key_usage,
                for_role == role::server   ? "serverAuth"
                : for_role == role::client ? "clientAuth"
                                           : "serverAuth,clientAuth");
  add_extension(cert, ctx, NID_subject_key_identifier, "hash");
  add_extension(cert, ctx, NID_authority_key_identifier, "keyid:always");
  if (!alt_names.empty()) {
    std::string names;
    for (auto& name : alt_names)
      names += (names.empty() ? "" : ",")
               + std::string{is_address(name) ? "IP:" : "DNS:"} + name;
    add_extension(cert, ctx, NID_subject_alt_name, names.c_str());
  }
  require(X509_sign(cert, ca_key_, EVP_sha256()) > 0, "cannot sign");
  issued result{dir_ + "/" + file_name + ".pem", dir_ + "/" + file_name + ".key"};
  write_pem(result.cert_file, cert);
  write_pem(result.key_file, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return result;
}

} // namespace wsm_test

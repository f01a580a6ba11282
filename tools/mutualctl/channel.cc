#include "channel.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "mutualaid/server/server.h"

namespace mutualaid::mutualctl {

std::string CaCertFile() {
  const char* v = std::getenv(kCaCertEnv);
  return v == nullptr ? "" : v;
}

absl::Status CheckCaCertFile() {
  const std::string path = CaCertFile();
  if (path.empty()) return absl::OkStatus();
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && text.empty()) {
    return absl::NotFoundError(absl::StrCat("--ca-cert / ", kCaCertEnv, ": cannot read ", path));
  }
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ca-cert / ", kCaCertEnv, ": ", path, " holds no PEM certificate"));
  }
  return absl::OkStatus();
}

absl::Status SetCaCertFile(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("--ca-cert needs a file");
  setenv(kCaCertEnv, path.c_str(), 1);
  return CheckCaCertFile();
}

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The file's text, or NotFound naming `what` (flag / variable) and the path.
absl::StatusOr<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && text.empty()) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  return text;
}

}  // namespace

std::string ClientCertFile() { return Env(kClientCertEnv); }
std::string ClientKeyFile() { return Env(kClientKeyEnv); }
void SetClientCertFile(const std::string& path) { setenv(kClientCertEnv, path.c_str(), 1); }
void SetClientKeyFile(const std::string& path) { setenv(kClientKeyEnv, path.c_str(), 1); }

absl::Status CheckClientCert() {
  const std::string cert = ClientCertFile(), key = ClientKeyFile();
  const std::string cert_what = absl::StrCat("--client-cert / ", kClientCertEnv);
  const std::string key_what = absl::StrCat("--client-key / ", kClientKeyEnv);
  if (cert.empty() && key.empty()) return absl::OkStatus();
  if (cert.empty()) return absl::InvalidArgumentError(cert_what + ": required with a client key");
  if (key.empty()) return absl::InvalidArgumentError(key_what + ": required with a client certificate");
  if (CaCertFile().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_what, ": a client certificate needs TLS: --ca-cert / ", kCaCertEnv));
  }
  absl::StatusOr<std::string> cert_text = ReadPem(cert_what, cert);
  if (!cert_text.ok()) return cert_text.status();
  if (cert_text->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(cert_what, ": ", cert, " holds no PEM certificate"));
  }
  absl::StatusOr<std::string> key_text = ReadPem(key_what, key);
  if (!key_text.ok()) return key_text.status();
  if (key_text->find("PRIVATE KEY-----") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(key_what, ": ", key, " holds no PEM private key"));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& server) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      server::ClientCredentials(CaCertFile(), ClientCertFile(), ClientKeyFile());
  if (!creds.ok()) {
    std::cerr << "mutualctl: " << kCaCertEnv << " / " << kClientCertEnv << ": "
              << creds.status().message() << '\n';
    std::exit(2);
  }
  return grpc::CreateChannel(server, *creds);
}

}  // namespace mutualaid::mutualctl

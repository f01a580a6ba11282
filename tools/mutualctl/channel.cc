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

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& server) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      server::ClientCredentials(CaCertFile());
  if (!creds.ok()) {
    std::cerr << "mutualctl: " << kCaCertEnv << ": " << creds.status().message() << '\n';
    std::exit(2);
  }
  return grpc::CreateChannel(server, *creds);
}

}  // namespace mutualaid::mutualctl

#include "mutualaid/core/worker_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/core/hash.h"

namespace mutualaid {
namespace {

absl::Status CheckSecretLength(size_t size, absl::string_view where) {
  if (size < kMinWorkerKeySecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker key secret from ", where, " is ", size,
        " bytes; at least ", kMinWorkerKeySecretBytes, " are required"));
  }
  return absl::OkStatus();
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace

std::string NormalizeIdNumber(absl::string_view id_number) {
  std::string out(absl::StripAsciiWhitespace(id_number));
  for (char& c : out) {
    if (c == 'x') c = 'X';
  }
  return out;
}

absl::StatusOr<WorkerKeyer> WorkerKeyer::Create(std::string secret) {
  if (absl::Status s = CheckSecretLength(secret.size(), "the caller"); !s.ok()) {
    Wipe(secret);
    return s;
  }
  return WorkerKeyer(std::move(secret));
}

WorkerKeyer::WorkerKeyer(std::string secret) : secret_(std::move(secret)) {}

WorkerKeyer::WorkerKeyer(WorkerKeyer&& other) noexcept
    : secret_(std::move(other.secret_)) {
  Wipe(other.secret_);
}

WorkerKeyer& WorkerKeyer::operator=(WorkerKeyer&& other) noexcept {
  if (this != &other) {
    Wipe(secret_);
    secret_ = std::move(other.secret_);
    Wipe(other.secret_);
  }
  return *this;
}

WorkerKeyer::~WorkerKeyer() { Wipe(secret_); }

std::string WorkerKeyer::KeyFor(absl::string_view id_number) const {
  const std::string normalized = NormalizeIdNumber(id_number);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  // One-shot HMAC() is not deprecated in OpenSSL 3 and is re-entrant.
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(normalized.data()),
           normalized.size(), mac, &mac_len) == nullptr) {
    // Only allocation failure gets here; a wrong key would misroute a worker.
    std::abort();
  }
  return HexEncode(
      absl::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

absl::StatusOr<std::string> LoadWorkerKeySecretFromFile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("worker key secret file ", path,
                                            ": ", std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    return absl::InternalError(
        absl::StrCat("worker key secret file ", path, ": read error"));
  }
  std::string secret = std::move(buf).str();
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (absl::Status s = CheckSecretLength(secret.size(), absl::StrCat("file ", path));
      !s.ok()) {
    Wipe(secret);
    return s;
  }
  return secret;
}

absl::StatusOr<std::string> LoadWorkerKeySecretFromEnv(const char* env_var) {
  const char* value = std::getenv(env_var);
  if (value == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "worker key secret: environment variable ", env_var, " is not set"));
  }
  std::string secret(value);
  if (absl::Status s = CheckSecretLength(
          secret.size(), absl::StrCat("environment variable ", env_var));
      !s.ok()) {
    Wipe(secret);
    return s;
  }
  return secret;
}

absl::StatusOr<std::string> LoadWorkerKeySecret(const std::string& path,
                                                const char* env_var) {
  if (!path.empty()) return LoadWorkerKeySecretFromFile(path);
  return LoadWorkerKeySecretFromEnv(env_var);
}

}  // namespace mutualaid

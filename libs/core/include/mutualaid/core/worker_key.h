// The worker key: how every topic and store names a worker without holding the
// ID number. key = hex(HMAC-SHA256(secret, NormalizeIdNumber(id))), 64 chars.
// The secret is per deployment; changing it changes every key (and therefore
// every partition assignment), so it is loaded once and never rotated casually.

#ifndef MUTUALAID_CORE_WORKER_KEY_H_
#define MUTUALAID_CORE_WORKER_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mutualaid {

// Minimum secret length in bytes (256 bits, the HMAC-SHA256 block of security).
inline constexpr size_t kMinWorkerKeySecretBytes = 32;

// Default environment variable holding the secret.
inline constexpr char kWorkerKeySecretEnv[] = "MUTUALAID_WORKER_KEY_SECRET";

// The ID number as it is keyed: surrounding ASCII whitespace trimmed and the
// check character 'x' upper-cased ("31010119900307123x " -> "...123X"). No
// other change: validating the number is the plan rules' job.
std::string NormalizeIdNumber(absl::string_view id_number);

class WorkerKeyer {
 public:
  // InvalidArgument if the secret is shorter than kMinWorkerKeySecretBytes.
  static absl::StatusOr<WorkerKeyer> Create(std::string secret);

  WorkerKeyer(WorkerKeyer&&) noexcept;
  WorkerKeyer& operator=(WorkerKeyer&&) noexcept;
  WorkerKeyer(const WorkerKeyer&) = delete;
  WorkerKeyer& operator=(const WorkerKeyer&) = delete;
  ~WorkerKeyer();  // wipes the secret from memory

  // The 64-char lower-case hex worker key of `id_number` (normalised first).
  // Thread-safe.
  std::string KeyFor(absl::string_view id_number) const;

 private:
  explicit WorkerKeyer(std::string secret);
  std::string secret_;
};

// Reads the secret from `path`: the file's bytes with one trailing "\n" or
// "\r\n" removed. NotFound if the file is missing, InvalidArgument if the
// secret is shorter than kMinWorkerKeySecretBytes.
absl::StatusOr<std::string> LoadWorkerKeySecretFromFile(const std::string& path);

// Reads the secret from environment variable `env_var` (taken verbatim).
// NotFound if unset, InvalidArgument if too short.
absl::StatusOr<std::string> LoadWorkerKeySecretFromEnv(
    const char* env_var = kWorkerKeySecretEnv);

// The service start-up rule: the file if `path` is non-empty, else the
// environment variable. Errors say where the secret was looked for.
absl::StatusOr<std::string> LoadWorkerKeySecret(
    const std::string& path, const char* env_var = kWorkerKeySecretEnv);

}  // namespace mutualaid

#endif  // MUTUALAID_CORE_WORKER_KEY_H_

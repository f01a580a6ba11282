// What the two gateway fakes (fakebank, fakesms) share: flags, fault
// injection, the fsync'd JSON-lines journal, JSON error answers, and running
// until SIGINT/SIGTERM. Private to tools/fakebank and tools/fakesms.
#ifndef MUTUALAID_TOOLS_FAKEBANK_COMMON_FAKE_GATEWAY_H_
#define MUTUALAID_TOOLS_FAKEBANK_COMMON_FAKE_GATEWAY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/http/message.h"
#include "mutualaid/http/server.h"
#include "mutualaid/json/json.h"

namespace mutualaid::fakes {

// --name=value, --name value, and --flag for booleans. Everything else is a
// positional argument.
class FlagParser {
 public:
  void String(std::string name, std::string* out, std::string help);
  void Int(std::string name, int64_t* out, std::string help);
  void Double(std::string name, double* out, std::string help);
  void Bool(std::string name, bool* out, std::string help);

  // InvalidArgument naming the flag on an unknown flag or a bad value.
  absl::StatusOr<std::vector<std::string>> Parse(int argc, char** argv) const;
  std::string Help() const;

 private:
  struct Flag {
    enum class Type { kString, kInt, kDouble, kBool } type;
    void* out;
    std::string help;
  };
  std::map<std::string, Flag, std::less<>> flags_;
};

// Flags both fakes take.
struct CommonOptions {
  std::string host = "127.0.0.1";
  int64_t port = 0;
  int64_t threads = 16;
  double error_rate = 0;    // answer 500/503 without doing anything
  double timeout_rate = 0;  // do the work, then hang and close without answering
  int64_t hang_ms = 30000;  // how long a "timeout" hangs before closing
  int64_t slow_ms = 0;      // delay before every request
  int64_t crash_after = 0;  // the Nth request is carried out, then _exit(1) before answering
  int64_t seed = 1;
  bool fault_queries = false;  // also inject errors/timeouts into GET requests
};
void RegisterCommonFlags(FlagParser& flags, CommonOptions& options);
// InvalidArgument if a rate is outside [0, 1] or a count is negative.
absl::Status CheckCommonOptions(const CommonOptions& options);

// Wraps handlers with the fault flags. Thread-safe.
class Faults {
 public:
  explicit Faults(const CommonOptions& options);

  // `submits` marks the endpoints that change state (POST): errors and
  // timeouts hit those (and queries only with --fault-queries). Slowness and
  // the crash counter apply to every request.
  http::Handler Wrap(bool submits, http::Handler handler);

  // Ends every injected hang and delay now (call before Server::Stop).
  void Stop() { stop_.Notify(); }

 private:
  bool Draw(double probability);
  void Pause(absl::Duration d) { stop_.WaitForNotificationWithTimeout(d); }

  const CommonOptions options_;
  std::atomic<int64_t> requests_{0};
  absl::Notification stop_;
  absl::Mutex mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
};

// An append-only file of JSON values, one per line, each fsync'd before
// Append returns: what a fake acknowledged survives a crash (SIGKILL) of the
// fake. Opening replays every line; a torn last line (the crash came mid-write,
// so nothing was acknowledged for it) is cut off. The file is locked (flock)
// so two processes never share it.
class Journal {
 public:
  // An empty `path` gives a journal that keeps nothing (memory only).
  static absl::StatusOr<std::unique_ptr<Journal>> Open(
      const std::string& path, const std::function<absl::Status(const json::Value&)>& replay);
  ~Journal();

  absl::Status Append(const json::Value& value);

 private:
  explicit Journal(int fd) : fd_(fd) {}
  int fd_;
};

// {"error": code, "reason": reason} with `status`.
http::Response JsonError(int status, std::string_view code, std::string_view reason);
http::Response JsonOk(const json::Value& value);

// "YYYY-MM-DD", strictly (a real day, zero-padded).
absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text);
std::string FormatDay(absl::CivilDay day);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts
// afterwards: call first thing in main.
void BlockStopSignals();
// Prints "listening HOST:PORT" (flushed) on stdout, waits for SIGINT/SIGTERM,
// then ends hangs and stops the server.
void ServeUntilSignalled(http::Server& server, Faults& faults, std::string_view host);

}  // namespace mutualaid::fakes

#endif  // MUTUALAID_TOOLS_FAKEBANK_COMMON_FAKE_GATEWAY_H_

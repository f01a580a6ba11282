// The one logger: structured JSON lines, one object per line, e.g.
//
//   {"ts":"2025-03-01T09:00:00.000+08:00","level":"info","component":"claims",
//    "msg":"claim accepted","claim_id":"c-17","amount_fen":120000}
//
// `ts` comes from the Clock the logger was given (SystemClock by default), in
// Shanghai time with its offset. Strings are JSON-escaped; invalid UTF-8 is
// replaced by U+FFFD so every line stays valid JSON. A field whose key clashes
// with ts/level/component/msg is written with a leading '_'.
//
// PII never goes into a log unmasked: use the Mask* helpers below.

#ifndef MUTUALAID_CORE_LOG_H_
#define MUTUALAID_CORE_LOG_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/core/clock.h"

namespace mutualaid {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error".
absl::string_view LogLevelName(LogLevel level);

// One key=value pair; the value is rendered to JSON on construction.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value);
  LogField(absl::string_view key, const char* value);
  LogField(absl::string_view key, const std::string& value);
  LogField(absl::string_view key, bool value);
  template <typename Int,
            typename = std::enable_if_t<std::is_integral_v<Int> &&
                                        !std::is_same_v<Int, bool> &&
                                        !std::is_same_v<Int, char>>>
  LogField(absl::string_view key, Int value)
      : key_(key), json_(std::to_string(value)) {}
  LogField(absl::string_view key, absl::Duration value);     // "1m30s"
  LogField(absl::string_view key, absl::Time value);         // RFC 3339, +08:00
  LogField(absl::string_view key, absl::CivilDay value);     // "2025-03-01"
  LogField(absl::string_view key, const absl::Status& value);  // its ToString()

  const std::string& key() const { return key_; }
  // The value as JSON text (a quoted string, number or boolean).
  const std::string& json() const { return json_; }

 private:
  std::string key_;
  std::string json_;
};

// Where lines go. Write() receives one complete line including '\n' and must
// be thread-safe.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(absl::string_view line) = 0;
};

// stderr, one write(2) per line so lines from concurrent threads or processes
// sharing the stream never interleave (for lines under PIPE_BUF at least).
LogSink& StderrLogSink();

// Thread-safe. Cheap to construct; one per component is typical.
class Logger {
 public:
  // `clock` and `sink` must outlive the logger; nullptr means
  // SystemClock::Default() and StderrLogSink().
  explicit Logger(std::string component, const Clock* clock = nullptr,
                  LogSink* sink = nullptr, LogLevel min_level = LogLevel::kInfo);

  void set_min_level(LogLevel level) { min_level_.store(level); }
  LogLevel min_level() const { return min_level_.load(); }
  bool Enabled(LogLevel level) const { return level >= min_level(); }

  void Log(LogLevel level, absl::string_view message,
           std::initializer_list<LogField> fields = {}) const;

  void Debug(absl::string_view m, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kDebug, m, f);
  }
  void Info(absl::string_view m, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kInfo, m, f);
  }
  void Warning(absl::string_view m,
               std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kWarning, m, f);
  }
  void Error(absl::string_view m, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kError, m, f);
  }

  // The line Log() would write (without the trailing '\n'); for tests.
  std::string Format(LogLevel level, absl::string_view message,
                     std::initializer_list<LogField> fields) const;

 private:
  std::string component_;
  const Clock* clock_;
  LogSink* sink_;
  std::atomic<LogLevel> min_level_;
};

// Appends `s` to `out` as a quoted JSON string.
void AppendJsonString(std::string* out, absl::string_view s);

// --- PII masks. Each keeps just enough to tell records apart in an incident.

// ID number: first 4 + '*' for each middle char + last 2, after trimming:
// "310101199003071234" -> "3101************34". 6 chars or fewer: all '*'.
std::string MaskIdNumber(absl::string_view id_number);

// Phone: first 3 + '*' for each middle char + last 4:
// "13800138000" -> "138****8000". 7 chars or fewer: all '*'.
std::string MaskPhone(absl::string_view phone);

// Bank card: "**** " + last 4 digits (spaces and dashes ignored):
// "6222 0212 3456 1234" -> "**** 1234". Fewer than 4 digits: "****".
std::string MaskCardNumber(absl::string_view card_number);

// Name: first character (UTF-8 code point) + '*': "张三丰" -> "张*",
// "Li Lei" -> "L*". Empty stays empty.
std::string MaskName(absl::string_view name);

}  // namespace mutualaid

#endif  // MUTUALAID_CORE_LOG_H_

// The one config loader for services.
//
// File format, one setting per line:
//
//   # a comment (only whole lines; '#' inside a value is part of the value)
//   listen_address = 0.0.0.0:50051
//   state_dir      = ./state          # <- this would be part of the value!
//   greeting       = "  kept as is  " # likewise: quotes keep inner spaces
//
// Keys are [A-Za-z0-9_.-]+, case-sensitive, each at most once. Values are
// trimmed; one pair of surrounding double quotes is removed (no escapes).
//
// Every key can be overridden by the environment variable
// MUTUALAID_<KEY upper-cased, '.' and '-' turned into '_'>, e.g.
// `kafka.bootstrap` <- MUTUALAID_KAFKA_BOOTSTRAP. The environment is consulted
// at lookup time and wins over the file.
//
// Errors name the key and where its value came from (file:line or env var).

#ifndef MUTUALAID_CORE_CONFIG_H_
#define MUTUALAID_CORE_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mutualaid {

class Config {
 public:
  // Looks up an environment variable; std::nullopt when unset.
  using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

  // The process environment (std::getenv).
  static EnvLookup ProcessEnv();

  // Reads and parses `path`. NotFound if it cannot be opened.
  static absl::StatusOr<Config> LoadFile(const std::string& path,
                                         EnvLookup env = ProcessEnv());
  // Parses `text`; `source` names it in errors (e.g. a file name).
  static absl::StatusOr<Config> Parse(absl::string_view text,
                                      absl::string_view source,
                                      EnvLookup env = ProcessEnv());
  // No file: only the environment.
  static Config FromEnv(EnvLookup env = ProcessEnv());

  // The environment variable that overrides `key`.
  static std::string EnvName(absl::string_view key);

  // Required getters: NotFound naming the key (and its env var) when absent,
  // InvalidArgument naming the key and source when malformed.
  absl::StatusOr<std::string> GetString(absl::string_view key) const;
  absl::StatusOr<int64_t> GetInt64(absl::string_view key) const;
  // true/false, yes/no, on/off, 1/0 (case-insensitive).
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  // absl::ParseDuration syntax ("30s", "5m", "1h30m", "250ms") plus whole
  // days ("7d"). Negative and infinite durations are rejected.
  absl::StatusOr<absl::Duration> GetDuration(absl::string_view key) const;
  // A filesystem path. A relative path from a config file is resolved against
  // that file's directory; one from the environment is used as given.
  absl::StatusOr<std::string> GetPath(absl::string_view key) const;

  // Optional getters: `fallback` when the key is absent everywhere; still an
  // error when present but malformed.
  absl::StatusOr<std::string> GetString(absl::string_view key,
                                        absl::string_view fallback) const;
  absl::StatusOr<int64_t> GetInt64(absl::string_view key,
                                   int64_t fallback) const;
  absl::StatusOr<bool> GetBool(absl::string_view key, bool fallback) const;
  absl::StatusOr<absl::Duration> GetDuration(absl::string_view key,
                                             absl::Duration fallback) const;

  bool Has(absl::string_view key) const;
  // Keys present in the file (not env-only ones), sorted; lets a service
  // reject settings it does not know.
  std::vector<std::string> FileKeys() const;

 private:
  struct Entry {
    std::string value;
    std::string origin;  // "file:line"
  };
  struct Value {
    std::string value;
    std::string origin;  // "file:line" or "env NAME"
    bool from_env;
  };

  explicit Config(EnvLookup env) : env_(std::move(env)) {}
  std::optional<Value> Lookup(absl::string_view key) const;
  absl::StatusOr<Value> Require(absl::string_view key) const;

  std::map<std::string, Entry, std::less<>> entries_;
  std::string base_dir_;  // directory of the loaded file, empty for Parse()
  EnvLookup env_;
};

}  // namespace mutualaid

#endif  // MUTUALAID_CORE_CONFIG_H_

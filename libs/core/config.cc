#include "mutualaid/core/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mutualaid {
namespace {

bool IsKeyChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == '-';
}

absl::Status Malformed(absl::string_view key, absl::string_view origin,
                       absl::string_view value, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat("config key \"", key,
                                                 "\" (", origin, "): \"",
                                                 value, "\" is not ", expected));
}

}  // namespace

Config::EnvLookup Config::ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string Config::EnvName(absl::string_view key) {
  std::string name = "MUTUALAID_";
  for (char c : key) {
    name += (c == '.' || c == '-')
                ? '_'
                : absl::ascii_toupper(static_cast<unsigned char>(c));
  }
  return name;
}

absl::StatusOr<Config> Config::LoadFile(const std::string& path,
                                        EnvLookup env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("config file ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  absl::StatusOr<Config> config = Parse(buf.str(), path, std::move(env));
  if (!config.ok()) return config.status();
  config->base_dir_ = std::filesystem::path(path).parent_path().string();
  return config;
}

absl::StatusOr<Config> Config::Parse(absl::string_view text,
                                     absl::string_view source, EnvLookup env) {
  Config config(std::move(env));
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);  // also drops a '\r'
    if (line.empty() || line.front() == '#') continue;
    const std::string origin = absl::StrCat(source, ":", line_no);
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", origin, ": expected `key = value`, got \"",
                       line, "\""));
    }
    const absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", origin, ": empty key"));
    }
    for (char c : key) {
      if (!IsKeyChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config key \"", key, "\" (", origin,
            "): keys may contain only letters, digits, '_', '.', '-'"));
      }
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    auto [it, inserted] = config.entries_.try_emplace(
        std::string(key), Entry{std::string(value), origin});
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("config key \"", key, "\" (", origin,
                       "): already set at ", it->second.origin));
    }
  }
  return config;
}

Config Config::FromEnv(EnvLookup env) { return Config(std::move(env)); }

std::optional<Config::Value> Config::Lookup(absl::string_view key) const {
  const std::string env_name = EnvName(key);
  if (env_) {
    if (std::optional<std::string> v = env_(env_name)) {
      return Value{*std::move(v), absl::StrCat("env ", env_name), true};
    }
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return Value{it->second.value, it->second.origin, false};
}

absl::StatusOr<Config::Value> Config::Require(absl::string_view key) const {
  std::optional<Value> v = Lookup(key);
  if (!v) {
    return absl::NotFoundError(absl::StrCat("config key \"", key,
                                            "\" is not set (nor env ",
                                            EnvName(key), ")"));
  }
  return *std::move(v);
}

bool Config::Has(absl::string_view key) const {
  return Lookup(key).has_value();
}

std::vector<std::string> Config::FileKeys() const {
  std::vector<std::string> keys;
  keys.reserve(entries_.size());
  for (const auto& [k, e] : entries_) keys.push_back(k);
  return keys;
}

absl::StatusOr<std::string> Config::GetString(absl::string_view key) const {
  absl::StatusOr<Value> v = Require(key);
  if (!v.ok()) return v.status();
  return std::move(v->value);
}

absl::StatusOr<int64_t> Config::GetInt64(absl::string_view key) const {
  absl::StatusOr<Value> v = Require(key);
  if (!v.ok()) return v.status();
  int64_t out = 0;
  if (!absl::SimpleAtoi(v->value, &out)) {
    return Malformed(key, v->origin, v->value, "a 64-bit integer");
  }
  return out;
}

absl::StatusOr<bool> Config::GetBool(absl::string_view key) const {
  absl::StatusOr<Value> v = Require(key);
  if (!v.ok()) return v.status();
  const std::string s = absl::AsciiStrToLower(v->value);
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return Malformed(key, v->origin, v->value,
                   "a boolean (true/false, yes/no, on/off, 1/0)");
}

absl::StatusOr<absl::Duration> Config::GetDuration(absl::string_view key) const {
  absl::StatusOr<Value> v = Require(key);
  if (!v.ok()) return v.status();
  absl::Duration d;
  int64_t days = 0;
  absl::string_view s = v->value;
  if (absl::ConsumeSuffix(&s, "d") && absl::SimpleAtoi(s, &days) &&
      days >= 0 && days <= 1'000'000) {
    d = absl::Hours(24 * days);
  } else if (!absl::ParseDuration(v->value, &d)) {
    return Malformed(key, v->origin, v->value,
                     "a duration (e.g. 30s, 5m, 1h30m, 250ms, 7d)");
  }
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return Malformed(key, v->origin, v->value,
                     "a finite, non-negative duration");
  }
  return d;
}

absl::StatusOr<std::string> Config::GetPath(absl::string_view key) const {
  absl::StatusOr<Value> v = Require(key);
  if (!v.ok()) return v.status();
  if (v->value.empty()) return Malformed(key, v->origin, v->value, "a path");
  std::filesystem::path p(v->value);
  if (!v->from_env && p.is_relative() && !base_dir_.empty()) {
    p = std::filesystem::path(base_dir_) / p;
  }
  return p.lexically_normal().string();
}

absl::StatusOr<std::string> Config::GetString(absl::string_view key,
                                              absl::string_view fallback) const {
  if (!Has(key)) return std::string(fallback);
  return GetString(key);
}

absl::StatusOr<int64_t> Config::GetInt64(absl::string_view key,
                                         int64_t fallback) const {
  if (!Has(key)) return fallback;
  return GetInt64(key);
}

absl::StatusOr<bool> Config::GetBool(absl::string_view key,
                                     bool fallback) const {
  if (!Has(key)) return fallback;
  return GetBool(key);
}

absl::StatusOr<absl::Duration> Config::GetDuration(
    absl::string_view key, absl::Duration fallback) const {
  if (!Has(key)) return fallback;
  return GetDuration(key);
}

}  // namespace mutualaid

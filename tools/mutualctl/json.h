// A small strict JSON reader (RFC 8259) and the writer helpers mutualctl's
// output needs. Strict: one value, no comments, no trailing commas, no
// duplicate object keys, valid UTF-8, bounded nesting. Numbers keep their
// literal text so integers are read exactly (no double round trip).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_JSON_H_
#define MUTUALAID_TOOLS_MUTUALCTL_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mutualaid::mutualctl {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // a string's value, or a number's literal
  std::vector<JsonValue> items;
  // An object's members in document order: member_names[i] → member_values[i].
  std::vector<std::string> member_names;
  std::vector<JsonValue> member_values;

  const JsonValue* Find(std::string_view key) const;
};

std::string_view KindName(JsonValue::Kind kind);  // "null", "boolean", "number", …

// Parses one JSON document. Errors read "line L column C: what".
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

// An integer literal (-?digits, no fraction or exponent) within ±2^53.
std::optional<int64_t> JsonInteger(const JsonValue& value);

// Appends `text` as a JSON string literal (UTF-8 kept, controls escaped).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_JSON_H_

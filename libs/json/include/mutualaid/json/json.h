// JSON (RFC 8259) for the gateways, the fakes, the ops CLI and the logs: one
// value type, one strict parser, one deterministic writer.
//
// Strict: exactly one value, no comments, no trailing commas, no duplicate
// object keys, valid UTF-8 only, bounded nesting. Objects keep their members in
// document (or insertion) order, so Write(Parse(x)) is stable and output is
// deterministic. Numbers keep their literal text, so integers — money in fen —
// are read exactly, never through a double.
#ifndef MUTUALAID_JSON_JSON_H_
#define MUTUALAID_JSON_JSON_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mutualaid::json {

enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

// "null", "boolean", "number", "string", "array", "object".
std::string_view KindName(Kind kind);

struct Member;
namespace internal {
class Parser;
}  // namespace internal

class Value {
 public:
  // Implicit on purpose, so objects read naturally:
  //   Value::Object({{"amount_fen", amount}, {"status", "CONFIRMED"}, {"reason", nullptr}})
  // (Defined below Member: a vector of an incomplete type must not be
  // instantiated inside this class.)
  Value();  // null
  Value(std::nullptr_t);
  Value(bool b);
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Value(T n);
  Value(std::string s);
  Value(std::string_view s);
  Value(const char* s);
  // Not silently a boolean: say Value::Double(d) if a double is really meant.
  Value(double) = delete;
  Value(float) = delete;
  Value(long double) = delete;

  // A double, written in its shortest round-trip form; NaN and infinities
  // become null (JSON has no spelling for them). Keep doubles away from money.
  static Value Double(double d);
  // A number from its literal text, which must be a valid JSON number.
  static absl::StatusOr<Value> NumberLiteral(std::string_view literal);
  static Value Array();
  static Value Array(std::vector<Value> items);
  static Value Object(std::initializer_list<Member> members);
  static Value Object();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // The boolean; false unless is_bool().
  bool bool_value() const { return bool_; }
  // A string's (unescaped, UTF-8) value; empty unless is_string().
  const std::string& string_value() const;
  // A number's literal text as written ("12", "-0.5e3"); empty unless is_number().
  const std::string& number_literal() const;
  // The number if it is an integer literal (-?digits: no fraction, no
  // exponent) within int64; nullopt otherwise (and for every non-number).
  std::optional<int64_t> Int64() const;
  // The number as the nearest double; nullopt for non-numbers and overflow.
  std::optional<double> AsDouble() const;

  // An array's elements; empty unless is_array().
  const std::vector<Value>& items() const { return items_; }
  // Appends to an array (a null value becomes an empty array first).
  void Append(Value v);

  // An object's members in order; empty unless is_object().
  const std::vector<Member>& members() const { return members_; }
  // The member named `key`, or nullptr (also for non-objects).
  const Value* Find(std::string_view key) const;
  // Replaces the member named `key` in place, or appends it (a null value
  // becomes an empty object first).
  void Set(std::string_view key, Value v);

  // Structural equality: numbers compare by literal text.
  friend bool operator==(const Value& a, const Value& b);

 private:
  friend class internal::Parser;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;  // a string's value or a number's literal
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct Member {
  std::string name;
  Value value;
  friend bool operator==(const Member& a, const Member& b) = default;
};

inline Value::Value() = default;
inline Value::Value(std::nullptr_t) {}
inline Value::Value(bool b) : kind_(Kind::kBool), bool_(b) {}
template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>)
Value::Value(T n) : kind_(Kind::kNumber), text_(std::to_string(n)) {}
inline Value::Value(std::string s) : kind_(Kind::kString), text_(std::move(s)) {}
inline Value::Value(std::string_view s) : kind_(Kind::kString), text_(s) {}
inline Value::Value(const char* s) : kind_(Kind::kString), text_(s) {}

// ---- parsing ---------------------------------------------------------------

struct ParseOptions {
  int max_depth = 64;  // arrays/objects nested deeper are refused
};

// Parses exactly one JSON document (surrounding whitespace allowed). Errors are
// InvalidArgument reading "line L column C: what" (1-based, column in bytes).
absl::StatusOr<Value> Parse(std::string_view text, const ParseOptions& options = {});

// ---- writing ---------------------------------------------------------------

struct WriteOptions {
  // 0: compact, one line, no spaces. N > 0: N spaces per level, "key": value.
  int indent = 0;
};

// Deterministic text: members in order, strings escaped by AppendString.
std::string Write(const Value& value, const WriteOptions& options = {});
void AppendTo(std::string& out, const Value& value, const WriteOptions& options = {});

// Appends `text` as a JSON string literal: '"' '\\' and control characters
// escaped (\n \r \t, others as \u00XX), valid UTF-8 kept as is, each byte of an
// invalid UTF-8 sequence replaced by \ufffd so the output always parses.
void AppendString(std::string& out, std::string_view text);

// ---- reading fields --------------------------------------------------------
// For request bodies: errors are InvalidArgument naming the field,
// e.g. "amount_fen: missing", "amount_fen: not a number (got string)".

absl::StatusOr<const Value*> GetField(const Value& object, std::string_view field, Kind kind);
absl::StatusOr<std::string> GetString(const Value& object, std::string_view field);
absl::StatusOr<int64_t> GetInt64(const Value& object, std::string_view field);
absl::StatusOr<bool> GetBool(const Value& object, std::string_view field);
// An absent or null field gives `fallback`.
absl::StatusOr<std::string> GetOptionalString(const Value& object, std::string_view field,
                                              std::string fallback = "");

}  // namespace mutualaid::json

#endif  // MUTUALAID_JSON_JSON_H_

#include "mutualaid/json/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mutualaid::json {
namespace internal {

// The strict reader (RFC 8259). Error text is stable: mutualctl's scenario
// tests compare it byte for byte.
class Parser {
 public:
  Parser(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  absl::StatusOr<Value> ParseDocument() {
    Value value;
    SkipSpace();
    if (!ParseValue(value, 0)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the JSON value");
      return Error();
    }
    return value;
  }

 private:
  absl::Status Error() const {
    // Line and column (in bytes, 1-based) of the failure position.
    int line = 1;
    int column = 1;
    for (size_t i = 0; i < error_pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("line ", line, " column ", column, ": ", error_));
  }

  bool Fail(std::string message) {
    if (error_.empty()) {
      error_ = std::move(message);
      error_pos_ = pos_;
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Value& out, int depth) {
    if (depth > max_depth_) return Fail("nesting too deep");
    if (pos_ >= text_.size()) return Fail("unexpected end of input");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(out, depth);
      case '[':
        return ParseArray(out, depth);
      case '"':
        out.kind_ = Kind::kString;
        return ParseString(out.text_);
      case 't':
        out.kind_ = Kind::kBool;
        out.bool_ = true;
        return Literal("true");
      case 'f':
        out.kind_ = Kind::kBool;
        out.bool_ = false;
        return Literal("false");
      case 'n':
        out.kind_ = Kind::kNull;
        return Literal("null");
      default:
        if (text_[pos_] == '-' || IsDigit(text_[pos_])) return ParseNumber(out);
        return Fail("expected a JSON value");
    }
  }

  bool ParseObject(Value& out, int depth) {
    out.kind_ = Kind::kObject;
    // Duplicate keys: a linear scan for small objects, a set past that.
    absl::flat_hash_set<std::string> seen;
    ++pos_;  // {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unexpected end of input in an object");
      if (text_[pos_] != '"') return Fail("expected a string key");
      std::string key;
      if (!ParseString(key)) return false;
      if (IsDuplicate(out, seen, key)) return Fail(absl::StrCat("duplicate key \"", key, "\""));
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      Value value;
      if (!ParseValue(value, depth + 1)) return false;
      out.members_.push_back(Member{std::move(key), std::move(value)});
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unexpected end of input in an object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }

  bool ParseArray(Value& out, int depth) {
    out.kind_ = Kind::kArray;
    ++pos_;  // [
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      Value value;
      if (!ParseValue(value, depth + 1)) return false;
      out.items_.push_back(std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unexpected end of input in an array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool ParseNumber(Value& out) {
    const size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Fail("invalid number");
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Fail("invalid number");
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) return Fail("invalid number");
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    out.kind_ = Kind::kNumber;
    out.text_ = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ParseHex4(char32_t* out) {
    if (pos_ + 4 > text_.size()) return Fail("truncated \\u escape");
    char32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = HexValue(text_[pos_ + i]);
      if (h < 0) return Fail("invalid \\u escape");
      value = value * 16 + static_cast<char32_t>(h);
    }
    pos_ += 4;
    *out = value;
    return true;
  }

  static void AppendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Copies one raw UTF-8 sequence, checking it is well formed.
  bool CopyUtf8(std::string& out) {
    const auto b0 = static_cast<unsigned char>(text_[pos_]);
    int length;
    char32_t cp;
    if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      cp = b0 & 0x07;
    } else {
      return Fail("invalid UTF-8");
    }
    if (pos_ + length > text_.size()) return Fail("invalid UTF-8");
    for (int i = 1; i < length; ++i) {
      const auto b = static_cast<unsigned char>(text_[pos_ + i]);
      if ((b & 0xC0) != 0x80) return Fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr char32_t kMinimum[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Fail("invalid UTF-8");
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
    return true;
  }

  bool ParseString(std::string& out) {
    ++pos_;  // "
    while (true) {
      if (pos_ >= text_.size()) return Fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (static_cast<unsigned char>(c) >= 0x80) {
        if (!CopyUtf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= text_.size()) return Fail("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          char32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("unpaired surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") return Fail("unpaired surrogate in \\u escape");
            pos_ += 2;
            char32_t low;
            if (!ParseHex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return Fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          --pos_;
          return Fail("invalid escape");
      }
    }
  }

  static bool IsDuplicate(const Value& object, absl::flat_hash_set<std::string>& seen,
                          const std::string& key) {
    constexpr size_t kLinear = 16;
    const std::vector<Member>& members = object.members_;
    if (members.size() < kLinear) {
      for (const Member& m : members) {
        if (m.name == key) return true;
      }
      return false;
    }
    if (seen.empty()) {
      for (const Member& m : members) seen.insert(m.name);
    }
    return !seen.insert(key).second;
  }

  std::string_view text_;
  int max_depth_;
  size_t pos_ = 0;
  std::string error_;
  size_t error_pos_ = 0;
};

}  // namespace internal

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The whole of `literal` is one JSON number.
bool IsNumberLiteral(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !IsDigit(s[i])) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i == s.size();
}

const std::string& EmptyString() {
  static const std::string* const empty = new std::string();
  return *empty;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t length;
  char32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMinimum[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

void AppendIndent(std::string& out, int indent, int depth) {
  out.push_back('\n');
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' ');
}

void AppendValue(std::string& out, const Value& value, int indent, int depth) {
  switch (value.kind()) {
    case Kind::kNull:
      out.append("null");
      return;
    case Kind::kBool:
      out.append(value.bool_value() ? "true" : "false");
      return;
    case Kind::kNumber:
      out.append(value.number_literal());
      return;
    case Kind::kString:
      AppendString(out, value.string_value());
      return;
    case Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : value.items()) {
        if (!first) out.push_back(',');
        first = false;
        if (indent > 0) AppendIndent(out, indent, depth + 1);
        AppendValue(out, item, indent, depth + 1);
      }
      if (indent > 0 && !value.items().empty()) AppendIndent(out, indent, depth);
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      out.push_back('{');
      bool first = true;
      for (const Member& member : value.members()) {
        if (!first) out.push_back(',');
        first = false;
        if (indent > 0) AppendIndent(out, indent, depth + 1);
        AppendString(out, member.name);
        out.append(indent > 0 ? ": " : ":");
        AppendValue(out, member.value, indent, depth + 1);
      }
      if (indent > 0 && !value.members().empty()) AppendIndent(out, indent, depth);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

Value Value::Double(double d) {
  if (!std::isfinite(d)) return Value();
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
  Value v;
  v.kind_ = Kind::kNumber;
  v.text_.assign(buffer, result.ptr);
  // to_chars may print "1e+20"; JSON allows that. It never prints "inf"/"nan" here.
  return v;
}

absl::StatusOr<Value> Value::NumberLiteral(std::string_view literal) {
  if (!IsNumberLiteral(literal)) {
    return absl::InvalidArgumentError(absl::StrCat("not a JSON number: \"", std::string(literal), "\""));
  }
  Value v;
  v.kind_ = Kind::kNumber;
  v.text_ = std::string(literal);
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kArray;
  v.items_ = std::move(items);
  return v;
}

Value Value::Array() {
  Value v;
  v.kind_ = Kind::kArray;
  return v;
}

Value Value::Object() {
  Value v;
  v.kind_ = Kind::kObject;
  return v;
}

Value Value::Object(std::initializer_list<Member> members) {
  Value v = Object();
  for (const Member& m : members) v.Set(m.name, m.value);
  return v;
}

const std::string& Value::string_value() const {
  return kind_ == Kind::kString ? text_ : EmptyString();
}

const std::string& Value::number_literal() const {
  return kind_ == Kind::kNumber ? text_ : EmptyString();
}

std::optional<int64_t> Value::Int64() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  std::string_view digits = text_;
  for (size_t i = digits.front() == '-' ? 1 : 0; i < digits.size(); ++i) {
    if (!IsDigit(digits[i])) return std::nullopt;  // a fraction or an exponent
  }
  int64_t n = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) return std::nullopt;
  return n;
}

std::optional<double> Value::AsDouble() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  double d = 0;
  const auto result = std::from_chars(text_.data(), text_.data() + text_.size(), d);
  if (result.ec != std::errc() || !std::isfinite(d)) return std::nullopt;
  return d;
}

void Value::Append(Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kArray;
  if (kind_ != Kind::kArray) return;
  items_.push_back(std::move(v));
}

const Value* Value::Find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.name == key) return &m.value;
  }
  return nullptr;
}

void Value::Set(std::string_view key, Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  if (kind_ != Kind::kObject) return;
  for (Member& m : members_) {
    if (m.name == key) {
      m.value = std::move(v);
      return;
    }
  }
  members_.push_back(Member{std::string(key), std::move(v)});
}

bool operator==(const Value& a, const Value& b) {
  return a.kind_ == b.kind_ && a.bool_ == b.bool_ && a.text_ == b.text_ && a.items_ == b.items_ &&
         a.members_ == b.members_;
}

absl::StatusOr<Value> Parse(std::string_view text, const ParseOptions& options) {
  return internal::Parser(text, options.max_depth).ParseDocument();
}

std::string Write(const Value& value, const WriteOptions& options) {
  std::string out;
  AppendTo(out, value, options);
  return out;
}

void AppendTo(std::string& out, const Value& value, const WriteOptions& options) {
  AppendValue(out, value, options.indent, 0);
}

void AppendString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (u < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
          out.append(buffer);
        } else {
          out.push_back(c);
        }
    }
    ++i;
  }
  out.push_back('"');
}

absl::StatusOr<const Value*> GetField(const Value& object, std::string_view field, Kind kind) {
  const Value* value = object.Find(field);
  if (value == nullptr) return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": missing"));
  if (value->kind() != kind) {
    const std::string_view name = KindName(kind);
    const bool vowel = name.front() == 'a' || name.front() == 'o';
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), vowel ? ": not an " : ": not a ", std::string(name),
                     " (got ", std::string(KindName(value->kind())), ")"));
  }
  return value;
}

absl::StatusOr<std::string> GetString(const Value& object, std::string_view field) {
  absl::StatusOr<const Value*> value = GetField(object, field, Kind::kString);
  if (!value.ok()) return value.status();
  return (*value)->string_value();
}

absl::StatusOr<int64_t> GetInt64(const Value& object, std::string_view field) {
  absl::StatusOr<const Value*> value = GetField(object, field, Kind::kNumber);
  if (!value.ok()) return value.status();
  const std::optional<int64_t> n = (*value)->Int64();
  if (!n.has_value()) return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": not an integer"));
  return *n;
}

absl::StatusOr<bool> GetBool(const Value& object, std::string_view field) {
  absl::StatusOr<const Value*> value = GetField(object, field, Kind::kBool);
  if (!value.ok()) return value.status();
  return (*value)->bool_value();
}

absl::StatusOr<std::string> GetOptionalString(const Value& object, std::string_view field,
                                              std::string fallback) {
  const Value* value = object.Find(field);
  if (value == nullptr || value->is_null()) return fallback;
  return GetString(object, field);
}

}  // namespace mutualaid::json

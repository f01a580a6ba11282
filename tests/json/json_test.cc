#include "mutualaid/json/json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace mutualaid::json {
namespace {

std::string ErrorOf(std::string_view text) {
  absl::StatusOr<Value> v = Parse(text);
  EXPECT_FALSE(v.ok()) << text;
  if (v.ok()) return "";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(v.status().message());
}

TEST(ParseTest, Scalars) {
  EXPECT_TRUE(Parse("null")->is_null());
  EXPECT_TRUE(Parse(" true ")->bool_value());
  EXPECT_FALSE(Parse("false")->bool_value());
  EXPECT_EQ(Parse("\"a\"")->string_value(), "a");
  EXPECT_EQ(Parse("-12")->Int64(), -12);
  EXPECT_EQ(Parse("0")->Int64(), 0);
  EXPECT_EQ(Parse("1.5")->number_literal(), "1.5");
  EXPECT_EQ(Parse("1.5")->Int64(), std::nullopt);
  EXPECT_EQ(Parse("1e2")->Int64(), std::nullopt);
  EXPECT_EQ(Parse("1.5")->AsDouble(), 1.5);
  EXPECT_EQ(Parse("\"1\"")->Int64(), std::nullopt);
}

TEST(ParseTest, IntegersAreExactOverTheWholeInt64Range) {
  EXPECT_EQ(Parse("9223372036854775807")->Int64(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Parse("-9223372036854775808")->Int64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Parse("9223372036854775808")->Int64(), std::nullopt);
  // 2^53 + 1 would be rounded by a double; here it is not.
  EXPECT_EQ(Parse("9007199254740993")->Int64(), int64_t{9007199254740993});
}

TEST(ParseTest, ObjectsKeepDocumentOrder) {
  absl::StatusOr<Value> v = Parse(R"({"b": 1, "a": [true, null, "x"], "c": {}})");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->members().size(), 3u);
  EXPECT_EQ(v->members()[0].name, "b");
  EXPECT_EQ(v->members()[1].name, "a");
  EXPECT_EQ(v->members()[2].name, "c");
  ASSERT_NE(v->Find("a"), nullptr);
  EXPECT_EQ(v->Find("a")->items().size(), 3u);
  EXPECT_EQ(v->Find("zz"), nullptr);
  EXPECT_TRUE(v->Find("c")->is_object());
}

TEST(ParseTest, StringEscapesAndUtf8) {
  EXPECT_EQ(Parse(R"("\"\\\/\b\f\n\r\t")")->string_value(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(Parse(R"("\u4e92\u52a9")")->string_value(), "互助");
  EXPECT_EQ(Parse(R"("\ud83d\ude00")")->string_value(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(Parse("\"上海\"")->string_value(), "上海");
}

TEST(ParseTest, ErrorsNameLineAndColumn) {
  EXPECT_EQ(ErrorOf(""), "line 1 column 1: unexpected end of input");
  EXPECT_EQ(ErrorOf("{\"a\":1,\"a\":2}"), "line 1 column 11: duplicate key \"a\"");
  EXPECT_EQ(ErrorOf("{\n  \"a\": 1,\n}"), "line 3 column 1: expected a string key");
  EXPECT_EQ(ErrorOf("[1,]"), "line 1 column 4: expected a JSON value");
  EXPECT_EQ(ErrorOf("[1 2]"), "line 1 column 4: expected ',' or ']'");
  EXPECT_EQ(ErrorOf("1 2"), "line 1 column 3: unexpected text after the JSON value");
  EXPECT_EQ(ErrorOf("tru"), "line 1 column 1: invalid literal");
  EXPECT_EQ(ErrorOf("01"), "line 1 column 2: unexpected text after the JSON value");
  EXPECT_EQ(ErrorOf("-"), "line 1 column 2: invalid number");
  EXPECT_EQ(ErrorOf("\"a\nb\""), "line 1 column 3: control character in a string");
  EXPECT_EQ(ErrorOf(R"("\x")"), "line 1 column 3: invalid escape");
  EXPECT_EQ(ErrorOf(R"("\ud800")"), "line 1 column 8: unpaired surrogate in \\u escape");
  EXPECT_EQ(ErrorOf("\"\xC3\x28\""), "line 1 column 2: invalid UTF-8");
  EXPECT_EQ(ErrorOf("\"\xE0\x80\xAF\""), "line 1 column 2: invalid UTF-8");  // overlong
  EXPECT_EQ(ErrorOf("\"abc"), "line 1 column 5: unterminated string");
  EXPECT_EQ(ErrorOf("// comment\n1"), "line 1 column 1: expected a JSON value");
}

TEST(ParseTest, NestingIsBounded) {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  EXPECT_TRUE(Parse(deep).ok());
  std::string deeper(66, '[');
  deeper += std::string(66, ']');
  EXPECT_EQ(ErrorOf(deeper), "line 1 column 66: nesting too deep");
  EXPECT_FALSE(Parse(deep, ParseOptions{.max_depth = 10}).ok());
}

TEST(ParseTest, ManyKeysStillCatchDuplicates) {
  std::string text = "{";
  for (int i = 0; i < 200; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_TRUE(Parse(text + "\"last\":0}").ok());
  EXPECT_EQ(Parse(text + "\"k150\":0}").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WriteTest, CompactAndDeterministic) {
  Value v = Value::Object({{"idempotency_key", "claim-1"},
                           {"amount_fen", int64_t{123456}},
                           {"ok", true},
                           {"none", nullptr},
                           {"list", Value::Array({1, "two", Value::Array()})},
                           {"empty", Value::Object()}});
  EXPECT_EQ(Write(v),
            R"({"idempotency_key":"claim-1","amount_fen":123456,"ok":true,"none":null,)"
            R"("list":[1,"two",[]],"empty":{}})");
}

TEST(WriteTest, Indented) {
  Value v = Value::Object({{"a", 1}, {"b", Value::Array({true})}});
  EXPECT_EQ(Write(v, WriteOptions{.indent = 2}), "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}");
}

TEST(WriteTest, StringEscaping) {
  std::string out;
  AppendString(out, "q\"b\\n\nr\rt\t\x01\x1f/上");
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\nr\\rt\\t\\u0001\\u001f/上\"");
  out.clear();
  AppendString(out, std::string("a\0b", 3));
  EXPECT_EQ(out, "\"a\\u0000b\"");
}

TEST(WriteTest, InvalidUtf8IsReplacedSoOutputAlwaysParses) {
  std::string out;
  AppendString(out, "ok\xFF\xC3(end");
  EXPECT_EQ(out, "\"ok\\ufffd\\ufffd(end\"");
  EXPECT_TRUE(Parse(out).ok());
}

TEST(WriteTest, RoundTrip) {
  const std::string text =
      R"({"a":[1,-2.5e10,"x\u0000y",{"b":null}],"c":"互助","d":false,"e":9223372036854775807})";
  absl::StatusOr<Value> v = Parse(text);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(Write(*v), R"({"a":[1,-2.5e10,"x\u0000y",{"b":null}],"c":"互助","d":false,)"
                       R"("e":9223372036854775807})");
  absl::StatusOr<Value> again = Parse(Write(*v, WriteOptions{.indent = 4}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *v);
}

static_assert(!std::is_constructible_v<Value, double>, "a double must not become a boolean");
static_assert(std::is_constructible_v<Value, int64_t>);

TEST(ValueTest, BuildAndEdit) {
  Value v;
  v.Set("x", 1);
  v.Set("y", "s");
  v.Set("x", 2);  // replaced in place, order kept
  EXPECT_EQ(Write(v), R"({"x":2,"y":"s"})");
  Value list;
  list.Append(uint64_t{18446744073709551615u});
  list.Append(int16_t{-3});
  EXPECT_EQ(Write(list), "[18446744073709551615,-3]");
  EXPECT_EQ(list.items()[0].Int64(), std::nullopt);  // beyond int64
  EXPECT_EQ(Write(Value::Double(0.1)), "0.1");
  EXPECT_EQ(Write(Value::Double(std::numeric_limits<double>::infinity())), "null");
  EXPECT_TRUE(Value::NumberLiteral("-0.5e3").ok());
  EXPECT_FALSE(Value::NumberLiteral("0x10").ok());
  EXPECT_FALSE(Value::NumberLiteral("").ok());
  EXPECT_EQ(Value("text").string_value(), "text");  // not converted to bool
  EXPECT_EQ(Value(std::string_view("sv")).kind(), Kind::kString);
  EXPECT_EQ(Value(3).number_literal(), "3");
  EXPECT_EQ(Value(3).string_value(), "");
}

TEST(FieldsTest, ErrorsNameTheField) {
  absl::StatusOr<Value> v = Parse(R"({"s":"x","n":5,"f":1.5,"b":true,"z":null})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*GetString(*v, "s"), "x");
  EXPECT_EQ(*GetInt64(*v, "n"), 5);
  EXPECT_EQ(*GetBool(*v, "b"), true);
  EXPECT_EQ(GetString(*v, "missing").status().message(), "missing: missing");
  EXPECT_EQ(GetString(*v, "n").status().message(), "n: not a string (got number)");
  EXPECT_EQ(GetInt64(*v, "s").status().message(), "s: not a number (got string)");
  EXPECT_EQ(GetInt64(*v, "f").status().message(), "f: not an integer");
  EXPECT_EQ(GetField(*v, "s", Kind::kObject).status().message(), "s: not an object (got string)");
  EXPECT_EQ(*GetOptionalString(*v, "z", "dflt"), "dflt");
  EXPECT_EQ(*GetOptionalString(*v, "absent"), "");
  EXPECT_FALSE(GetOptionalString(*v, "n").ok());
}

}  // namespace
}  // namespace mutualaid::json

#include "mutualaid/core/log.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mutualaid {
namespace {

using ::testing::HasSubstr;

class CapturingSink : public LogSink {
 public:
  void Write(absl::string_view line) override {
    absl::MutexLock lock(&mu_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_;
};

std::string Json(absl::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(LogTest, LineShape) {
  SimulatedClock clock(ShanghaiTime(absl::CivilDay(2025, 3, 1), 9, 0, 0) +
                       absl::Milliseconds(42));
  CapturingSink sink;
  Logger log("claims", &clock, &sink);
  log.Info("claim accepted", {{"claim_id", "c-17"},
                              {"amount_fen", int64_t{120000}},
                              {"paid", false},
                              {"day", absl::CivilDay(2025, 3, 1)},
                              {"wait", absl::Seconds(90)}});
  ASSERT_EQ(sink.lines().size(), 1u);
  EXPECT_EQ(sink.lines()[0],
            "{\"ts\":\"2025-03-01T09:00:00.042+08:00\",\"level\":\"info\","
            "\"component\":\"claims\",\"msg\":\"claim accepted\","
            "\"claim_id\":\"c-17\",\"amount_fen\":120000,\"paid\":false,"
            "\"day\":\"2025-03-01\",\"wait\":\"1m30s\"}\n");
}

TEST(LogTest, LevelFilter) {
  SimulatedClock clock;
  CapturingSink sink;
  Logger log("x", &clock, &sink, LogLevel::kWarning);
  log.Debug("d");
  log.Info("i");
  log.Warning("w");
  log.Error("e", {{"status", absl::NotFoundError("gone")}});
  ASSERT_EQ(sink.lines().size(), 2u);
  EXPECT_THAT(sink.lines()[0], HasSubstr("\"level\":\"warning\""));
  EXPECT_THAT(sink.lines()[1], HasSubstr("\"level\":\"error\""));
  EXPECT_THAT(sink.lines()[1], HasSubstr("\"status\":\"NOT_FOUND: gone\""));
  log.set_min_level(LogLevel::kDebug);
  log.Debug("d");
  EXPECT_EQ(sink.lines().size(), 3u);
}

TEST(LogTest, Escaping) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(Json(std::string("nul\0bel\x07", 8)), "\"nul\\u0000bel\\u0007\"");
  EXPECT_EQ(Json("\x7f"), "\"\\u007f\"");
  // UTF-8 passes through unchanged.
  EXPECT_EQ(Json("张三 🙂"), "\"张三 🙂\"");
  // Invalid UTF-8 (stray continuation, truncated sequence, overlong '/',
  // surrogate) becomes U+FFFD, one per bad byte, so the line stays valid.
  EXPECT_EQ(Json("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(Json("\xE5\xBC"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xED\xA0\x80"),
            "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(LogTest, FieldKeysAndMessageAreEscaped) {
  SimulatedClock clock;
  CapturingSink sink;
  Logger log("com\"p", &clock, &sink);
  log.Info("line1\nline2", {{"we\"ird", "v\\al"}, {"msg", "shadow"}});
  const std::string line = sink.lines().at(0);
  EXPECT_THAT(line, HasSubstr("\"component\":\"com\\\"p\""));
  EXPECT_THAT(line, HasSubstr("\"msg\":\"line1\\nline2\""));
  EXPECT_THAT(line, HasSubstr("\"we\\\"ird\":\"v\\\\al\""));
  EXPECT_THAT(line, HasSubstr("\"_msg\":\"shadow\""));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogTest, ConcurrentLinesStayWhole) {
  SimulatedClock clock;
  CapturingSink sink;
  Logger log("c", &clock, &sink);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 250; ++i) log.Info("m", {{"t", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  const std::vector<std::string> lines = sink.lines();
  ASSERT_EQ(lines.size(), 1000u);
  for (const std::string& l : lines) {
    EXPECT_EQ(l.front(), '{');
    EXPECT_EQ(l.substr(l.size() - 2), "}\n");
  }
}

TEST(MaskTest, IdNumber) {
  EXPECT_EQ(MaskIdNumber("310101199003071234"), "3101************34");
  EXPECT_EQ(MaskIdNumber(" 31010119900307123X "), "3101************3X");
  EXPECT_EQ(MaskIdNumber("1234567"), "1234*67");
  EXPECT_EQ(MaskIdNumber("123456"), "******");
  EXPECT_EQ(MaskIdNumber(""), "");
}

TEST(MaskTest, Phone) {
  EXPECT_EQ(MaskPhone("13800138000"), "138****8000");
  EXPECT_EQ(MaskPhone("02112345678"), "021****5678");
  EXPECT_EQ(MaskPhone("1234567"), "*******");
}

TEST(MaskTest, CardNumber) {
  EXPECT_EQ(MaskCardNumber("6222021234561234"), "**** 1234");
  EXPECT_EQ(MaskCardNumber("6222 0212 3456 9876"), "**** 9876");
  EXPECT_EQ(MaskCardNumber("6222-0212-3456-0001"), "**** 0001");
  EXPECT_EQ(MaskCardNumber("123"), "****");
}

TEST(MaskTest, NameKeepsFirstCodePoint) {
  EXPECT_EQ(MaskName("张三丰"), "张*");
  EXPECT_EQ(MaskName("张三"), "张*");
  EXPECT_EQ(MaskName("欧阳娜娜"), "欧*");
  EXPECT_EQ(MaskName("𠀋先生"), "𠀋*");  // 4-byte code point stays whole
  EXPECT_EQ(MaskName("Li Lei"), "L*");
  EXPECT_EQ(MaskName(" 王五 "), "王*");
  EXPECT_EQ(MaskName(""), "");
  EXPECT_EQ(MaskName("\xE5\xBC"), "\xEF\xBF\xBD*");  // truncated: U+FFFD
}

TEST(MaskTest, MaskedValuesInLogLineAreValidUtf8Json) {
  SimulatedClock clock;
  CapturingSink sink;
  Logger log("enrollment", &clock, &sink);
  log.Info("enrolled", {{"name", MaskName("张三")},
                        {"id", MaskIdNumber("310101199003071234")},
                        {"phone", MaskPhone("13800138000")}});
  const std::string line = sink.lines().at(0);
  EXPECT_THAT(line, HasSubstr("\"name\":\"张*\""));
  EXPECT_THAT(line, HasSubstr("\"id\":\"3101************34\""));
  EXPECT_THAT(line, HasSubstr("\"phone\":\"138****8000\""));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("310101199003071234")));
}

}  // namespace
}  // namespace mutualaid

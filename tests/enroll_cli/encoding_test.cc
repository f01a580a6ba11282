#include "mutualaid/csv/encoding.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mutualaid::csv {
namespace {

using ::testing::HasSubstr;

// GBK bytes, written out so the test does not depend on the converter it tests.
constexpr char kGbkZhangSan[] = "\xD5\xC5\xC8\xFD";                  // 张三
constexpr char kGbkFoodDelivery[] = "\xCD\xF8\xD4\xBC\xCB\xCD\xB2\xCD";  // 网约送餐
constexpr char kGbkRecordId[] = "\xBC\xC7\xC2\xBC\xB1\xE0\xBA\xC5";      // 记录编号

TEST(Utf8Test, FindsTheFirstIllFormedByte) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("张三·买买提 \xF0\x9F\x9A\xB2"));  // includes a 4-byte emoji
  EXPECT_EQ(FindInvalidUtf8("ab\xFFz"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);      // surrogate D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("x\xE5\xBC"), 1u);         // truncated at the end
  EXPECT_EQ(FindInvalidUtf8(kGbkZhangSan), 0u);
}

TEST(ParseEncodingTest, NamesAndAliases) {
  EXPECT_EQ(ParseEncoding("auto"), Encoding::kAuto);
  EXPECT_EQ(ParseEncoding("UTF-8"), Encoding::kUtf8);
  EXPECT_EQ(ParseEncoding("utf8"), Encoding::kUtf8);
  EXPECT_EQ(ParseEncoding("gbk"), Encoding::kGbk);
  EXPECT_EQ(ParseEncoding("CP936"), Encoding::kGbk);
  EXPECT_EQ(ParseEncoding("latin1"), std::nullopt);
  EXPECT_EQ(EncodingName(Encoding::kGbk), "GBK");
}

TEST(DecodeTest, Utf8WithAndWithoutBom) {
  auto plain = DecodeToUtf8("姓名\n张三\n", Encoding::kAuto);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->utf8, "姓名\n张三\n");
  EXPECT_EQ(plain->encoding, Encoding::kUtf8);
  EXPECT_FALSE(plain->had_bom);

  auto bom = DecodeToUtf8("\xEF\xBB\xBF姓名\n", Encoding::kAuto);
  ASSERT_TRUE(bom.ok()) << bom.status();
  EXPECT_EQ(bom->utf8, "姓名\n");
  EXPECT_TRUE(bom->had_bom);

  auto forced = DecodeToUtf8("\xEF\xBB\xBFname\n", Encoding::kUtf8);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->utf8, "name\n");
}

TEST(DecodeTest, GbkIsDetected) {
  const std::string bytes = std::string(kGbkRecordId) + ",name\r\n1," + kGbkZhangSan + "," +
                            kGbkFoodDelivery + "\r\n";
  auto text = DecodeToUtf8(bytes, Encoding::kAuto);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->encoding, Encoding::kGbk);
  EXPECT_EQ(text->utf8, "记录编号,name\r\n1,张三,网约送餐\r\n");

  auto forced = DecodeToUtf8(bytes, Encoding::kGbk);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->utf8, text->utf8);
}

TEST(DecodeTest, AsciiIsUtf8) {
  auto text = DecodeToUtf8("a,b\n1,2\n", Encoding::kAuto);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->encoding, Encoding::kUtf8);
  auto as_gbk = DecodeToUtf8("a,b\n1,2\n", Encoding::kGbk);
  ASSERT_TRUE(as_gbk.ok());
  EXPECT_EQ(as_gbk->utf8, "a,b\n1,2\n");
}

TEST(DecodeTest, NeitherUtf8NorGbkNamesTheLine) {
  auto text = DecodeToUtf8("a,b\r\n1,2\r\n3,\xFF\xFF\r\n", Encoding::kAuto);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("line 3"));
  EXPECT_THAT(text.status().message(), HasSubstr("neither valid UTF-8 nor valid GBK"));
}

TEST(DecodeTest, MixedUtf8AndGbkIsAmbiguous) {
  // Line 2 is UTF-8 张三, line 3 GBK 张三: both decode as GBK, so guessing
  // would garble one of them.
  auto text = DecodeToUtf8(std::string("name\n张三\n") + kGbkZhangSan + "\n", Encoding::kAuto);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("cannot tell the encoding"));
  EXPECT_THAT(text.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(text.status().message(), HasSubstr("line 3"));
  EXPECT_THAT(text.status().message(), HasSubstr("--encoding"));
  // Forcing GBK reads it (line 2 turns into mojibake, which is what was asked for).
  EXPECT_TRUE(DecodeToUtf8(std::string("name\n张三\n") + kGbkZhangSan + "\n", Encoding::kGbk).ok());
}

TEST(DecodeTest, ForcedUtf8RefusesGbkNamingTheLine) {
  auto text = DecodeToUtf8(std::string("name\nok\n") + kGbkZhangSan + "\n", Encoding::kUtf8);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("line 3: not valid UTF-8 (byte 0xD5)"));
}

TEST(DecodeTest, ForcedGbkRefusesInvalidBytesNamingTheLine) {
  auto text = DecodeToUtf8("a\nb\n\xFF\xFF\n", Encoding::kGbk);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("line 3: not valid GBK"));
}

TEST(DecodeTest, BomContradictingGbkAndUtf16AreRefused) {
  EXPECT_THAT(DecodeToUtf8("\xEF\xBB\xBFname\n", Encoding::kGbk).status().message(),
              HasSubstr("byte-order mark"));
  EXPECT_THAT(DecodeToUtf8(std::string("\xFF\xFEn\0", 4), Encoding::kAuto).status().message(),
              HasSubstr("UTF-16"));
  // A BOM promises UTF-8: invalid bytes after it are an error, not a reason to try GBK.
  auto text = DecodeToUtf8(std::string("\xEF\xBB\xBFname\n") + kGbkZhangSan, Encoding::kAuto);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("line 2: not valid UTF-8"));
}

}  // namespace
}  // namespace mutualaid::csv

#include "mutualaid/plan/validation.h"

#include <string>

#include "gtest/gtest.h"
#include "test_util.h"

namespace mutualaid::plan {
namespace {

using testing::Day;
using testing::IdFor;

const Day kApplied(2022, 5, 10);

TEST(ValidationTest, CheckCharMod11_2) {
  EXPECT_EQ(IdNumberCheckChar("11010519491231002"), 'X');  // GB 11643 sample
  EXPECT_EQ(IdNumberCheckChar("31010119900101123"), '4');  // scenario-format.md's example
  EXPECT_EQ(IdNumberCheckChar("44052418800101001"), '4');
  EXPECT_EQ(IdNumberCheckChar("1101051949123100"), '\0');   // 16 digits
  EXPECT_EQ(IdNumberCheckChar("1101051949123100A"), '\0');
}

TEST(ValidationTest, ScenarioFormatExampleIdIsValid) {
  const absl::StatusOr<IdNumber> id = ParseIdNumber("310101199001011234", kApplied);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->birth_date, Day(1990, 1, 1));
  EXPECT_EQ(id->province_code, 31);
}

TEST(ValidationTest, LowerCaseXIsNormalised) {
  const absl::StatusOr<IdNumber> id = ParseIdNumber("11010519491231002x", kApplied);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->normalized, "11010519491231002X");
  EXPECT_EQ(NormalizeIdNumberText(" 11010519491231002x "), "11010519491231002X");
}

TEST(ValidationTest, WrongCheckCharIsRejected) {
  EXPECT_FALSE(ParseIdNumber("310101199001011235", kApplied).ok());
  EXPECT_FALSE(ParseIdNumber("11010519491231002Y", kApplied).ok());
  EXPECT_FALSE(ParseIdNumber("110105194912310021", kApplied).ok());
}

TEST(ValidationTest, LengthAndCharacters) {
  EXPECT_FALSE(ParseIdNumber("310101900101123", kApplied).ok());  // 15-digit
  EXPECT_FALSE(ParseIdNumber("31010119900101123", kApplied).ok());
  EXPECT_FALSE(ParseIdNumber("3101011990010112344", kApplied).ok());
  EXPECT_FALSE(ParseIdNumber("31010119900101A234", kApplied).ok());
  EXPECT_FALSE(ParseIdNumber("", kApplied).ok());
  EXPECT_TRUE(ParseIdNumber(" 310101199001011234\n", kApplied).ok());
}

TEST(ValidationTest, ProvinceCodes) {
  for (int code : {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
                   46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}) {
    EXPECT_TRUE(IsValidProvinceCode(code)) << code;
    const std::string region = std::to_string(code) + "0101";
    EXPECT_TRUE(ParseIdNumber(IdFor(Day(1990, 1, 1), "123", region), kApplied).ok()) << code;
  }
  for (int code : {0, 10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 83, 91, 99}) {
    EXPECT_FALSE(IsValidProvinceCode(code)) << code;
    char region[8];
    std::snprintf(region, sizeof region, "%02d0101", code);
    EXPECT_FALSE(ParseIdNumber(IdFor(Day(1990, 1, 1), "123", region), kApplied).ok()) << code;
  }
}

TEST(ValidationTest, BirthDateMustBeRealAndNotAfterApplication) {
  // 1990-02-30 does not exist; give it a correct check char anyway.
  const std::string first17 = "31010119900230123";
  EXPECT_FALSE(ParseIdNumber(first17 + IdNumberCheckChar(first17), kApplied).ok());
  const std::string feb29_2023 = "31010120230229123";
  EXPECT_FALSE(ParseIdNumber(feb29_2023 + IdNumberCheckChar(feb29_2023), Day(2024, 1, 1)).ok());
  EXPECT_TRUE(ParseIdNumber(IdFor(Day(2000, 2, 29)), kApplied).ok());
  // Born on the application date: a real date, not after it.
  EXPECT_TRUE(ParseIdNumber(IdFor(kApplied), kApplied).ok());
  EXPECT_FALSE(ParseIdNumber(IdFor(kApplied + 1), kApplied).ok());
}

TEST(ValidationTest, Names) {
  EXPECT_EQ(*NormalizeName("张三"), "张三");
  EXPECT_EQ(*NormalizeName("  张三 "), "张三");
  EXPECT_EQ(*NormalizeName("\u3000张三\u3000"), "张三");
  EXPECT_EQ(*NormalizeName("阿卜杜·热合曼"), "阿卜杜·热合曼");
  EXPECT_EQ(*NormalizeName("Mary Smith"), "Mary Smith");
  EXPECT_EQ(*NormalizeName("José"), "José");
  EXPECT_EQ(*NormalizeName("王〇"), "王〇");
  EXPECT_FALSE(NormalizeName("").ok());
  EXPECT_FALSE(NormalizeName("   ").ok());
  EXPECT_FALSE(NormalizeName("张三1").ok());
  EXPECT_FALSE(NormalizeName("张\t三").ok());
  EXPECT_FALSE(NormalizeName(std::string("张\0三", 5)).ok());
  EXPECT_FALSE(NormalizeName("·张三").ok());
  EXPECT_FALSE(NormalizeName("张三·").ok());
  EXPECT_FALSE(NormalizeName("张··三").ok());
  EXPECT_FALSE(NormalizeName("Mary  Smith").ok());
  EXPECT_FALSE(NormalizeName("张三!").ok());
  EXPECT_FALSE(NormalizeName("张三😀").ok());
  EXPECT_FALSE(NormalizeName("\xE5\xBC").ok());      // truncated UTF-8
  EXPECT_FALSE(NormalizeName("\xC0\xAF").ok());      // overlong
  EXPECT_FALSE(NormalizeName("\xED\xA0\x80").ok());  // surrogate
}

TEST(ValidationTest, NameLengthIsCountedInCharacters) {
  std::string thirty;
  for (int i = 0; i < 30; ++i) thirty += "张";
  EXPECT_TRUE(NormalizeName(thirty).ok());
  EXPECT_FALSE(NormalizeName(thirty + "三").ok());
  EXPECT_TRUE(NormalizeName(std::string(30, 'a')).ok());
  EXPECT_FALSE(NormalizeName(std::string(31, 'a')).ok());
  EXPECT_TRUE(NormalizeName("李").ok());
}

TEST(ValidationTest, Phones) {
  EXPECT_EQ(*NormalizePhone("13800138000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("+8613800138000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("8613800138000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("19912345678"), "19912345678");
  EXPECT_EQ(*NormalizePhone(" 13800138000 "), "13800138000");
  EXPECT_FALSE(NormalizePhone("12800138000").ok());  // 1[3-9]
  EXPECT_FALSE(NormalizePhone("10800138000").ok());
  EXPECT_FALSE(NormalizePhone("23800138000").ok());
  EXPECT_FALSE(NormalizePhone("1380013800").ok());
  EXPECT_FALSE(NormalizePhone("138001380001").ok());
  EXPECT_FALSE(NormalizePhone("1380013800a").ok());
  EXPECT_FALSE(NormalizePhone("+86 13800138000").ok());
  EXPECT_FALSE(NormalizePhone("138-0013-8000").ok());
  EXPECT_FALSE(NormalizePhone("+8612800138000").ok());
  EXPECT_FALSE(NormalizePhone("").ok());
}

}  // namespace
}  // namespace mutualaid::plan

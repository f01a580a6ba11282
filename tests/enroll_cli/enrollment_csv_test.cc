// The enrollment file's columns and rows, and the command line.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "enroll.h"

namespace mutualaid::mutualctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEnglishHeader[] = "platform_record_id,name,id_number,phone,industry\r\n";

EnrollmentFile MustRead(const std::string& bytes, csv::Encoding encoding = csv::Encoding::kAuto) {
  absl::StatusOr<EnrollmentFile> file = ReadEnrollmentCsv(bytes, encoding);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : EnrollmentFile{};
}

TEST(IndustryCodeTest, ChineseAndEnglishNamesMapToCodes) {
  EXPECT_EQ(IndustryCode("网约送餐"), "FOOD_DELIVERY");
  EXPECT_EQ(IndustryCode("同城货运"), "INTRACITY_FREIGHT");
  EXPECT_EQ(IndustryCode("即时递送"), "INSTANT_DELIVERY");
  EXPECT_EQ(IndustryCode("网约车"), "RIDE_HAILING");
  EXPECT_EQ(IndustryCode("快递"), "EXPRESS_DELIVERY");
  EXPECT_EQ(IndustryCode("其他"), "OTHER");
  EXPECT_EQ(IndustryCode("FOOD_DELIVERY"), "FOOD_DELIVERY");
  EXPECT_EQ(IndustryCode(" food_delivery "), "FOOD_DELIVERY");
  EXPECT_EQ(IndustryCode("\xE3\x80\x80快递"), "EXPRESS_DELIVERY");  // ideographic space
}

TEST(IndustryCodeTest, UnknownValuesPassThroughForTheServiceToRefuse) {
  EXPECT_EQ(IndustryCode("家政"), "家政");
  EXPECT_EQ(IndustryCode("drone"), "drone");
  EXPECT_EQ(IndustryCode(""), "");
}

TEST(DefaultResultPathTest, BesideTheInput) {
  EXPECT_EQ(DefaultResultPath("march.csv"), "march.result.csv");
  EXPECT_EQ(DefaultResultPath("/data/P01/2022-06.CSV"), "/data/P01/2022-06.result.csv");
  EXPECT_EQ(DefaultResultPath("upload.txt"), "upload.txt.result.csv");
}

TEST(ReadEnrollmentCsvTest, EnglishHeaderRows) {
  EnrollmentFile file = MustRead(std::string(kEnglishHeader) +
                                 "R1,张三,110101199003074514,13800138000,FOOD_DELIVERY\r\n"
                                 "R2, 李四 ,110101199003074514 , 13800138001,网约车\r\n");
  ASSERT_EQ(file.rows.size(), 2u);
  const EnrollmentRow& first = file.rows[0];
  EXPECT_TRUE(first.readable());
  EXPECT_EQ(first.row, 1);
  EXPECT_EQ(first.line, 2);
  EXPECT_EQ(first.record.platform_record_id(), "R1");
  EXPECT_EQ(first.record.name(), "张三");
  EXPECT_EQ(first.record.id_number(), "110101199003074514");
  EXPECT_EQ(first.record.phone(), "13800138000");
  EXPECT_EQ(first.record.industry(), "FOOD_DELIVERY");
  EXPECT_FALSE(first.record.has_fee_split());
  EXPECT_EQ(file.rows[1].record.name(), "李四");
  EXPECT_EQ(file.rows[1].record.id_number(), "110101199003074514");
  EXPECT_EQ(file.rows[1].record.industry(), "RIDE_HAILING");
}

TEST(ReadEnrollmentCsvTest, ChineseHeaderWithBomAndFeeSplitInAnyColumnOrder) {
  EnrollmentFile file = MustRead(
      "\xEF\xBB\xBF行业,手机号,个人承担,姓名,备注,身份证号,记录编号,平台承担\n"
      "快递,13800138000,1200,王五,随便写,110101199003074514,A-7,6000\n");
  ASSERT_EQ(file.rows.size(), 1u);
  const v1::EnrollmentRecord& record = file.rows[0].record;
  EXPECT_EQ(record.platform_record_id(), "A-7");
  EXPECT_EQ(record.name(), "王五");
  EXPECT_EQ(record.industry(), "EXPRESS_DELIVERY");
  ASSERT_TRUE(record.has_fee_split());
  EXPECT_EQ(record.fee_split().platform_fen(), 6000);
  EXPECT_EQ(record.fee_split().worker_fen(), 1200);
}

TEST(ReadEnrollmentCsvTest, HeaderNamesAreCaseAndSpaceInsensitive) {
  EnrollmentFile file =
      MustRead(" Name , ID_NUMBER,Phone,Industry\n张三,110101199003074514,13800138000,其他\n");
  ASSERT_EQ(file.rows.size(), 1u);
  EXPECT_EQ(file.rows[0].record.industry(), "OTHER");
}

TEST(ReadEnrollmentCsvTest, WithoutARecordIdColumnTheRowNumberIsTheId) {
  EnrollmentFile file = MustRead(
      "name,id_number,phone,industry\n"
      "a,1,2,FOOD_DELIVERY\n"
      "\n"
      ",,,\n"  // an empty spreadsheet row is not a row
      "b,3,4,FOOD_DELIVERY\n");
  ASSERT_EQ(file.rows.size(), 2u);
  EXPECT_EQ(file.rows[0].record.platform_record_id(), "1");
  EXPECT_EQ(file.rows[1].record.platform_record_id(), "2");
  EXPECT_EQ(file.rows[1].row, 2);
  EXPECT_EQ(file.rows[1].line, 5);
}

TEST(ReadEnrollmentCsvTest, QuotedNameWithCommaAndNewline) {
  EnrollmentFile file = MustRead(std::string(kEnglishHeader) +
                                 "R1,\"阿卜杜,\r\n热合曼\",110101199003074514,13800138000,快递\r\n"
                                 "R2,\"say \"\"x\"\"\",110101199003074514,13800138000,快递\r\n");
  ASSERT_EQ(file.rows.size(), 2u);
  EXPECT_EQ(file.rows[0].record.name(), "阿卜杜,\n热合曼");
  EXPECT_EQ(file.rows[1].record.name(), "say \"x\"");
  EXPECT_EQ(file.rows[1].line, 4);
}

TEST(ReadEnrollmentCsvTest, GbkFile) {
  // 记录编号,姓名,身份证号,手机号,行业 / R1,张三,…,网约送餐 in GBK.
  const std::string bytes =
      "\xBC\xC7\xC2\xBC\xB1\xE0\xBA\xC5,\xD0\xD5\xC3\xFB,\xC9\xED\xB7\xDD\xD6\xA4\xBA\xC5,"
      "\xCA\xD6\xBB\xFA\xBA\xC5,\xD0\xD0\xD2\xB5\r\n"
      "R1,\xD5\xC5\xC8\xFD,110101199003074514,13800138000,\xCD\xF8\xD4\xBC\xCB\xCD\xB2\xCD\r\n";
  EnrollmentFile file = MustRead(bytes);
  EXPECT_EQ(file.encoding, csv::Encoding::kGbk);
  ASSERT_EQ(file.rows.size(), 1u);
  EXPECT_EQ(file.rows[0].record.name(), "张三");
  EXPECT_EQ(file.rows[0].record.industry(), "FOOD_DELIVERY");
  // Forced to UTF-8, the same bytes are refused, naming the first bad line.
  absl::StatusOr<EnrollmentFile> forced = ReadEnrollmentCsv(bytes, csv::Encoding::kUtf8);
  ASSERT_FALSE(forced.ok());
  EXPECT_THAT(forced.status().message(), HasSubstr("line 1: not valid UTF-8"));
}

TEST(ReadEnrollmentCsvTest, InvalidInEveryEncodingIsAnError) {
  absl::StatusOr<EnrollmentFile> file =
      ReadEnrollmentCsv(std::string(kEnglishHeader) + "R1,\xFF\xFE\xFF,1,2,3\r\n", csv::Encoding::kAuto);
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(file.status().message(), HasSubstr("line 2: neither valid UTF-8 nor valid GBK"));
}

TEST(ReadEnrollmentCsvTest, EmptyFileIsAnError) {
  for (const std::string bytes : {"", "\xEF\xBB\xBF", "\r\n\r\n"}) {
    absl::StatusOr<EnrollmentFile> file = ReadEnrollmentCsv(bytes, csv::Encoding::kAuto);
    ASSERT_FALSE(file.ok());
    EXPECT_THAT(file.status().message(), HasSubstr("empty"));
  }
}

TEST(ReadEnrollmentCsvTest, HeaderOnlyHasNoRows) {
  EXPECT_TRUE(MustRead(kEnglishHeader).rows.empty());
}

TEST(ReadEnrollmentCsvTest, MissingRequiredColumnIsNamed) {
  absl::StatusOr<EnrollmentFile> file =
      ReadEnrollmentCsv("记录编号,姓名,手机号,行业\nR1,张三,13800138000,快递\n", csv::Encoding::kAuto);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(), HasSubstr("no \"id_number\" column (or \"身份证号\")"));
}

TEST(ReadEnrollmentCsvTest, RepeatedColumnIsAnError) {
  absl::StatusOr<EnrollmentFile> file =
      ReadEnrollmentCsv("name,姓名,id_number,phone,industry\n", csv::Encoding::kAuto);
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(file.status().message(), HasSubstr("\"name\" (姓名) appears twice"));
}

TEST(ReadEnrollmentCsvTest, BrokenRowsAreUnreadableAndTheRestIsRead) {
  EnrollmentFile file = MustRead(std::string(kEnglishHeader) +
                                 "R1,\"ab\"c,110101199003074514,13800138000,快递\r\n"  // text after quote
                                 "R2,Li,110101199003074514,13800138000\r\n"           // a field short
                                 "R3,Wang,Jr,110101199003074514,13800138000,快递\r\n"  // a field more
                                 ",Zhao,110101199003074514,13800138000,快递\r\n"      // no record id
                                 "R1,Qian,110101199003074514,13800138000,快递\r\n"    // R1 again
                                 "R6,Sun,110101199003074514,13800138000,快递,,\r\n"   // trailing empties: fine
                                 "R7,Zhou,110101199003074514,13800138000,快递\r\n");
  ASSERT_EQ(file.rows.size(), 7u);
  EXPECT_EQ(file.rows[0].unreadable, "TEXT_AFTER_CLOSING_QUOTE");
  EXPECT_EQ(file.rows[0].unreadable_field, "name");
  EXPECT_EQ(file.rows[0].record.platform_record_id(), "R1");  // read before the break
  EXPECT_THAT(file.rows[0].unreadable_detail, HasSubstr("line 2"));
  EXPECT_EQ(file.rows[1].unreadable, "FIELD_COUNT");
  EXPECT_EQ(file.rows[1].record.platform_record_id(), "R2");
  EXPECT_EQ(file.rows[2].unreadable, "FIELD_COUNT");
  EXPECT_EQ(file.rows[3].unreadable, "EMPTY_RECORD_ID");
  EXPECT_EQ(file.rows[4].unreadable, "DUPLICATE_RECORD_ID");
  EXPECT_THAT(file.rows[4].unreadable_detail, HasSubstr("row 1"));
  // R1 again, though the first R1 was unreadable: once the first is fixed and
  // sent, the service (idempotent by record id) would answer it with this row's
  // result, so a repeated record id is refused.
  EXPECT_TRUE(file.rows[5].readable());
  EXPECT_TRUE(file.rows[6].readable());
  for (const EnrollmentRow& row : file.rows) {
    EXPECT_THAT(row.unreadable_detail, Not(HasSubstr("110101199003074514")));
  }
}

TEST(ReadEnrollmentCsvTest, UnterminatedQuoteCostsOneRow) {
  EnrollmentFile file = MustRead(std::string(kEnglishHeader) +
                                 "R1,\"Li,110101199003074514,13800138000,快递\n"
                                 "R2,Wang,110101199003074514,13800138000,快递\n");
  ASSERT_EQ(file.rows.size(), 2u);
  EXPECT_EQ(file.rows[0].unreadable, "UNTERMINATED_QUOTE");
  EXPECT_EQ(file.rows[0].unreadable_field, "name");
  EXPECT_TRUE(file.rows[1].readable());
  EXPECT_EQ(file.rows[1].record.name(), "Wang");
}

TEST(ReadEnrollmentCsvTest, FeeSplitMustBeWholeFen) {
  EnrollmentFile file = MustRead(
      "name,id_number,phone,industry,platform_fen,worker_fen\n"
      "a,1,2,快递,72.00,\n"
      "b,1,2,快递,,3600\n"
      "c,1,2,快递,-1,0\n");
  ASSERT_EQ(file.rows.size(), 3u);
  EXPECT_EQ(file.rows[0].unreadable, "INVALID_FEE_SPLIT");
  EXPECT_EQ(file.rows[0].unreadable_field, "platform_fen");
  EXPECT_TRUE(file.rows[1].readable());
  EXPECT_EQ(file.rows[1].record.fee_split().platform_fen(), 0);
  EXPECT_EQ(file.rows[1].record.fee_split().worker_fen(), 3600);
  EXPECT_EQ(file.rows[2].unreadable, "INVALID_FEE_SPLIT");
}

// --- the command line -------------------------------------------------------

absl::StatusOr<EnrollOptions> Parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseEnrollArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseEnrollArgsTest, AllOptions) {
  absl::StatusOr<EnrollOptions> options =
      Parse({"--server", "enroll.example:443", "--token-file=tok", "--ca", "ca.pem", "--encoding",
             "GBK", "--out", "r.csv", "--batch", "7", "in.csv"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->server, "enroll.example:443");
  EXPECT_EQ(options->token_file, "tok");
  EXPECT_EQ(options->ca_file, "ca.pem");
  EXPECT_EQ(options->encoding, csv::Encoding::kGbk);
  EXPECT_EQ(options->out, "r.csv");
  EXPECT_EQ(options->batch, 7);
  EXPECT_EQ(options->input, "in.csv");
}

TEST(ParseEnrollArgsTest, UsageErrors) {
  EXPECT_THAT(Parse({"--token-file", "t", "in.csv"}).status().message(), HasSubstr("--server"));
  EXPECT_THAT(Parse({"--server", "h:1", "in.csv"}).status().message(), HasSubstr("--token-file"));
  EXPECT_THAT(Parse({"--server", "h:1", "--token-file", "t"}).status().message(),
              HasSubstr("no INPUT.csv"));
  EXPECT_THAT(Parse({"--server", "h:1", "--token-file", "t", "a.csv", "b.csv"}).status().message(),
              HasSubstr("exactly one"));
  EXPECT_THAT(Parse({"--server", "h:1", "--token-file", "t", "--batch", "0", "a.csv"})
                  .status()
                  .message(),
              HasSubstr("--batch"));
  EXPECT_THAT(Parse({"--server", "h:1", "--token-file", "t", "--encoding", "big5", "a.csv"})
                  .status()
                  .message(),
              HasSubstr("--encoding"));
  EXPECT_THAT(Parse({"--frobnicate", "a.csv"}).status().message(), HasSubstr("unknown option"));
  EXPECT_THAT(Parse({"--server"}).status().message(), HasSubstr("needs a value"));
  EXPECT_TRUE(absl::IsCancelled(Parse({"--help"}).status()));
}

}  // namespace
}  // namespace mutualaid::mutualctl

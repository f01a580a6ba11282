#include "mutualaid/csv/csv.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mutualaid::csv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::vector<std::string>> Fields(const std::vector<Record>& records) {
  std::vector<std::vector<std::string>> fields;
  for (const Record& record : records) fields.push_back(record.fields);
  return fields;
}

TEST(ParseRecordsTest, PlainRowsWithLf) {
  const std::vector<Record> records = ParseRecords("a,b,c\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(records[1].fields, ElementsAre("1", "2", "3"));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_TRUE(records[1].ok());
}

TEST(ParseRecordsTest, CrLfAndLoneCrAndNoFinalLineBreak) {
  EXPECT_THAT(Fields(ParseRecords("a,b\r\n1,2\r\n3,4")),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("1", "2"), ElementsAre("3", "4")));
  const std::vector<Record> records = ParseRecords("a\rb\r\nc");
  EXPECT_THAT(Fields(records), ElementsAre(ElementsAre("a"), ElementsAre("b"), ElementsAre("c")));
  EXPECT_EQ(records[2].line, 3);
}

TEST(ParseRecordsTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const std::vector<Record> records =
      ParseRecords("id,name\r\n1,\"Li, Si\"\r\n2,\"say \"\"hi\"\"\"\r\n3,\"two\r\nlines\"\r\n4,x\r\n");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_THAT(records[1].fields, ElementsAre("1", "Li, Si"));
  EXPECT_THAT(records[2].fields, ElementsAre("2", "say \"hi\""));
  EXPECT_THAT(records[3].fields, ElementsAre("3", "two\nlines"));  // CRLF inside quotes -> \n
  EXPECT_EQ(records[3].line, 4);
  EXPECT_EQ(records[4].line, 6);  // the line count includes the line inside the quotes
  EXPECT_THAT(records[4].fields, ElementsAre("4", "x"));
}

TEST(ParseRecordsTest, SpacesAroundFieldsAreDroppedInsideQuotesKept) {
  EXPECT_THAT(Fields(ParseRecords("  a ,\tb\t, \" c \" ,d\n")),
              ElementsAre(ElementsAre("a", "b", " c ", "d")));
}

TEST(ParseRecordsTest, EmptyFieldsAndTrailingComma) {
  EXPECT_THAT(Fields(ParseRecords(",a,,\n\"\"\n")),
              ElementsAre(ElementsAre("", "a", "", ""), ElementsAre("")));
}

TEST(ParseRecordsTest, BlankLinesAreSkippedButCounted) {
  const std::vector<Record> records = ParseRecords("a\n\n   \r\n\t\nb\n\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].line, 5);
  EXPECT_THAT(records[1].fields, ElementsAre("b"));
}

TEST(ParseRecordsTest, EmptyTextHasNoRecords) {
  EXPECT_THAT(ParseRecords(""), IsEmpty());
  EXPECT_THAT(ParseRecords("\r\n\n  \n"), IsEmpty());
}

TEST(ParseRecordsTest, TextAfterClosingQuoteBreaksOnlyThatRecord) {
  const std::vector<Record> records = ParseRecords("1,\"ab\"c,x\n2,ok\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error, RecordError::kTextAfterClosingQuote);
  EXPECT_EQ(records[0].error_field, 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("1"));  // what was read before the error
  EXPECT_TRUE(records[1].ok());
  EXPECT_THAT(records[1].fields, ElementsAre("2", "ok"));
  EXPECT_EQ(records[1].line, 2);
}

TEST(ParseRecordsTest, QuoteInUnquotedFieldBreaksOnlyThatRecord) {
  const std::vector<Record> records = ParseRecords("a,b\"c,d\ne,f\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error, RecordError::kQuoteInUnquotedField);
  EXPECT_EQ(records[0].error_field, 1u);
  EXPECT_THAT(records[1].fields, ElementsAre("e", "f"));
}

TEST(ParseRecordsTest, UnterminatedQuoteCostsOneRecordNotTheRestOfTheFile) {
  const std::vector<Record> records = ParseRecords("h1,h2\n1,\"open\n2,b\n3,c\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].error, RecordError::kUnterminatedQuote);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].error_field, 1u);
  EXPECT_THAT(records[2].fields, ElementsAre("2", "b"));
  EXPECT_EQ(records[2].line, 3);
  EXPECT_THAT(records[3].fields, ElementsAre("3", "c"));
}

TEST(ParseRecordsTest, UnterminatedQuoteAfterAMultiLineField) {
  // The record starts on line 1; the bad quote opens on line 2: reading resumes on line 3.
  const std::vector<Record> records = ParseRecords("\"a\nb\",\"c\nd,e\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error, RecordError::kUnterminatedQuote);
  EXPECT_THAT(records[0].fields, ElementsAre("a\nb"));
  EXPECT_EQ(records[1].line, 3);
  EXPECT_THAT(records[1].fields, ElementsAre("d", "e"));
}

TEST(ParseRecordsTest, ErrorCodesAndMessages) {
  EXPECT_EQ(RecordErrorCode(RecordError::kUnterminatedQuote), "UNTERMINATED_QUOTE");
  EXPECT_EQ(RecordErrorCode(RecordError::kTextAfterClosingQuote), "TEXT_AFTER_CLOSING_QUOTE");
  EXPECT_EQ(RecordErrorCode(RecordError::kQuoteInUnquotedField), "QUOTE_IN_UNQUOTED_FIELD");
  EXPECT_EQ(RecordErrorCode(RecordError::kNone), "");
  EXPECT_FALSE(RecordErrorMessage(RecordError::kUnterminatedQuote).empty());
}

TEST(FormatRecordTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(FormatRecord({"a", "b c", ""}), "a,b c,");
  EXPECT_EQ(FormatRecord({"a,b", "say \"x\"", "l1\nl2", " pad"}),
            "\"a,b\",\"say \"\"x\"\"\",\"l1\nl2\",\" pad\"");
  EXPECT_EQ(FormatRecord({""}), "\"\"");
  EXPECT_EQ(FormatRecord({"张三", "网约送餐"}), "张三,网约送餐");
}

TEST(FormatRecordTest, RoundTrips) {
  const std::vector<std::vector<std::string>> rows = {
      {""}, {"", ""}, {"a"}, {" a ", "\t", "x,y", "\"", "\"\"", "1\n2", "张三"}, {"=1+1", "'"}};
  for (const auto& fields : rows) {
    const std::vector<Record> back = ParseRecords(FormatRecord(fields) + "\r\n");
    ASSERT_EQ(back.size(), 1u) << FormatRecord(fields);
    EXPECT_TRUE(back[0].ok());
    EXPECT_EQ(back[0].fields, fields) << FormatRecord(fields);
  }
}

}  // namespace
}  // namespace mutualaid::csv

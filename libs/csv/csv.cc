#include "mutualaid/csv/csv.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mutualaid::csv {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsLineBreak(char c) { return c == '\n' || c == '\r'; }

// Reads one record at a time from the text; `pos` and `line` always point at
// the start of the next unread byte and its line.
class RecordReader {
 public:
  explicit RecordReader(std::string_view text) : text_(text) {}

  bool Done() const { return pos_ >= text_.size(); }

  // Skips lines that hold only spaces and tabs; false at the end of the text.
  bool SkipBlankLines() {
    while (!Done()) {
      size_t p = pos_;
      while (p < text_.size() && IsBlank(text_[p])) ++p;
      if (p == text_.size()) {
        pos_ = p;
        return false;
      }
      if (!IsLineBreak(text_[p])) return true;
      pos_ = p;
      ConsumeLineBreak();
    }
    return false;
  }

  Record Read() {
    Record record;
    record.line = line_;
    while (true) {
      std::string field;
      const RecordError error = ReadField(field);
      if (error != RecordError::kNone) {
        record.error = error;
        record.error_field = record.fields.size();
        return record;
      }
      record.fields.push_back(std::move(field));
      if (Done()) return record;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      ConsumeLineBreak();  // ReadField stops only at ',', a line break or the end
      return record;
    }
  }

 private:
  // \r\n, \n or a lone \r at pos_.
  void ConsumeLineBreak() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  // Moves past the end of the current physical line.
  void SkipRestOfLine() {
    while (!Done() && !IsLineBreak(text_[pos_])) ++pos_;
    if (!Done()) ConsumeLineBreak();
  }

  RecordError ReadField(std::string& field) {
    while (!Done() && IsBlank(text_[pos_])) ++pos_;
    if (!Done() && text_[pos_] == '"') return ReadQuotedField(field);
    const size_t start = pos_;
    while (!Done() && text_[pos_] != ',' && !IsLineBreak(text_[pos_])) {
      if (text_[pos_] == '"') {
        SkipRestOfLine();
        return RecordError::kQuoteInUnquotedField;
      }
      ++pos_;
    }
    size_t end = pos_;
    while (end > start && IsBlank(text_[end - 1])) --end;
    field.assign(text_.substr(start, end - start));
    return RecordError::kNone;
  }

  RecordError ReadQuotedField(std::string& field) {
    const size_t open_pos = pos_;
    const int open_line = line_;
    ++pos_;
    while (true) {
      if (Done()) {
        // Resume on the line after the one the quote opened on.
        pos_ = open_pos;
        line_ = open_line;
        SkipRestOfLine();
        return RecordError::kUnterminatedQuote;
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      if (IsLineBreak(c)) {
        field.push_back('\n');
        ConsumeLineBreak();
        continue;
      }
      field.push_back(c);
      ++pos_;
    }
    while (!Done() && IsBlank(text_[pos_])) ++pos_;
    if (!Done() && text_[pos_] != ',' && !IsLineBreak(text_[pos_])) {
      SkipRestOfLine();
      return RecordError::kTextAfterClosingQuote;
    }
    return RecordError::kNone;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

bool NeedsQuotes(std::string_view field) {
  if (field.empty()) return false;
  if (IsBlank(field.front()) || IsBlank(field.back())) return true;
  for (char c : field) {
    if (c == ',' || c == '"' || IsLineBreak(c)) return true;
  }
  return false;
}

}  // namespace

std::string_view RecordErrorCode(RecordError error) {
  switch (error) {
    case RecordError::kNone:
      return "";
    case RecordError::kUnterminatedQuote:
      return "UNTERMINATED_QUOTE";
    case RecordError::kTextAfterClosingQuote:
      return "TEXT_AFTER_CLOSING_QUOTE";
    case RecordError::kQuoteInUnquotedField:
      return "QUOTE_IN_UNQUOTED_FIELD";
  }
  return "";
}

std::string_view RecordErrorMessage(RecordError error) {
  switch (error) {
    case RecordError::kNone:
      return "";
    case RecordError::kUnterminatedQuote:
      return "a quoted field is never closed";
    case RecordError::kTextAfterClosingQuote:
      return "text follows the closing quote of a field";
    case RecordError::kQuoteInUnquotedField:
      return "a quote inside a field that does not start with a quote";
  }
  return "";
}

std::vector<Record> ParseRecords(std::string_view text) {
  std::vector<Record> records;
  RecordReader reader(text);
  while (reader.SkipBlankLines()) records.push_back(reader.Read());
  return records;
}

std::string FormatRecord(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    const std::string& field = fields[i];
    const bool lone_empty = fields.size() == 1 && field.empty();
    if (!lone_empty && !NeedsQuotes(field)) {
      line += field;
      continue;
    }
    line.push_back('"');
    for (char c : field) {
      if (c == '"') line.push_back('"');
      line.push_back(c);
    }
    line.push_back('"');
  }
  return line;
}

}  // namespace mutualaid::csv

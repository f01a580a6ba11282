// Reading and writing CSV records (RFC 4180), tolerant of what spreadsheets
// and platform exports do: CRLF or LF (or a lone CR) line ends, spaces around
// fields, blank lines, a newline or doubled quote inside a quoted field.
#ifndef MUTUALAID_CSV_CSV_H_
#define MUTUALAID_CSV_CSV_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mutualaid::csv {

// Why one record could not be read. The rest of the file is still read.
enum class RecordError {
  kNone,
  kUnterminatedQuote,      // a quoted field runs to the end of the file
  kTextAfterClosingQuote,  // "abc"def
  kQuoteInUnquotedField,   // ab"c
};

// "UNTERMINATED_QUOTE", "TEXT_AFTER_CLOSING_QUOTE", "QUOTE_IN_UNQUOTED_FIELD" ("" for kNone).
std::string_view RecordErrorCode(RecordError error);
// A sentence for people, e.g. "a quoted field is never closed".
std::string_view RecordErrorMessage(RecordError error);

struct Record {
  std::vector<std::string> fields;  // with an error: the fields read before it
  int line = 0;                     // 1-based line the record starts on
  RecordError error = RecordError::kNone;
  size_t error_field = 0;           // 0-based index of the field at fault
  bool ok() const { return error == RecordError::kNone; }
};

// Splits UTF-8 (or any ASCII-compatible) text into records. Never fails.
//
// - Fields are separated by ',' and records by \r\n, \n or a lone \r.
// - Spaces and tabs around a field are dropped; inside quotes they are kept.
// - A quoted field may hold commas, line breaks (kept as \n) and "" for ".
// - Lines holding only spaces and tabs are skipped (they are not records).
// - A record that breaks the quoting rules carries its error; reading goes on
//   with the next line (after an unterminated quote: the line after the one the
//   quote opened on, so one stray quote costs one record, not the rest of the file).
std::vector<Record> ParseRecords(std::string_view text);

// One CSV line, without the line end, that ParseRecords reads back as `fields`:
// a field is quoted when it holds ',', '"', a line break, or starts or ends
// with a space or tab (and a lone empty field, so the line is not blank).
std::string FormatRecord(const std::vector<std::string>& fields);

}  // namespace mutualaid::csv

#endif  // MUTUALAID_CSV_CSV_H_

// Fuzzes libs/csv: the encoding detection (UTF-8 / GBK) and the record reader
// that `mutualctl enroll` runs over a platform's upload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mutualaid/csv/csv.h"
#include "mutualaid/csv/encoding.h"

namespace {

using mutualaid::csv::DecodeToUtf8;
using mutualaid::csv::Encoding;
using mutualaid::csv::FormatRecord;
using mutualaid::csv::IsValidUtf8;
using mutualaid::csv::ParseRecords;
using mutualaid::csv::Record;

void CheckRecords(std::string_view text) {
  const std::vector<Record> records = ParseRecords(text);
  int last_line = 0;
  for (const Record& record : records) {
    // Records start on strictly increasing lines.
    if (record.line <= last_line) std::abort();
    last_line = record.line;
    if (record.fields.empty() && record.ok()) std::abort();
    if (!record.ok() && record.error_field != record.fields.size()) std::abort();
    for (const std::string& field : record.fields) {
      // A field never keeps a CR (line breaks inside quotes become \n) and never
      // grows beyond the text it came from.
      if (field.find('\r') != std::string::npos) std::abort();
      if (field.size() > text.size()) std::abort();
      // Splitting at ASCII bytes keeps UTF-8 intact.
      if (IsValidUtf8(text) && !IsValidUtf8(field)) std::abort();
    }
    if (!record.ok()) continue;
    // What the writer writes, the reader reads back unchanged.
    const std::vector<Record> again = ParseRecords(FormatRecord(record.fields) + "\r\n");
    if (again.size() != 1 || !again[0].ok() || again[0].fields != record.fields) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckRecords(bytes);
  for (Encoding encoding : {Encoding::kAuto, Encoding::kUtf8, Encoding::kGbk}) {
    const auto text = DecodeToUtf8(bytes, encoding);
    if (!text.ok()) {
      // Every refusal names the line it is about.
      if (text.status().message().find("line ") == std::string_view::npos) std::abort();
      continue;
    }
    if (!IsValidUtf8(text->utf8)) std::abort();
    if (text->encoding == Encoding::kAuto) std::abort();
    if (encoding == Encoding::kUtf8 && text->encoding != Encoding::kUtf8) std::abort();
    if (encoding == Encoding::kGbk && text->encoding != Encoding::kGbk) std::abort();
    // Valid UTF-8 (after an optional BOM) is always read as UTF-8, unchanged.
    if (encoding == Encoding::kAuto && IsValidUtf8(bytes) && text->utf8 != bytes &&
        !text->had_bom) {
      std::abort();
    }
    CheckRecords(text->utf8);
  }
  return 0;
}

// The text encodings platforms save CSV files in: UTF-8 (with or without a
// byte-order mark) and GBK (Excel's "CSV" on a Chinese-locale Windows).
#ifndef MUTUALAID_CSV_ENCODING_H_
#define MUTUALAID_CSV_ENCODING_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace mutualaid::csv {

enum class Encoding {
  kAuto,  // UTF-8 when the bytes are valid UTF-8, else GBK (see DecodeToUtf8)
  kUtf8,
  kGbk,
};

std::string_view EncodingName(Encoding encoding);  // "auto", "UTF-8", "GBK"
// "auto", "utf-8"/"utf8", "gbk"/"cp936" (any case); nullopt otherwise.
std::optional<Encoding> ParseEncoding(std::string_view name);

// Byte offset of the first byte that does not start a well-formed UTF-8
// sequence (overlong forms, surrogates and code points above U+10FFFF are
// ill-formed), or npos.
size_t FindInvalidUtf8(std::string_view text);
inline bool IsValidUtf8(std::string_view text) {
  return FindInvalidUtf8(text) == std::string_view::npos;
}

struct DecodedText {
  std::string utf8;   // the text in UTF-8, without a byte-order mark
  Encoding encoding;  // what the bytes were read as: kUtf8 or kGbk
  bool had_bom = false;
};

// Turns the bytes of a file into UTF-8 text.
//
// kUtf8: the bytes must be UTF-8 (a leading BOM is dropped).
// kGbk:  the bytes must be GBK; a UTF-8 BOM contradicts that and is an error.
// kAuto: a UTF-8 BOM, or bytes that are valid UTF-8 throughout, mean UTF-8.
//        Otherwise the file is read as GBK if every line converts — unless
//        some line with non-ASCII bytes is valid UTF-8 while another is not:
//        then the file mixes encodings or is damaged UTF-8, and guessing could
//        garble names, so that is an error asking for --encoding.
// UTF-16 byte-order marks are refused. Every error is InvalidArgument naming
// the 1-based line (a line ends at \n, \r\n or a lone \r).
absl::StatusOr<DecodedText> DecodeToUtf8(std::string_view bytes, Encoding encoding);

}  // namespace mutualaid::csv

#endif  // MUTUALAID_CSV_ENCODING_H_

#include "mutualaid/csv/encoding.h"

#include <iconv.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mutualaid::csv {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// A physical line of the file: [begin, end) including its line break.
struct Line {
  size_t begin;
  size_t end;
};

std::vector<Line> SplitLines(std::string_view bytes) {
  std::vector<Line> lines;
  size_t begin = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n' || bytes[i] == '\r') {
      if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
      lines.push_back({begin, i + 1});
      begin = i + 1;
    }
  }
  if (begin < bytes.size()) lines.push_back({begin, bytes.size()});
  return lines;
}

bool HasNonAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return true;
  }
  return false;
}

// 1-based line of the byte at `offset`.
int LineOf(std::string_view bytes, size_t offset) {
  const std::vector<Line> lines = SplitLines(bytes.substr(0, offset + 1));
  return static_cast<int>(lines.size());
}

// glibc's iconv from GBK to UTF-8, one line at a time so a failure names its line.
class GbkDecoder {
 public:
  GbkDecoder() : cd_(iconv_open("UTF-8", "GBK")) {}
  ~GbkDecoder() {
    if (ok()) iconv_close(cd_);
  }
  GbkDecoder(const GbkDecoder&) = delete;
  GbkDecoder& operator=(const GbkDecoder&) = delete;

  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

  // Appends the UTF-8 form of `gbk` to `out`; false when it is not GBK.
  bool Append(std::string_view gbk, std::string& out) {
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // GBK is stateless; reset anyway
    char* in = const_cast<char*>(gbk.data());
    size_t in_left = gbk.size();
    while (in_left > 0) {
      char buffer[4096];
      char* dst = buffer;
      size_t dst_left = sizeof(buffer);
      const size_t rc = iconv(cd_, &in, &in_left, &dst, &dst_left);
      out.append(buffer, static_cast<size_t>(dst - buffer));
      if (rc == static_cast<size_t>(-1) && errno != E2BIG) return false;  // EILSEQ, EINVAL
    }
    return true;
  }

 private:
  iconv_t cd_;
};

// Converts every line; the 1-based number of the first line that is not GBK on failure.
absl::StatusOr<std::string> ConvertGbk(std::string_view bytes, int* bad_line) {
  GbkDecoder decoder;
  if (!decoder.ok()) {
    return absl::InternalError("this system's iconv cannot convert from GBK");
  }
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  const std::vector<Line> lines = SplitLines(bytes);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = bytes.substr(lines[i].begin, lines[i].end - lines[i].begin);
    if (!HasNonAscii(line)) {
      out += line;
      continue;
    }
    if (!decoder.Append(line, out)) {
      *bad_line = static_cast<int>(i) + 1;
      return absl::InvalidArgumentError(absl::StrCat("line ", i + 1, ": not valid GBK"));
    }
  }
  return out;
}

std::string ByteHex(unsigned char byte) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string{kDigits[byte >> 4], kDigits[byte & 0xF]};
}

absl::Status InvalidUtf8(std::string_view bytes, size_t offset, std::string_view hint) {
  return absl::InvalidArgumentError(absl::StrCat("line ", LineOf(bytes, offset),
                                                 ": not valid UTF-8 (byte 0x",
                                                 ByteHex(static_cast<unsigned char>(bytes[offset])),
                                                 ")", std::string(hint)));
}

}  // namespace

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kAuto:
      return "auto";
    case Encoding::kUtf8:
      return "UTF-8";
    case Encoding::kGbk:
      return "GBK";
  }
  return "auto";
}

std::optional<Encoding> ParseEncoding(std::string_view name) {
  std::string lower(name);
  absl::AsciiStrToLower(&lower);
  if (lower == "auto") return Encoding::kAuto;
  if (lower == "utf-8" || lower == "utf8") return Encoding::kUtf8;
  if (lower == "gbk" || lower == "cp936") return Encoding::kGbk;
  return std::nullopt;
}

size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) lo = 0x90;  // no overlong forms
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + length > n) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k < length; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

absl::StatusOr<DecodedText> DecodeToUtf8(std::string_view bytes, Encoding encoding) {
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    return absl::InvalidArgumentError(
        "line 1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as "
        "UTF-8 or GBK");
  }
  const bool bom = bytes.starts_with(kUtf8Bom);
  if (encoding == Encoding::kGbk && bom) {
    return absl::InvalidArgumentError(
        "line 1: the file starts with a UTF-8 byte-order mark but --encoding gbk was given");
  }
  if (bom || encoding == Encoding::kUtf8) {
    const std::string_view body = bom ? bytes.substr(kUtf8Bom.size()) : bytes;
    const size_t bad = FindInvalidUtf8(body);
    if (bad != std::string_view::npos) {
      // Line numbers are the same with or without the BOM (it holds no line break).
      return InvalidUtf8(body, bad,
                         bom ? " although the file starts with a UTF-8 byte-order mark"
                             : "; pass --encoding gbk if the file is GBK");
    }
    return DecodedText{std::string(body), Encoding::kUtf8, bom};
  }
  if (encoding == Encoding::kGbk) {
    int bad_line = 0;
    absl::StatusOr<std::string> text = ConvertGbk(bytes, &bad_line);
    if (!text.ok()) return text.status();
    return DecodedText{*std::move(text), Encoding::kGbk, false};
  }

  // kAuto without a BOM: classify the lines that hold non-ASCII bytes.
  const size_t first_bad = FindInvalidUtf8(bytes);
  if (first_bad == std::string_view::npos) {
    return DecodedText{std::string(bytes), Encoding::kUtf8, false};
  }
  const int bad_utf8_line = LineOf(bytes, first_bad);
  int utf8_line = 0;  // a line with non-ASCII bytes that is valid UTF-8
  const std::vector<Line> lines = SplitLines(bytes);
  for (size_t i = 0; i < lines.size() && utf8_line == 0; ++i) {
    const std::string_view line = bytes.substr(lines[i].begin, lines[i].end - lines[i].begin);
    if (HasNonAscii(line) && IsValidUtf8(line)) utf8_line = static_cast<int>(i) + 1;
  }
  int bad_gbk_line = 0;
  absl::StatusOr<std::string> gbk = ConvertGbk(bytes, &bad_gbk_line);
  if (!gbk.ok()) {
    if (bad_gbk_line == 0) return gbk.status();  // no iconv for GBK
    if (bad_gbk_line == bad_utf8_line) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", bad_utf8_line, ": neither valid UTF-8 nor valid GBK"));
    }
    return absl::InvalidArgumentError(absl::StrCat("line ", bad_utf8_line,
                                                   ": not valid UTF-8, and line ", bad_gbk_line,
                                                   " is not valid GBK: the file is neither"));
  }
  if (utf8_line != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot tell the encoding: line ", utf8_line, " reads as UTF-8 but line ", bad_utf8_line,
        " does not (mixed encodings or a damaged UTF-8 file); pass --encoding utf-8 or "
        "--encoding gbk"));
  }
  return DecodedText{*std::move(gbk), Encoding::kGbk, false};
}

}  // namespace mutualaid::csv

#include "mutualaid/plan/validation.h"

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/plan/calendar.h"

namespace mutualaid::plan {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view TrimAscii(std::string_view text) {
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Decodes one UTF-8 code point from the front of `text`; false on malformed
// input (overlong forms, surrogates, values above U+10FFFF, truncation).
bool DecodeUtf8(std::string_view& text, char32_t* out) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  int length;
  char32_t cp;
  if (b0 < 0x80) {
    length = 1;
    cp = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return false;
  }
  if (text.size() < static_cast<size_t>(length)) return false;
  for (int i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  constexpr std::array<char32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  text.remove_prefix(length);
  *out = cp;
  return true;
}

constexpr char32_t kIdeographicSpace = 0x3000;
constexpr char32_t kMiddleDot = 0x00B7;  // · in minority names (e.g. 阿卜杜·热合曼)

bool IsCjkIdeograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK Unified Ideographs
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // Extension A
         (cp >= 0x20000 && cp <= 0x2EBEF) ||  // Extensions B-F
         (cp >= 0x30000 && cp <= 0x3134F) ||  // Extension G
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // Compatibility Ideographs
         cp == 0x3007;                        // 〇
}

bool IsLatinLetter(char32_t cp) {
  return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
         (cp >= 0x00C0 && cp <= 0x00FF && cp != 0x00D7 && cp != 0x00F7) ||  // Latin-1 letters
         (cp >= 0x0100 && cp <= 0x017F);                                    // Latin Extended-A
}

}  // namespace

bool IsValidProvinceCode(int code) {
  return (code >= 11 && code <= 15) || (code >= 21 && code <= 23) || (code >= 31 && code <= 37) ||
         (code >= 41 && code <= 46) || (code >= 50 && code <= 54) || (code >= 61 && code <= 65) ||
         code == 71 || code == 81 || code == 82;
}

char IdNumberCheckChar(std::string_view first17) {
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6,
                                                   3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr std::string_view kCheckChars = "10X98765432";  // by remainder 0..10
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (!IsDigit(first17[i])) return '\0';
    sum += (first17[i] - '0') * kWeights[i];
  }
  return kCheckChars[sum % 11];
}

std::string NormalizeIdNumberText(std::string_view text) {
  std::string normalized(TrimAscii(text));
  if (!normalized.empty() && normalized.back() == 'x') normalized.back() = 'X';
  return normalized;
}

absl::StatusOr<IdNumber> ParseIdNumber(std::string_view text, absl::CivilDay application_date) {
  const std::string id = NormalizeIdNumberText(text);
  if (id.size() == 15) {
    return absl::InvalidArgumentError("15-digit ID numbers are not accepted; need 18 characters");
  }
  if (id.size() != 18) {
    return absl::InvalidArgumentError(absl::StrCat("ID number has ", id.size(),
                                                   " characters; need 18"));
  }
  for (size_t i = 0; i < 17; ++i) {
    if (!IsDigit(id[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("ID number character ", i + 1, " is not a digit"));
    }
  }
  if (!IsDigit(id[17]) && id[17] != 'X') {
    return absl::InvalidArgumentError("ID number check character is not 0-9 or X");
  }
  IdNumber result;
  result.province_code = (id[0] - '0') * 10 + (id[1] - '0');
  if (!IsValidProvinceCode(result.province_code)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ID number province code ", id.substr(0, 2), " is not a valid province"));
  }
  if (!ParseIsoDate(absl::StrCat(id.substr(6, 4), "-", id.substr(10, 2), "-", id.substr(12, 2)),
                    &result.birth_date)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ID number birth date ", id.substr(6, 8), " is not a real date"));
  }
  if (result.birth_date > application_date) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ID number birth date ", id.substr(6, 8), " is after the application date"));
  }
  const char expected = IdNumberCheckChar(std::string_view(id).substr(0, 17));
  if (id[17] != expected) {
    return absl::InvalidArgumentError(absl::StrCat("ID number check character is ",
                                                   id.substr(17, 1), "; MOD 11-2 gives ",
                                                   std::string(1, expected)));
  }
  result.normalized = id;
  return result;
}

absl::StatusOr<std::string> NormalizeName(std::string_view text) {
  // Trim ASCII whitespace and the ideographic space U+3000 at both ends.
  std::string_view rest = TrimAscii(text);
  std::vector<std::pair<char32_t, std::string_view>> chars;  // code point, its bytes
  while (!rest.empty()) {
    const std::string_view before = rest;
    char32_t cp;
    if (!DecodeUtf8(rest, &cp)) return absl::InvalidArgumentError("name is not valid UTF-8");
    chars.emplace_back(cp, before.substr(0, before.size() - rest.size()));
  }
  size_t first = 0;
  size_t last = chars.size();
  auto is_trimmable = [](char32_t cp) {
    return cp == kIdeographicSpace || (cp < 0x80 && IsAsciiSpace(static_cast<char>(cp)));
  };
  while (first < last && is_trimmable(chars[first].first)) ++first;
  while (last > first && is_trimmable(chars[last - 1].first)) --last;
  const size_t count = last - first;
  if (count == 0) return absl::InvalidArgumentError("name is empty");
  if (count > 30) {
    return absl::InvalidArgumentError(absl::StrCat("name has ", count, " characters; at most 30"));
  }
  std::string normalized;
  for (size_t i = first; i < last; ++i) {
    const char32_t cp = chars[i].first;
    if (IsCjkIdeograph(cp) || IsLatinLetter(cp)) {
      normalized.append(chars[i].second);
      continue;
    }
    if (cp == kMiddleDot || cp == ' ') {
      // Separators only between two letters: not first, not last, not doubled.
      const bool between = i > first && i + 1 < last &&
                           (IsCjkIdeograph(chars[i - 1].first) || IsLatinLetter(chars[i - 1].first)) &&
                           (IsCjkIdeograph(chars[i + 1].first) || IsLatinLetter(chars[i + 1].first));
      if (!between) {
        return absl::InvalidArgumentError(
            cp == kMiddleDot ? "name has a middle dot that does not separate two name parts"
                             : "name has a space that does not separate two name parts");
      }
      normalized.append(chars[i].second);
      continue;
    }
    if (cp < 0x80 && IsDigit(static_cast<char>(cp))) {
      return absl::InvalidArgumentError("name contains a digit");
    }
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      return absl::InvalidArgumentError("name contains a control character");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("name contains a character that is not allowed (U+",
                     absl::Hex(static_cast<uint32_t>(cp), absl::kZeroPad4), ")"));
  }
  return normalized;
}

absl::StatusOr<std::string> NormalizePhone(std::string_view text) {
  std::string_view phone = TrimAscii(text);
  if (phone.starts_with("+86")) {
    phone.remove_prefix(3);
  } else if (phone.size() == 13 && phone.starts_with("86")) {
    phone.remove_prefix(2);
  }
  if (phone.size() != 11) {
    return absl::InvalidArgumentError(
        absl::StrCat("phone has ", phone.size(), " characters after +86; need 11 digits"));
  }
  for (char c : phone) {
    if (!IsDigit(c)) return absl::InvalidArgumentError("phone contains a non-digit");
  }
  if (phone[0] != '1' || phone[1] < '3' || phone[1] > '9') {
    return absl::InvalidArgumentError("phone is not a mainland mobile number (1[3-9]…)");
  }
  return std::string(phone);
}

}  // namespace mutualaid::plan

// §一, §二(一): validators for the fields a platform uploads. Each returns the
// normalised value or InvalidArgument with a message saying what is wrong.
#ifndef MUTUALAID_PLAN_VALIDATION_H_
#define MUTUALAID_PLAN_VALIDATION_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace mutualaid::plan {

// An 18-character resident identity number (GB 11643-1999).
struct IdNumber {
  std::string normalized;  // 17 digits + check char, upper-case X
  absl::CivilDay birth_date;
  int province_code = 0;
};

// Validates an ID number received on `application_date`: 18 characters, MOD
// 11-2 check char, a real birth date not after `application_date`, a listed
// province code. Surrounding whitespace is trimmed and a lower-case x is
// normalised to X; 15-digit numbers are rejected.
absl::StatusOr<IdNumber> ParseIdNumber(std::string_view text, absl::CivilDay application_date);

// The ISO 7064 MOD 11-2 check char ('0'-'9' or 'X') of 17 digits; '\0' if
// `first17` is not 17 ASCII digits.
char IdNumberCheckChar(std::string_view first17);

// Province codes of digits 1-2: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82.
bool IsValidProvinceCode(int code);

// The worker key text for an ID number: trimmed, x → X. Defined for any input
// (an invalid number still needs a stable key to file a rejection under).
std::string NormalizeIdNumberText(std::string_view text);

// A name: 1-30 characters after trimming; CJK ideographs, Latin letters, the
// middle dot · between name parts, single spaces between Latin parts
// [reading]; no digits, control characters or other punctuation.
absl::StatusOr<std::string> NormalizeName(std::string_view text);

// A mainland mobile number: 1[3-9] + 9 digits; a leading +86 or 86 is
// stripped. Returns the 11 digits.
absl::StatusOr<std::string> NormalizePhone(std::string_view text);

}  // namespace mutualaid::plan

#endif  // MUTUALAID_PLAN_VALIDATION_H_

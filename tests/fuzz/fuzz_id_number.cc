// Fuzzes the GB 11643-1999 ID-number validator.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::CivilDay applied(2022, 5, 10);
  const auto id = mutualaid::plan::ParseIdNumber(text, applied);
  (void)mutualaid::plan::NormalizeIdNumberText(text);
  if (!id.ok()) return 0;
  // What the validator accepts is a well-formed, self-consistent number.
  const std::string& n = id->normalized;
  if (n.size() != 18) std::abort();
  if (mutualaid::plan::IdNumberCheckChar(std::string_view(n).substr(0, 17)) != n[17]) std::abort();
  if (id->birth_date > applied) std::abort();
  if (!mutualaid::plan::IsValidProvinceCode(id->province_code)) std::abort();
  // Normalising is idempotent.
  const auto again = mutualaid::plan::ParseIdNumber(n, applied);
  if (!again.ok() || again->normalized != n) std::abort();
  return 0;
}

// Fuzzes the mainland-mobile phone validator.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mutualaid/plan/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto phone = mutualaid::plan::NormalizePhone(text);
  if (!phone.ok()) return 0;
  if (phone->size() != 11 || (*phone)[0] != '1' || (*phone)[1] < '3' || (*phone)[1] > '9') {
    std::abort();
  }
  for (char c : *phone) {
    if (c < '0' || c > '9') std::abort();
  }
  const auto again = mutualaid::plan::NormalizePhone(*phone);  // idempotent
  if (!again.ok() || *again != *phone) std::abort();
  return 0;
}

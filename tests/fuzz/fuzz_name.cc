// Fuzzes the worker-name validator.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mutualaid/plan/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto name = mutualaid::plan::NormalizeName(text);
  if (!name.ok()) return 0;
  if (name->empty() || name->size() > 30 * 4) std::abort();
  for (char c : *name) {
    if (c >= '0' && c <= '9') std::abort();                         // no digits
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) std::abort();  // no controls
  }
  const auto again = mutualaid::plan::NormalizeName(*name);  // idempotent
  if (!again.ok() || *again != *name) std::abort();
  return 0;
}

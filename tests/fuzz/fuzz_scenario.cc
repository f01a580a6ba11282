// Fuzzes the JSON reader and writer, the scenario checks and the simulator end to end:
// any input either runs (exit 0, one line per step) or is refused (exit 2,
// one line on stderr, nothing on stdout).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "mutualaid/json/json.h"
#include "scenario.h"
#include "simulate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Whatever parses survives a write and a re-read unchanged.
  if (const auto value = mutualaid::json::Parse(text); value.ok()) {
    const auto again = mutualaid::json::Parse(mutualaid::json::Write(*value));
    if (!again.ok() || !(*again == *value)) std::abort();
  }
  std::ostringstream out;
  std::ostringstream err;
  const int code = mutualaid::mutualctl::Simulate(text, out, err);
  const std::string o = out.str();
  const std::string e = err.str();
  size_t lines = 0;
  for (char c : o) lines += c == '\n';
  if (code == mutualaid::mutualctl::kExitOk) {
    const auto scenario = mutualaid::mutualctl::ParseScenario(text);
    if (!scenario.ok() || lines != scenario->steps.size() || !e.empty()) std::abort();
  } else if (code == mutualaid::mutualctl::kExitInvalidScenario) {
    size_t err_lines = 0;
    for (char c : e) err_lines += c == '\n';
    if (!o.empty() || err_lines != 1 || e.back() != '\n') std::abort();
  } else {
    std::abort();
  }
  return 0;
}

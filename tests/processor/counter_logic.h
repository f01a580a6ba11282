// A small service for testing the processor: each request "req:<id>" is
// answered by one event "dec:<id>:<n>", n counting the worker's requests.
// A request seen before (same id) is answered by nothing, so a redelivered
// request can never make a second event; anything else is malformed.
#ifndef MUTUALAID_TESTS_PROCESSOR_COUNTER_LOGIC_H_
#define MUTUALAID_TESTS_PROCESSOR_COUNTER_LOGIC_H_

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mutualaid/processor/processor.h"

namespace mutualaid::processor::testing {

class CounterLogic : public Logic {
 public:
  static constexpr char kSeen[] = "seen";
  static constexpr char kCounts[] = "counts";

  std::vector<std::string> ColumnFamilies() const override { return {kSeen, kCounts}; }

  absl::Status Decide(const State& state, const kafka::Message& request,
                      std::vector<kafka::Record>* events) override {
    if (!absl::StartsWith(request.value, "req:") || request.value.size() <= 4) {
      return absl::InvalidArgumentError(absl::StrCat("not a request: '", request.value, "'"));
    }
    std::string id = request.value.substr(4);
    auto seen = state.Get(kSeen, id);
    if (!seen.ok()) return seen.status();
    if (seen->has_value()) return absl::OkStatus();
    auto count = state.Get(kCounts, request.key);
    if (!count.ok()) return count.status();
    int64_t n = 0;
    if (count->has_value() && !absl::SimpleAtoi(**count, &n)) return absl::InternalError("count");
    kafka::Record event;
    event.key = request.key;
    event.value = absl::StrCat("dec:", id, ":", n + 1);
    events->push_back(std::move(event));
    return absl::OkStatus();
  }

  absl::Status Apply(State& state, const kafka::Message& event) override {
    std::vector<std::string> parts = absl::StrSplit(event.value, ':');
    int64_t n = 0;
    if (parts.size() != 3 || parts[0] != "dec" || !absl::SimpleAtoi(parts[2], &n)) {
      return absl::InvalidArgumentError(absl::StrCat("not a decision: '", event.value, "'"));
    }
    state.Put(kSeen, parts[1], "1");
    state.Put(kCounts, event.key, absl::StrCat(n));
    return absl::OkStatus();
  }
};

}  // namespace mutualaid::processor::testing

#endif  // MUTUALAID_TESTS_PROCESSOR_COUNTER_LOGIC_H_

// Helpers shared by the kafka tests: unique names, condition polls.

#ifndef MUTUALAID_TESTS_KAFKA_KAFKA_TEST_UTIL_H_
#define MUTUALAID_TESTS_KAFKA_KAFKA_TEST_UTIL_H_

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mutualaid::kafka::testing {

// "<prefix>.<test name>.<pid>.<random>": reruns and parallel runs never
// share a topic or group.
inline std::string UniqueName(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info != nullptr ? info->name() : "none";
  // Topic names allow only [A-Za-z0-9._-] (parameterised tests have '/').
  for (char& c : test) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return absl::StrCat(prefix, ".", test, ".", getpid(), ".", rng() % 1000000000);
}

// Polls `condition` (which may do work, e.g. poll consumers) until it holds
// or `timeout` passes. True if it held.
inline bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
                    absl::Duration interval = absl::Milliseconds(20)) {
  auto end = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
  }
}

}  // namespace mutualaid::kafka::testing

#define MA_ASSERT_OK(expr)                                    \
  do {                                                        \
    const auto& ma_status_ = (expr);                          \
    ASSERT_TRUE(ma_status_.ok()) << #expr << ": " << ma_status_; \
  } while (0)

#define MA_EXPECT_OK(expr)                                    \
  do {                                                        \
    const auto& ma_status_ = (expr);                          \
    EXPECT_TRUE(ma_status_.ok()) << #expr << ": " << ma_status_; \
  } while (0)

#endif  // MUTUALAID_TESTS_KAFKA_KAFKA_TEST_UTIL_H_

// Every reason code of plan-rules.md (the Reason enum's full list), every
// benefit and every decision value appears in at least one committed
// expected output — so the scenario suite exercises the whole plan.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "mutualaid/plan/codes.h"

namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The quoted strings inside each `"key":[...]` list of every line.
std::set<std::string> ListValues(const std::string& text, const std::string& key) {
  std::set<std::string> values;
  const std::string marker = "\"" + key + "\":[";
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    const size_t end = text.find(']', at);
    std::string list = text.substr(at + marker.size(), end - at - marker.size());
    for (size_t q = list.find('"'); q != std::string::npos; q = list.find('"', q + 1)) {
      const size_t close = list.find('"', q + 1);
      values.insert(list.substr(q + 1, close - q - 1));
      q = close;
    }
  }
  return values;
}

std::set<std::string> FieldValues(const std::string& text, const std::string& key) {
  std::set<std::string> values;
  const std::string marker = "\"" + key + "\":\"";
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    const size_t start = at + marker.size();
    values.insert(text.substr(start, text.find('"', start) - start));
  }
  return values;
}

class ScenarioCoverageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& entry : fs::directory_iterator(SCENARIO_DIR)) {
      if (entry.path().extension() == ".jsonl") outputs_ += ReadAll(entry.path());
    }
    ASSERT_FALSE(outputs_.empty()) << "no expected outputs in " << SCENARIO_DIR;
  }
  std::string outputs_;
};

TEST_F(ScenarioCoverageTest, EveryReasonCode) {
  const std::set<std::string> seen = ListValues(outputs_, "reasons");
  for (mutualaid::plan::Reason reason : mutualaid::plan::AllReasons()) {
    EXPECT_TRUE(seen.contains(std::string(mutualaid::plan::ToString(reason))))
        << "no scenario output has " << mutualaid::plan::ToString(reason);
  }
  for (const std::string& code : seen) {
    EXPECT_TRUE(mutualaid::plan::ParseReason(code).has_value()) << "unknown code " << code;
  }
}

TEST_F(ScenarioCoverageTest, EveryBenefitApprovedAndDenied) {
  for (const char* benefit :
       {"HOSPITAL_ALLOWANCE", "CRITICAL_ILLNESS", "COVID19", "CRITICAL_ILLNESS_SUBSIDY",
        "ILLNESS_DEATH", "ACCIDENTAL_DEATH", "ACCIDENTAL_DISABILITY", "ACCIDENT_CONSOLATION"}) {
    for (const char* decision : {"APPROVED", "DENIED"}) {
      bool found = false;
      std::istringstream lines(outputs_);
      for (std::string line; std::getline(lines, line);) {
        if (line.find(std::string("\"benefit\":\"") + benefit + "\"") != std::string::npos &&
            line.find(std::string("\"decision\":\"") + decision + "\"") != std::string::npos) {
          found = true;
        }
      }
      EXPECT_TRUE(found) << benefit << " never " << decision;
    }
  }
}

TEST_F(ScenarioCoverageTest, EveryDecisionKindPayeeAndCap) {
  const std::set<std::string> decisions = FieldValues(outputs_, "decision");
  for (const char* d : {"ACCEPTED", "REJECTED", "PENDING_REVIEW", "APPROVED", "DENIED"}) {
    EXPECT_TRUE(decisions.contains(d)) << d;
  }
  const std::set<std::string> kinds = FieldValues(outputs_, "kind");
  EXPECT_TRUE(kinds.contains("CONCENTRATED"));
  EXPECT_TRUE(kinds.contains("INSTANT"));
  const std::set<std::string> payees = FieldValues(outputs_, "payee");
  EXPECT_TRUE(payees.contains("WORKER_CARD"));
  EXPECT_TRUE(payees.contains("PLATFORM_ACCOUNT"));
  EXPECT_NE(outputs_.find("\"capped\":true"), std::string::npos);
  EXPECT_NE(outputs_.find("\"retry\":true"), std::string::npos);
}

}  // namespace

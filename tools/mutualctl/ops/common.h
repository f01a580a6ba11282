// Shared plumbing of the operations commands (replay, audit, report, history):
// flags, the Kafka connection, reading a topic's partitions, dates.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_OPS_COMMON_H_
#define MUTUALAID_TOOLS_MUTUALCTL_OPS_COMMON_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/v1/common.pb.h"
#include "mutualaid/v1/envelope.pb.h"

namespace mutualaid::mutualctl::ops {

// `--name value` pairs, `--switch` for names in `switches`, positional words.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  std::set<std::string> switches;

  // The flag's value, else the environment variable's, else `fallback`.
  std::string Get(const std::string& name, const char* env = nullptr,
                  const std::string& fallback = "") const;
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  bool On(const std::string& name) const { return switches.count(name) > 0; }
};
absl::StatusOr<Args> ParseArgs(int argc, char** argv, const std::set<std::string>& switches = {});

// --bootstrap (default $MUTUALAID_KAFKA_BOOTSTRAP or 127.0.0.1:19092).
kafka::ClientConfig ClientFrom(const Args& args);
// --topic-prefix (default "").
std::string PrefixFrom(const Args& args);

// The four events topics, in the order listed in topics.h.
std::vector<std::string> EventsTopics(const std::string& prefix);

// Every record of every partition of `topic` from offset 0 to the end, in
// partition order. `visit` returning false stops the partition.
absl::Status ReadTopic(const kafka::ClientConfig& client, const std::string& topic,
                       const std::function<bool(const kafka::Message&)>& visit);
// Only partition `partition`.
absl::Status ReadPartition(const kafka::ClientConfig& client, const std::string& topic,
                           int32_t partition,
                           const std::function<bool(const kafka::Message&)>& visit);
absl::StatusOr<int32_t> PartitionCount(const kafka::ClientConfig& client, const std::string& topic);
// Sum over partitions of high - low watermarks (an upper bound of the records).
absl::StatusOr<int64_t> RecordCount(const kafka::ClientConfig& client,
                                    const std::vector<std::string>& topics);

absl::TimeZone Shanghai();
absl::CivilDay DayOf(const v1::Date& d);
std::string DateText(const v1::Date& d);  // "2022-05-10", "" if unset
bool IsSet(const v1::Date& d);
// The Shanghai day an envelope was recorded on (occurred_on when unstamped).
absl::CivilDay RecordedDay(const v1::Envelope& e);
std::string TimeText(absl::Time t);  // "2022-05-10 09:30:00" Shanghai
absl::Time RecordedAt(const v1::Envelope& e);
bool ParseDay(const std::string& text, absl::CivilDay* day);

// "1,234.50" from fen.
std::string Yuan(int64_t fen);

// Reason code / enum names without their prefix ("WAITING_PERIOD").
std::string ReasonName(int code);
std::string BenefitName(int benefit);     // "HOSPITAL_ALLOWANCE"
std::string BenefitLabel(int benefit);    // 住院补助金
std::string KindLabel(int kind);          // 集中参保 / 即时参保
std::string ClaimStatusName(int status);  // "APPROVED"

// Reads a bearer token file (whitespace stripped).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);
// The file's bytes.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace mutualaid::mutualctl::ops

#endif  // MUTUALAID_TOOLS_MUTUALCTL_OPS_COMMON_H_

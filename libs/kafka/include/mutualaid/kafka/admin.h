// Topic administration: create the system's topics (idempotently), look at
// them, delete them (tests), and read partition watermarks.

#ifndef MUTUALAID_KAFKA_ADMIN_H_
#define MUTUALAID_KAFKA_ADMIN_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"

namespace mutualaid::kafka {

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  // -1: the broker's default.replication.factor.
  int16_t replication_factor = -1;
  // Topic configs, e.g. {"retention.ms", "-1"}.
  std::map<std::string, std::string> config;

  // An event-log topic: kept forever (retention.ms=-1, retention.bytes=-1).
  static TopicSpec EventLog(std::string name, int32_t partitions);
};

struct TopicDescription {
  std::string name;
  int32_t partitions = 0;
  // Only configs set on the topic itself (not broker defaults).
  std::map<std::string, std::string> config;
};

// Offsets of a partition. `low`: the first offset still kept. `high`: one
// past the last record a read_committed reader can see (the last stable
// offset: open transactions hold it back).
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

// Thread-safe.
class Admin {
 public:
  static absl::StatusOr<std::unique_ptr<Admin>> Create(const ClientConfig& client);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Creates the topics that do not exist yet and waits until every one of
  // them has a leader for all partitions. A topic that exists with another
  // partition count is FailedPrecondition (the partition count is part of
  // the data's layout); its configs are not compared.
  absl::Status EnsureTopics(const std::vector<TopicSpec>& topics,
                            absl::Duration timeout = absl::Seconds(30));

  // Names of all topics except Kafka's internal ones (those starting "__").
  absl::StatusOr<std::vector<std::string>> ListTopics(
      absl::Duration timeout = absl::Seconds(10));

  // NotFound if the topic does not exist.
  absl::StatusOr<TopicDescription> DescribeTopic(absl::string_view topic,
                                                 absl::Duration timeout = absl::Seconds(10));

  // Deletes topics; missing ones are not an error. For tests and resets.
  absl::Status DeleteTopics(const std::vector<std::string>& topics,
                            absl::Duration timeout = absl::Seconds(30));

  absl::StatusOr<Watermarks> QueryWatermarks(absl::string_view topic, int32_t partition,
                                             absl::Duration timeout = absl::Seconds(10));

  class Impl;

 private:
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// EnsureTopics for every topic in topics.h, each TopicSpec::EventLog with
// `partitions` partitions.
absl::Status EnsureSystemTopics(Admin& admin, int32_t partitions,
                                absl::Duration timeout = absl::Seconds(30));

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_ADMIN_H_

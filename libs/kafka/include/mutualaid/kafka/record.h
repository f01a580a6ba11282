// Bytes in, bytes out: what is appended to and read from a topic. The payload
// encoding (the envelope protobuf) is someone else's business.

#ifndef MUTUALAID_KAFKA_RECORD_H_
#define MUTUALAID_KAFKA_RECORD_H_

#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace mutualaid::kafka {

// librdkafka's partitioner picks the partition (murmur2 of the key, the Java
// client's default, so every client puts a worker key in the same partition).
inline constexpr int32_t kAnyPartition = -1;

// The partition the producers put `key` in, out of `partitions` (murmur2, as
// the Java client): lets a caller know a record's partition before appending
// it, e.g. to read the state of the co-partitioned topics first.
int32_t PartitionOf(std::string_view key, int32_t partitions);

struct Header {
  std::string key;
  std::string value;

  friend bool operator==(const Header&, const Header&) = default;
};
using Headers = std::vector<Header>;

// One record to append.
struct Record {
  std::string topic;
  std::string key;
  std::string value;
  Headers headers;
  int32_t partition = kAnyPartition;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// Where an appended record landed, or (for offsets to commit) the next offset
// to read in a partition.
struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;

  friend bool operator==(const TopicPartitionOffset&,
                         const TopicPartitionOffset&) = default;
};

// One record read from a topic.
struct Message {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  Headers headers;
  // The record's timestamp (CreateTime: the producer's clock). Informational
  // only: business time travels in the envelope.
  absl::Time timestamp = absl::InfinitePast();
};

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_RECORD_H_

// Replay: reads one partition from a given offset to its end, read_committed,
// outside any consumer group (plain assign, no offsets committed).
//
// "The end" is where the partition stood when the reader got there: the last
// stable offset (records of open transactions are not waited for, records of
// aborted ones are skipped). A processor rebuilding its state reads each
// partition this way, then joins its group.
//
// Not thread-safe.

#ifndef MUTUALAID_KAFKA_PARTITION_READER_H_
#define MUTUALAID_KAFKA_PARTITION_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/record.h"

namespace mutualaid::kafka {

class PartitionReader {
 public:
  // Starts reading `topic`/`partition` at `start_offset` (>= 0; 0 or the
  // low watermark for the whole log). NotFound if the partition does not exist.
  static absl::StatusOr<std::unique_ptr<PartitionReader>> Open(
      const ClientConfig& client, absl::string_view topic, int32_t partition,
      int64_t start_offset, absl::Duration timeout = absl::Seconds(30));

  ~PartitionReader();
  PartitionReader(const PartitionReader&) = delete;
  PartitionReader& operator=(const PartitionReader&) = delete;

  // The next record, or nullopt once the end is reached (and on every call
  // after). DeadlineExceeded if neither a record nor the end arrives within
  // `timeout`.
  absl::StatusOr<std::optional<Message>> Next(absl::Duration timeout = absl::Seconds(30));

  // True once Next returned nullopt.
  bool at_end() const;

  class Impl;

 private:
  explicit PartitionReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_PARTITION_READER_H_

// The idempotent producer that gRPC handlers append requests with.
//
// enable.idempotence=true (acks=all, in-order, no duplicates from internal
// retries). A handler calls Append and answers its caller only after the
// broker acknowledged, so an accepted request is never lost.

#ifndef MUTUALAID_KAFKA_PRODUCER_H_
#define MUTUALAID_KAFKA_PRODUCER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/record.h"

namespace mutualaid::kafka {

struct ProducerOptions {
  ClientConfig client;
  // "none", "gzip", "snappy", "lz4" or "zstd".
  std::string compression = "lz4";
  // How long a record may wait for its ack, retries included
  // (message.timeout.ms). Past it the record fails with DeadlineExceeded.
  absl::Duration delivery_timeout = absl::Seconds(30);
  // Batching delay (linger.ms): small, since a caller waits for each ack.
  absl::Duration linger = absl::Milliseconds(2);
};

// Thread-safe: many handler threads may append at once. A background thread
// serves delivery reports.
class Producer {
 public:
  using DeliveryCallback =
      std::function<void(absl::StatusOr<TopicPartitionOffset> delivered)>;

  static absl::StatusOr<std::unique_ptr<Producer>> Create(ProducerOptions options);

  // Flushes what is queued (up to the delivery timeout), then closes.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Appends one record and waits for the broker's ack. Returns where it
  // landed. On DeadlineExceeded/Unavailable the record may or may not be in
  // the log.
  absl::StatusOr<TopicPartitionOffset> Append(absl::string_view topic,
                                              absl::string_view key,
                                              absl::string_view value,
                                              const Headers& headers = {});
  absl::StatusOr<TopicPartitionOffset> Append(const Record& record);

  // Appends several records and waits for all their acks; one result per
  // record, in order. Records for one partition keep their order.
  std::vector<absl::StatusOr<TopicPartitionOffset>> AppendBatch(
      const std::vector<Record>& records);

  // Queues a record and returns at once; `done` runs once, on the producer's
  // background thread, when the broker acked or the record failed. `done`
  // must be quick and must not call back into this producer's Flush or
  // destructor. A non-OK return means `done` will not run.
  absl::Status AppendAsync(const Record& record, DeliveryCallback done);

  // Waits until every queued record is acked or failed.
  absl::Status Flush(absl::Duration timeout);

  // OK, or the fatal error that made this producer unusable (e.g. the broker
  // lost the idempotence state): the owner must make a new producer.
  absl::Status FatalError() const;

  class Impl;

 private:
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_PRODUCER_H_

// The transactional producer a stream processor runs consume -> decide ->
// produce with: the produced events and the consumed offsets commit together,
// or not at all.
//
//   auto p = TransactionalProducer::Create({.client = ..., .transactional_id = ...});
//   p->InitTransactions(timeout);               // fences older instances
//   loop:
//     p->BeginTransaction();
//     p->Send(event) ...;
//     p->SendOffsetsToTransaction(consumer, next_offsets, timeout);
//     s = p->CommitTransaction(timeout);
//     if (IsRetriable(s))   retry the commit
//     if (RequiresAbort(s)) p->AbortTransaction(timeout);
//                           consumer.RewindToCommitted(timeout); redo
//     if (IsFatal(s))       stop: fenced or broken; make a new producer (or exit)
//
// transactional_id must be stable per unit of work (e.g. "<service>-<partition
// set>" or "<service>-<replica>"): a restarted instance with the same id fences
// the old one, so a zombie can never commit.
//
// Not thread-safe: one thread drives a transaction.

#ifndef MUTUALAID_KAFKA_TRANSACTIONAL_PRODUCER_H_
#define MUTUALAID_KAFKA_TRANSACTIONAL_PRODUCER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/record.h"

namespace mutualaid::kafka {

struct TransactionalProducerOptions {
  ClientConfig client;
  std::string transactional_id;
  // The broker aborts a transaction open longer than this.
  absl::Duration transaction_timeout = absl::Seconds(60);
  std::string compression = "lz4";
  absl::Duration linger = absl::Milliseconds(5);
};

class TransactionalProducer {
 public:
  static absl::StatusOr<std::unique_ptr<TransactionalProducer>> Create(
      TransactionalProducerOptions options);

  // Aborts an open transaction (best effort), then closes.
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // Registers the transactional id with the coordinator, fencing any older
  // producer with the same id and finishing its open transaction. Once,
  // before the first transaction; retry it on IsRetriable.
  absl::Status InitTransactions(absl::Duration timeout);

  absl::Status BeginTransaction();

  // Queues a record in the current transaction. Delivery failures surface in
  // CommitTransaction (as RequiresAbort).
  absl::Status Send(const Record& record);

  // Adds the consumer's progress to the transaction: `offsets` are the next
  // offsets to read (last processed + 1) of partitions `consumer` owns.
  absl::Status SendOffsetsToTransaction(const Consumer& consumer,
                                        const std::vector<TopicPartitionOffset>& offsets,
                                        absl::Duration timeout);

  // Flushes the transaction's records and commits it.
  absl::Status CommitTransaction(absl::Duration timeout);

  // Aborts the current transaction: its records are never seen by
  // read_committed readers.
  absl::Status AbortTransaction(absl::Duration timeout);

  // Records handed to Send whose delivery failed, since creation (for tests
  // and metrics).
  int64_t failed_deliveries() const;

  // After a successful CommitTransaction: where the committed transaction's
  // records landed, the highest offset per partition (a processor stores
  // offset + 1 as the applied offset of its own events). Waits up to `timeout`
  // for the last delivery reports (DeadlineExceeded if they do not come).
  absl::StatusOr<std::vector<TopicPartitionOffset>> TakeDelivered(
      absl::Duration timeout = absl::Seconds(10));

  class Impl;

 private:
  explicit TransactionalProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_TRANSACTIONAL_PRODUCER_H_

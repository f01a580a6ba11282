// Kafka failures as absl::Status values.
//
// Every function in this library that talks to the cluster returns a Status
// with a canonical code:
//
//   Unavailable        no broker reachable, leader moving, coordinator loading:
//                      retry later (a broker outage)
//   DeadlineExceeded   no answer in time; for a produce: the record may or may
//                      not have been written (retry with the same idempotency key)
//   NotFound           unknown topic or partition
//   AlreadyExists      topic exists
//   InvalidArgument    bad config, bad topic name, record too large
//   Aborted            the current transaction cannot commit: abort it, rewind
//                      the consumer to the committed offsets, redo the work
//   FailedPrecondition wrong state (e.g. commit without begin), or this producer
//                      was fenced by a newer instance with the same
//                      transactional id: stop, this instance is a zombie
//   ResourceExhausted  local produce queue full: poll/flush and retry
//   Internal           anything else, including fatal producer errors
//
// and a payload that says what the caller should do about it, read with the
// predicates below. They answer false for statuses that did not come from this
// library.

#ifndef MUTUALAID_KAFKA_ERROR_H_
#define MUTUALAID_KAFKA_ERROR_H_

#include <string>

#include "absl/status/status.h"

namespace mutualaid::kafka {

// The same operation may succeed if retried as is (librdkafka:
// rd_kafka_error_is_retriable, or a transient broker error).
bool IsRetriable(const absl::Status& status);

// The transaction in progress must be aborted; after AbortTransaction the
// producer is usable again (rd_kafka_error_txn_requires_abort).
bool RequiresAbort(const absl::Status& status);

// The client is unusable: destroy it and make a new one, or exit
// (rd_kafka_error_is_fatal). Fencing is fatal.
bool IsFatal(const absl::Status& status);

// Another producer with the same transactional.id took over (PRODUCER_FENCED,
// INVALID_PRODUCER_EPOCH, _FENCED). Implies IsFatal.
bool IsFenced(const absl::Status& status);

// librdkafka's name for the underlying error ("_TRANSPORT",
// "NOT_ENOUGH_REPLICAS", ...), or "" when the status carries none.
std::string KafkaErrorName(const absl::Status& status);

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_ERROR_H_

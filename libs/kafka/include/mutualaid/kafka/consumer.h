// A consumer-group member for stream processors.
//
// read_committed (records of aborted or open transactions are never
// returned), no automatic offset commits or stores (offsets move only through
// TransactionalProducer::SendOffsetsToTransaction or CommitOffsets), and
// cooperative rebalancing (cooperative-sticky: a rebalance moves only the
// partitions that change owner; the others keep being fetched).
//
// Not thread-safe: one thread owns a Consumer and calls Poll; rebalance
// callbacks run on that thread, inside Poll or Close.

#ifndef MUTUALAID_KAFKA_CONSUMER_H_
#define MUTUALAID_KAFKA_CONSUMER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/record.h"

namespace mutualaid::kafka {

// Start a newly assigned partition at the group's committed offset (or, when
// the group has none, at the start of the partition).
inline constexpr int64_t kCommittedOffset = -1001;  // RD_KAFKA_OFFSET_INVALID
inline constexpr int64_t kBeginningOffset = -2;     // RD_KAFKA_OFFSET_BEGINNING
inline constexpr int64_t kEndOffset = -1;           // RD_KAFKA_OFFSET_END

// A partition being handed to this member and where to start reading it.
struct PartitionStart {
  std::string topic;
  int32_t partition = 0;
  // Set by the handler: an offset >= 0, or kCommittedOffset/kBeginningOffset/
  // kEndOffset. A processor that keeps its applied offsets in its own store
  // sets this to stored offset + 1.
  int64_t offset = kCommittedOffset;
};

// The owner's hooks into rebalances. Both run on the polling thread.
class RebalanceHandler {
 public:
  virtual ~RebalanceHandler() = default;

  // `partitions` are being added to this member's assignment (only the added
  // ones: with cooperative rebalancing the rest stays assigned). Set each one's
  // start offset. A non-OK return leaves the partitions unassigned and makes
  // Poll return that status.
  virtual absl::Status OnAssigned(std::vector<PartitionStart>& partitions) = 0;

  // `partitions` are leaving this member. `lost`: the member was kicked out
  // (session timeout), another member may already own them, so commit
  // nothing for them; otherwise this is the last chance to commit.
  virtual void OnRevoked(const std::vector<TopicPartition>& partitions, bool lost) = 0;
};

struct ConsumerOptions {
  ClientConfig client;
  std::string group_id;
  // How long the broker waits for a silent member before rebalancing.
  absl::Duration session_timeout = absl::Seconds(10);
  // Longest gap between two Poll calls before this member is thrown out.
  absl::Duration max_poll_interval = absl::Minutes(5);
  // Subscribed topics must be assigned together: partition p of every topic
  // to the same member (topics with equal partition counts keyed alike, e.g. a
  // service driven by several event topics of one worker). Uses the eager
  // "range" assignor, which guarantees it; cooperative-sticky does not.
  bool co_partitioned = false;
  // nullptr: every assigned partition starts at its committed offset.
  // Must outlive the consumer.
  RebalanceHandler* rebalance_handler = nullptr;
};

// How far a member is behind in one assigned partition.
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t position = 0;   // next offset this member reads
  int64_t high = 0;       // the end of the partition, as last fetched
  int64_t lag = 0;        // high - position
};

class Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(ConsumerOptions options);

  // Leaves the group (Close) if the owner did not.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Joins the group for `topics` (replacing an earlier subscription).
  absl::Status Subscribe(const std::vector<std::string>& topics);

  // Waits up to `timeout` for one record. nullopt on timeout. Serves
  // rebalances (RebalanceHandler) while it waits. Transient broker errors are
  // logged and retried inside; a non-OK status is one the owner must act on
  // (fatal error, handler failure).
  absl::StatusOr<std::optional<Message>> Poll(absl::Duration timeout);

  // Polls until `max` records or `timeout`, whichever comes first (returns as
  // soon as at least one record is there and no more arrive at once).
  absl::StatusOr<std::vector<Message>> PollBatch(size_t max, absl::Duration timeout);

  // Lag per assigned partition, from the watermarks the last fetches brought
  // (no broker round trip). Partitions not fetched yet are left out.
  std::vector<PartitionLag> Lag() const;

  // The partitions currently assigned to this member.
  absl::StatusOr<std::vector<TopicPartition>> Assignment() const;

  // Commits `offsets` (each the next offset to read) for the group,
  // synchronously. Processors commit through their transaction instead.
  absl::Status CommitOffsets(const std::vector<TopicPartitionOffset>& offsets);

  // The group's committed offsets for `partitions` (kCommittedOffset where
  // there is none).
  absl::StatusOr<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions, absl::Duration timeout) const;

  // Moves the fetch position of assigned partitions.
  absl::Status Seek(const std::vector<TopicPartitionOffset>& offsets,
                    absl::Duration timeout);

  // After an aborted transaction: moves every assigned partition back to the
  // group's committed offset, so the records of the aborted work are read
  // again.
  absl::Status RewindToCommitted(absl::Duration timeout);

  // Leaves the group: revokes the assignment (RebalanceHandler::OnRevoked)
  // and tells the coordinator, so others take over at once.
  absl::Status Close();

  class Impl;

 private:
  friend class TransactionalProducer;  // reads the group metadata
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_CONSUMER_H_

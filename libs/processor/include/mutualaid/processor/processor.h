// The exactly-once stream processor every service runs.
//
// A service supplies its Logic: Decide(state, request) -> events, and
// Apply(state, event). The processor owns the loop:
//
//   on assignment of request partition p:
//     catch up: apply the service's events (and its input event topics) of
//     partition p from the offsets stored in RocksDB to the end of the log;
//     then read requests of p from the group's committed offset.
//   per batch of requests:
//     begin a Kafka transaction; for each request Decide -> events, Apply each
//     event to the in-flight state (so the next request sees it), send it to
//     partition p of the events topic; a request Decide refuses as malformed
//     goes to the dead-letter topic instead; send the consumed offsets to the
//     transaction; commit.
//     after the commit: write the in-flight state and the events' offsets to
//     RocksDB in one batch. On abort: forget the in-flight state, rewind the
//     consumer to the committed offsets and decide again.
//
// Pipelined: a batch's transaction and RocksDB write run on a commit thread
// while the processor thread polls and decides the next batch on top of the
// committing batch's state (State with a base). At most one transaction is
// open and the RocksDB writes follow the commits in order, so the log and the
// store stay exactly as in a one-batch-at-a-time loop; the next batch goes
// into its own transaction only once the previous one committed and its state
// is in RocksDB, and is discarded (the consumer rewound) if it aborted.
// Work that reads or writes the store outside a batch (catching up on
// assignment, input refreshes that find new events, ticks, input barriers)
// first waits for the transaction in flight.
//
// So whatever instant the process dies at, the log holds each request's
// events once (read_committed), and RocksDB holds the fold of a prefix of the
// committed events together with where that prefix ends; the next start
// applies the rest. Records are co-partitioned: an event goes to the same
// partition number as the request it answers.
#ifndef MUTUALAID_PROCESSOR_PROCESSOR_H_
#define MUTUALAID_PROCESSOR_PROCESSOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/processor/state.h"
#include "mutualaid/store/state_store.h"

namespace mutualaid {
class Clock;
class Logger;
}

namespace mutualaid::processor {

// What a service supplies.
class Logic {
 public:
  virtual ~Logic() = default;

  // The column families of the service's state.
  virtual std::vector<std::string> ColumnFamilies() const = 0;

  // Decides one request: appends the events that answer it to `events` (their
  // topic is the service's events topic unless said otherwise; their partition
  // is set by the processor). Must depend only on `state` and `request`, never
  // on a clock. InvalidArgument: the request is malformed (it goes to the
  // dead-letter topic with the message as reason). Any other error stops the
  // processor.
  virtual absl::Status Decide(const State& state, const kafka::Message& request,
                              std::vector<kafka::Record>* events) = 0;

  // Folds one committed event (the service's own or from an input topic) into
  // the state. Must be deterministic: a replay applies the same events in the
  // same order and must reach the same state. InvalidArgument: the event is
  // malformed (skipped, counted, logged).
  virtual absl::Status Apply(State& state, const kafka::Message& event) = 0;

  // Called about every ProcessorOptions::tick_interval for each assigned
  // partition, between batches: the place for work driven by time and state
  // rather than by a record (an outbox sending payouts, SMS held for quiet
  // hours). Appends events like Decide, in a transaction of their own; they
  // are applied like Decide's. `now` is the service's injected clock. The
  // store holds every assigned partition's state, so what a tick acts on must
  // be keyed by partition (Apply sees each event's partition).
  virtual absl::Status Tick(const State& state, int32_t partition, absl::Time now,
                            std::vector<kafka::Record>* events) {
    (void)state, (void)partition, (void)now, (void)events;
    return absl::OkStatus();
  }
};

struct ProcessorOptions {
  kafka::ClientConfig client;
  std::string name;                  // "enrollment"; group id "mutualaid.<name>" by default
  std::string group_id;
  std::string transactional_id;      // stable per replica, e.g. "enrollment-0"
  std::string requests_topic;        // read through the consumer group
  // More topics whose records are decided like requests (e.g. the events of
  // other services a service acts on). Co-partitioned with requests_topic:
  // partition p of each is assigned with partition p of requests_topic.
  std::vector<std::string> extra_request_topics;
  std::string events_topic;          // written by Decide, applied
  std::vector<std::string> input_event_topics;  // other services' events, applied
  std::string dead_letter_topic = "mutualaid.deadletter";
  // Requests per transaction, at most. A batch fills from as many polls as
  // come while the previous transaction commits.
  size_t max_batch = 5000;
  // false: one batch at a time (poll, decide, commit, then the next poll), as
  // before the pipeline; for comparisons and as a fallback.
  bool pipelined = true;
  absl::Duration poll_timeout = absl::Milliseconds(50);
  absl::Duration kafka_timeout = absl::Seconds(30);
  // Logic::Tick's period; zero: never. Needs `clock`.
  absl::Duration tick_interval = absl::ZeroDuration();
  const Clock* clock = nullptr;
  const Logger* logger = nullptr;    // nullptr: stderr
  // Called after each batch is committed to Kafka and RocksDB, with the
  // events it appended to the events topic (partition set): how a gRPC edge
  // in the same process learns its requests' answers. Runs on the commit
  // thread, one batch at a time, in commit order. Must be quick.
  std::function<void(const std::vector<kafka::Record>& events)> on_committed;
  // Called before a request is decided: waits until every upstream record the
  // request depends on has been decided upstream (e.g. claims wait for the
  // enrollment service to have decided every enrollment received before the
  // claim). true: the processor first reads its input event topics' partition
  // to the end (false: the view is known to be current already). An error
  // (say Unavailable after a timeout): the batch is put back and tried again
  // on the next poll.
  std::function<absl::StatusOr<bool>(const kafka::Message& request)> input_barrier;
};

struct ProcessorStats {
  int64_t requests = 0;       // decided (committed)
  int64_t events = 0;         // produced (committed)
  int64_t dead_lettered = 0;
  int64_t applied = 0;        // events applied to the store (including catch-up)
  int64_t skipped = 0;        // events Apply refused as malformed
  int64_t aborts = 0;         // transactions aborted and redone
  int64_t producer_restarts = 0;
  int64_t batches = 0;
  int64_t ticks = 0;          // ticks that produced events (committed)
  int64_t lag = 0;            // requests not yet consumed, over the assigned partitions
  std::vector<kafka::PartitionLag> lag_by_partition;
  // Where the time goes, cumulative seconds (the profile the benchmarks
  // print). Processor thread: polling for requests, bringing input event
  // topics up to date (and catching up), deciding (Decide + Apply), waiting
  // for the previous transaction. Commit thread (overlaps the others): the
  // Kafka transaction (begin, sends, offsets, commit), then the delivery
  // reports, the RocksDB write and on_committed.
  double poll_seconds = 0;
  double refresh_seconds = 0;
  double decide_seconds = 0;
  double wait_seconds = 0;
  double transaction_seconds = 0;
  double store_seconds = 0;
};

class Processor {
 public:
  // `logic` and `store` must outlive the processor; the store must have been
  // opened with logic->ColumnFamilies().
  static absl::StatusOr<std::unique_ptr<Processor>> Create(ProcessorOptions options, Logic* logic,
                                                           store::StateStore* store);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  // Runs until `stop` is set (checked between batches), then leaves the group
  // cleanly. Returns the error that stopped it otherwise (the caller logs it
  // and exits; a restart resumes exactly where the log and the store agree).
  absl::Status Run(const std::atomic<bool>& stop);

  ProcessorStats stats() const;

  class Impl;

 private:
  explicit Processor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The header names on a dead-lettered record (its value is the original bytes).
inline constexpr char kDeadLetterReasonHeader[] = "mutualaid.reason";
inline constexpr char kDeadLetterSourceHeader[] = "mutualaid.source";  // topic/partition/offset
inline constexpr char kDeadLetterConsumerHeader[] = "mutualaid.consumer";

}  // namespace mutualaid::processor

#endif  // MUTUALAID_PROCESSOR_PROCESSOR_H_

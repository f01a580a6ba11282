// Replay: rebuild a service's state from the log into a fresh store, to check
// it against the live one (digests) or to see the state as of a day.
#ifndef MUTUALAID_PROCESSOR_REPLAY_H_
#define MUTUALAID_PROCESSOR_REPLAY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/store/state_store.h"

namespace mutualaid::processor {

struct ReplayOptions {
  kafka::ClientConfig client;
  // The topics whose events make the state: the service's events topic and its
  // input event topics (ProcessorOptions::events_topic + input_event_topics).
  // Every partition of each is read from offset 0 to its end. A service's
  // Apply for different topics touches different keys, so the order across
  // topics does not change the result.
  std::vector<std::string> topics;
  // Stops a partition at the first event for which this returns true (e.g.
  // recorded after the day asked for). nullptr: read to the end.
  std::function<bool(const kafka::Message&)> stop_at;
  // Called every `progress_every` events with the count so far.
  std::function<void(int64_t events)> progress;
  int64_t progress_every = 100000;
};

struct ReplayResult {
  int64_t events = 0;   // applied
  int64_t skipped = 0;  // refused by Apply as malformed
  std::string digest;   // of the rebuilt state (offsets excluded)
};

// PartitionReader::Open, retried while the partition has no leader yet (a
// topic just created) or the broker is briefly away, up to `timeout`.
absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> OpenReader(const kafka::ClientConfig& client,
                                                                   const std::string& topic,
                                                                   int32_t partition,
                                                                   int64_t start_offset,
                                                                   absl::Duration timeout);

// Applies every event of `options.topics` with `logic` into `store`, which
// should be fresh (opened with logic.ColumnFamilies()).
absl::StatusOr<ReplayResult> Replay(const ReplayOptions& options, Logic& logic,
                                    store::StateStore& store);

}  // namespace mutualaid::processor

#endif  // MUTUALAID_PROCESSOR_REPLAY_H_

#include "mutualaid/processor/replay.h"

#include <chrono>
#include <thread>

#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/error.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/processor/state.h"

namespace mutualaid::processor {
namespace {

constexpr int kApplyBatch = 5000;

}  // namespace

absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> OpenReader(const kafka::ClientConfig& client,
                                                                   const std::string& topic,
                                                                   int32_t partition,
                                                                   int64_t start_offset,
                                                                   absl::Duration timeout) {
  // Operational backoff, measured on the steady clock (not business time).
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (true) {
    absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> reader =
        kafka::PartitionReader::Open(client, topic, partition, start_offset, timeout);
    // NotFound too: right after a broker restart an existing partition is
    // briefly unknown (_UNKNOWN_PARTITION) until the metadata is loaded.
    const bool transient = !reader.ok() && (kafka::IsRetriable(reader.status()) ||
                                            reader.status().code() == absl::StatusCode::kUnavailable ||
                                            reader.status().code() == absl::StatusCode::kNotFound);
    if (!transient || std::chrono::steady_clock::now() >= deadline) return reader;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

absl::StatusOr<ReplayResult> Replay(const ReplayOptions& options, Logic& logic,
                                    store::StateStore& store) {
  absl::StatusOr<std::unique_ptr<kafka::Admin>> admin = kafka::Admin::Create(options.client);
  if (!admin.ok()) return admin.status();
  ReplayResult result;
  for (const std::string& topic : options.topics) {
    absl::StatusOr<kafka::TopicDescription> desc = (*admin)->DescribeTopic(topic);
    if (!desc.ok()) return desc.status();
    for (int32_t p = 0; p < desc->partitions; ++p) {
      absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> reader =
          OpenReader(options.client, topic, p, 0, absl::Seconds(30));
      if (!reader.ok()) return reader.status();
      State state(store);
      int64_t pending = 0, next = 0;
      auto flush = [&]() -> absl::Status {
        if (pending == 0) return absl::OkStatus();
        store::Batch batch = store.NewBatch();
        state.MoveTo(batch);
        batch.SetAppliedOffset(topic, p, next);
        pending = 0;
        return store.Commit(batch);
      };
      while (true) {
        absl::StatusOr<std::optional<kafka::Message>> m = (*reader)->Next();
        if (!m.ok()) return m.status();
        if (!m->has_value()) break;
        const kafka::Message& event = **m;
        if (options.stop_at && options.stop_at(event)) break;
        FollowChain(state, event);
        absl::Status s = logic.Apply(state, event);
        if (s.code() == absl::StatusCode::kInvalidArgument) {
          ++result.skipped;
        } else if (!s.ok()) {
          return s;
        } else {
          ++result.events;
          if (options.progress && result.events % options.progress_every == 0) {
            options.progress(result.events);
          }
        }
        next = event.offset + 1;
        if (++pending >= kApplyBatch) {
          if (absl::Status fs = flush(); !fs.ok()) return fs;
        }
      }
      if (absl::Status fs = flush(); !fs.ok()) return fs;
    }
  }
  absl::StatusOr<std::string> digest = store.Digest();
  if (!digest.ok()) return digest.status();
  result.digest = *digest;
  return result;
}

}  // namespace mutualaid::processor

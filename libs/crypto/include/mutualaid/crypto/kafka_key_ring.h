// The key ring the services run: the per-worker data keys, wrapped by the
// master key, in the compacted topic mutualaid.keys (one partition), keyed
// "<worker key>/<key id>". Every service reads the whole topic into memory at
// start and again whenever it grew (at most every refresh_interval, and at
// once when a key it is asked for is unknown). Erasing a worker appends, for
// each of its keys, a record with the same Kafka key that says erased and
// holds no key: every service drops the key at its next refresh, and
// compaction deletes the wrapped key from the broker's disk (segment.ms and
// max.compaction.lag.ms bound how long that takes: a day). Nothing else
// stores a data key: not the event topics, not RocksDB (README.md).
#ifndef MUTUALAID_CRYPTO_KAFKA_KEY_RING_H_
#define MUTUALAID_CRYPTO_KAFKA_KEY_RING_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/producer.h"

namespace mutualaid::crypto {

// The topic's name without a prefix.
inline constexpr char kKeysTopic[] = "mutualaid.keys";

struct KafkaKeyRingOptions {
  kafka::ClientConfig client;
  std::string topic = kKeysTopic;   // with the deployment's topic prefix
  std::string creator;              // the service, recorded on keys it makes
  const Clock* clock = nullptr;     // stamps created/erased times
  absl::Duration refresh_interval = absl::Milliseconds(250);
  absl::Duration timeout = absl::Seconds(30);
};

class KafkaKeyRing final : public KeyRing {
 public:
  // Creates the topic if missing, then reads it to the end.
  static absl::StatusOr<std::unique_ptr<KafkaKeyRing>> Create(MasterKey master,
                                                              KafkaKeyRingOptions options);
  // The topic: compacted, never deleted by age, compacted within a day.
  static kafka::TopicSpec Spec(std::string name);

  absl::StatusOr<DataKey> KeyForSealing(absl::string_view worker_key) override;
  absl::StatusOr<DataKey> KeyForOpening(absl::string_view worker_key,
                                        absl::string_view key_id) override;
  absl::StatusOr<int> Erase(absl::string_view worker_key, absl::string_view by) override;

  // Reads what was appended since the last read (always when `force`,
  // else only if refresh_interval has passed).
  absl::Status Refresh(bool force);
  size_t size() const { return index_.size(); }

 private:
  KafkaKeyRing(MasterKey master, KafkaKeyRingOptions options,
               std::unique_ptr<kafka::Admin> admin, std::unique_ptr<kafka::Producer> producer);
  absl::Status Append(const v1::WorkerDataKey& record);

  MasterKey master_;
  KafkaKeyRingOptions options_;
  std::unique_ptr<kafka::Admin> admin_;
  std::unique_ptr<kafka::Producer> producer_;
  KeyIndex index_;
  absl::Mutex create_mu_;  // one key made at a time (no two for one worker here)
  absl::Mutex read_mu_;
  int64_t next_offset_ ABSL_GUARDED_BY(read_mu_) = 0;
  std::optional<std::chrono::steady_clock::time_point> last_refresh_ ABSL_GUARDED_BY(read_mu_);
};

}  // namespace mutualaid::crypto

#endif  // MUTUALAID_CRYPTO_KAFKA_KEY_RING_H_

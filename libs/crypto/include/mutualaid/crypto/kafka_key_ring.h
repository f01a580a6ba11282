// The key ring the services run: the per-worker data keys, wrapped by the
// master key, in the compacted topic mutualaid.keys (one partition), keyed
// "<worker key>/<key id>". Each service keeps a local copy of the topic in a
// key cache (key_cache.h: a RocksDB of its own directory, with the offset read
// up to), so memory does not grow with the number of workers and a restart
// reads only what was appended since; it reads the topic's tail again whenever
// it grew (at most every refresh_interval, and at once when a key it is asked
// for is unknown). The clear keys most recently used stay in a bounded LRU.
// Erasing a worker appends, for each of its keys, a record with the same Kafka
// key that says erased and holds no key: every service drops the key at its
// next refresh and purges the wrapped key from its cache's files at once, and
// compaction deletes it from the broker's disk (segment.ms and
// max.compaction.lag.ms bound how long that takes: a day). Nothing else
// stores a data key: not the event topics, not the state stores (README.md).
#ifndef MUTUALAID_CRYPTO_KAFKA_KEY_RING_H_
#define MUTUALAID_CRYPTO_KAFKA_KEY_RING_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mutualaid/crypto/key_cache.h"
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
  // The key cache's own directory (services: crypto.key_cache_path, default
  // <store.path>/keys). Empty: kept in memory, nothing on disk, the whole
  // topic read at each start (tools, tests).
  std::string cache_path;
  size_t cache_block_cache_bytes = size_t{16} << 20;
  // How many clear data keys stay in memory (least recently used go first).
  size_t unwrapped_keys = 65536;
};

class KafkaKeyRing final : public KeyRing {
 public:
  // Creates the topic if missing, opens the key cache (made anew if missing or
  // unreadable), then reads the topic from where the cache stopped to the end.
  static absl::StatusOr<std::unique_ptr<KafkaKeyRing>> Create(MasterKey master,
                                                              KafkaKeyRingOptions options);
  // The topic: compacted, never deleted by age, compacted within a day.
  static kafka::TopicSpec Spec(std::string name);

  absl::StatusOr<DataKey> KeyForSealing(absl::string_view worker_key) override;
  absl::StatusOr<DataKey> KeyForOpening(absl::string_view worker_key,
                                        absl::string_view key_id) override;
  absl::StatusOr<int> Erase(absl::string_view worker_key, absl::string_view by) override;
  absl::Status CatchUp() override { return Refresh(true); }
  absl::Status PrepareKeys(const std::vector<std::string>& worker_keys) override;

  // Reads what was appended since the last read (always when `force`,
  // else only if refresh_interval has passed).
  absl::Status Refresh(bool force);
  // Key records held (erased markers included).
  size_t size() const { return static_cast<size_t>(cache_->size()); }
  // Records read from the topic by this ring since Create (a restart on a
  // kept cache reads only what was appended since it stopped).
  int64_t records_read() const { return records_read_.load(); }
  // True when the cache started empty (new, missing, unreadable, another
  // topic) or was rebuilt from the topic since.
  bool cache_rebuilt() const { return cache_->rebuilt(); }
  const UnwrappedKeys& unwrapped() const { return unwrapped_; }

 private:
  KafkaKeyRing(MasterKey master, KafkaKeyRingOptions options,
               std::unique_ptr<kafka::Admin> admin, std::unique_ptr<kafka::Producer> producer,
               std::unique_ptr<KeyCache> cache);
  absl::Status Append(const v1::WorkerDataKey& record);
  absl::Status RefreshLocked(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);
  // Applies records to the cache; drops and purges what they erased.
  absl::Status ApplyLocked(const std::vector<KeyCache::Entry>& entries, int64_t next_offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);
  // Purges the wrapped keys ApplyLocked erased from the cache's files.
  absl::Status PurgeErased() ABSL_LOCKS_EXCLUDED(read_mu_);
  // A cache read that found corruption: wipe it and read the topic again.
  absl::Status RebuildLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);
  // A cache read, rebuilt from the topic once if it found corruption.
  template <typename T, typename Read>
  absl::StatusOr<T> ReadCache(Read read);
  absl::StatusOr<DataKey> Unwrap(absl::string_view worker_key, absl::string_view key_id,
                                 const std::optional<v1::WorkerDataKey>& record, uint64_t epoch);

  MasterKey master_;
  KafkaKeyRingOptions options_;
  std::unique_ptr<kafka::Admin> admin_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<KeyCache> cache_;
  UnwrappedKeys unwrapped_;
  std::atomic<int64_t> records_read_{0};
  absl::Mutex create_mu_;  // one key made at a time (no two for one worker here)
  absl::Mutex read_mu_;
  std::optional<std::chrono::steady_clock::time_point> last_refresh_ ABSL_GUARDED_BY(read_mu_);
  std::vector<std::string> to_purge_ ABSL_GUARDED_BY(read_mu_);
  absl::Mutex purge_mu_;  // one purge at a time
};

}  // namespace mutualaid::crypto

#endif  // MUTUALAID_CRYPTO_KAFKA_KEY_RING_H_

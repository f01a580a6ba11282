// Where the per-worker data keys live: the key ring every service that seals
// or opens personal data asks. Two implementations:
//   MemoryKeyRing   in memory only (unit tests, offline tools);
//   KafkaKeyRing    the compacted topic mutualaid.keys (kafka_key_ring.h),
//                   what the services run.
// Both keep an index of wrapped keys (WorkerDataKey records) and unwrap a key
// with the master key only when it is used; the clear key never leaves memory.
#ifndef MUTUALAID_CRYPTO_KEY_RING_H_
#define MUTUALAID_CRYPTO_KEY_RING_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/v1/common.pb.h"

namespace mutualaid {
class Clock;
}

namespace mutualaid::crypto {

// What readers show in place of personal data whose key was erased.
inline constexpr char kErased[] = "erased";

// True for the status a key ring returns for an erased key.
bool IsErased(const absl::Status& status);

class KeyRing {
 public:
  virtual ~KeyRing() = default;

  // The worker's data key to seal with: the newest one not erased, or a new
  // one, recorded durably before it is returned (so whatever it seals can be
  // opened by every service).
  virtual absl::StatusOr<DataKey> KeyForSealing(absl::string_view worker_key) = 0;

  // The data key `key_id` of `worker_key`, to open with. FailedPrecondition
  // ("personal data erased …", IsErased) once erased; NotFound if unknown.
  virtual absl::StatusOr<DataKey> KeyForOpening(absl::string_view worker_key,
                                                absl::string_view key_id) = 0;

  // Erases every data key of the worker: what they sealed can no longer be
  // opened anywhere. Returns how many keys were erased now (0: all were
  // already erased). NotFound if the ring never had a key for the worker.
  virtual absl::StatusOr<int> Erase(absl::string_view worker_key, absl::string_view by) = 0;

  // Makes the data keys of those of `worker_keys` that have no usable one,
  // recorded durably as KeyForSealing records one, but together: one round
  // trip for the group instead of one per worker. KeyForSealing then finds
  // them. For an edge about to seal many new workers' records.
  virtual absl::Status PrepareKeys(const std::vector<std::string>& worker_keys) {
    for (const std::string& worker_key : worker_keys) {
      absl::StatusOr<DataKey> key = KeyForSealing(worker_key);
      if (!key.ok()) return key.status();
    }
    return absl::OkStatus();
  }

  // Reads every key record appended before this call, so that an erasure
  // acknowledged before it is seen by the KeyForOpening calls after it (a ring
  // otherwise sees another service's erasure at its next refresh, within a
  // fraction of a second). For the paths where that fraction matters: the
  // payout before it hands a card to the bank, the SMS outbox before a send.
  // One broker round trip; rings with nothing to read return at once.
  virtual absl::Status CatchUp() { return absl::OkStatus(); }
};

// The index of WorkerDataKey records both rings keep. Thread-safe.
class KeyIndex {
 public:
  // Adds or replaces (an erasure marker replaces the wrapped key) a record.
  void Put(const v1::WorkerDataKey& record);
  std::optional<v1::WorkerDataKey> Find(absl::string_view key_id) const;
  // The newest (last put) key of the worker not erased.
  std::optional<v1::WorkerDataKey> Usable(absl::string_view worker_key) const;
  // Every key of the worker, erased ones included, oldest first.
  std::vector<v1::WorkerDataKey> KeysOf(absl::string_view worker_key) const;
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, v1::WorkerDataKey, std::less<>> by_id_ ABSL_GUARDED_BY(mu_);
  // worker key -> key ids, in the order first put
  std::map<std::string, std::vector<std::string>, std::less<>> by_worker_ ABSL_GUARDED_BY(mu_);
};

// Seals / opens one field of a worker through a key ring.
absl::StatusOr<v1::SealedPersonalData> SealField(KeyRing& ring, absl::string_view worker_key,
                                                 absl::string_view field,
                                                 absl::string_view plaintext);
absl::StatusOr<std::string> OpenField(KeyRing& ring, absl::string_view worker_key,
                                      absl::string_view field,
                                      const v1::SealedPersonalData& sealed);
absl::StatusOr<v1::SealedPersonalData> SealPerson(KeyRing& ring, absl::string_view worker_key,
                                                  const v1::PersonalData& person);
absl::StatusOr<v1::PersonalData> OpenPerson(KeyRing& ring, absl::string_view worker_key,
                                            const v1::SealedPersonalData& sealed);

// In memory (tests, tools). Thread-safe.
class MemoryKeyRing final : public KeyRing {
 public:
  // `clock` (may be null: timestamps 0) stamps created/erased times.
  MemoryKeyRing(MasterKey master, const Clock* clock = nullptr, std::string creator = "memory")
      : master_(std::move(master)), clock_(clock), creator_(std::move(creator)) {}

  absl::StatusOr<DataKey> KeyForSealing(absl::string_view worker_key) override;
  absl::StatusOr<DataKey> KeyForOpening(absl::string_view worker_key,
                                        absl::string_view key_id) override;
  absl::StatusOr<int> Erase(absl::string_view worker_key, absl::string_view by) override;

  // The records as a KafkaKeyRing would have written them (tests).
  const KeyIndex& index() const { return index_; }

 private:
  MasterKey master_;
  const Clock* clock_;
  std::string creator_;
  absl::Mutex create_mu_;
  KeyIndex index_;
};

// Helpers both rings use.
int64_t UnixSeconds(const Clock* clock);
absl::StatusOr<DataKey> OpenRecord(const MasterKey& master, absl::string_view worker_key,
                                   absl::string_view key_id,
                                   const std::optional<v1::WorkerDataKey>& record);

}  // namespace mutualaid::crypto

#endif  // MUTUALAID_CRYPTO_KEY_RING_H_

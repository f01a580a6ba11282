#include "mutualaid/crypto/key_ring.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "mutualaid/core/clock.h"

namespace mutualaid::crypto {

bool IsErased(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition &&
         absl::StartsWith(status.message(), "personal data erased");
}

int64_t UnixSeconds(const Clock* clock) {
  return clock == nullptr ? 0 : absl::ToUnixSeconds(clock->Now());
}

absl::StatusOr<DataKey> OpenRecord(const MasterKey& master, absl::string_view worker_key,
                                   absl::string_view key_id,
                                   const std::optional<v1::WorkerDataKey>& record) {
  if (!record.has_value()) {
    return absl::NotFoundError(absl::StrCat("data key ", key_id, ": unknown"));
  }
  if (record->worker_key() != worker_key) {
    return absl::InvalidArgumentError(
        absl::StrCat("data key ", key_id, ": belongs to another worker"));
  }
  return UnwrapDataKey(master, *record);
}

// --- KeyIndex ----------------------------------------------------------------

void KeyIndex::Put(const v1::WorkerDataKey& record) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = by_id_.insert_or_assign(record.key_id(), record);
  (void)it;
  if (inserted) by_worker_[record.worker_key()].push_back(record.key_id());
}

std::optional<v1::WorkerDataKey> KeyIndex::Find(absl::string_view key_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<v1::WorkerDataKey> KeyIndex::Usable(absl::string_view worker_key) const {
  absl::MutexLock lock(&mu_);
  auto w = by_worker_.find(worker_key);
  if (w == by_worker_.end()) return std::nullopt;
  for (auto id = w->second.rbegin(); id != w->second.rend(); ++id) {
    auto it = by_id_.find(*id);
    if (it != by_id_.end() && !it->second.erased()) return it->second;
  }
  return std::nullopt;
}

std::vector<v1::WorkerDataKey> KeyIndex::KeysOf(absl::string_view worker_key) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::WorkerDataKey> out;
  auto w = by_worker_.find(worker_key);
  if (w == by_worker_.end()) return out;
  for (const std::string& id : w->second) {
    auto it = by_id_.find(id);
    if (it != by_id_.end()) out.push_back(it->second);
  }
  return out;
}

size_t KeyIndex::size() const {
  absl::MutexLock lock(&mu_);
  return by_id_.size();
}

// --- helpers -----------------------------------------------------------------

absl::StatusOr<v1::SealedPersonalData> SealField(KeyRing& ring, absl::string_view worker_key,
                                                 absl::string_view field,
                                                 absl::string_view plaintext) {
  if (worker_key.empty()) return absl::InvalidArgumentError("sealing: worker key required");
  absl::StatusOr<DataKey> key = ring.KeyForSealing(worker_key);
  if (!key.ok()) return key.status();
  return Seal(*key, field, plaintext);
}

absl::StatusOr<std::string> OpenField(KeyRing& ring, absl::string_view worker_key,
                                      absl::string_view field,
                                      const v1::SealedPersonalData& sealed) {
  if (sealed.key_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("sealed ", field, ": no key_id"));
  }
  absl::StatusOr<DataKey> key = ring.KeyForOpening(worker_key, sealed.key_id());
  if (!key.ok()) return key.status();
  return Open(*key, field, sealed);
}

absl::StatusOr<v1::SealedPersonalData> SealPerson(KeyRing& ring, absl::string_view worker_key,
                                                  const v1::PersonalData& person) {
  return SealField(ring, worker_key, kFieldPerson, person.SerializeAsString());
}

absl::StatusOr<v1::PersonalData> OpenPerson(KeyRing& ring, absl::string_view worker_key,
                                            const v1::SealedPersonalData& sealed) {
  absl::StatusOr<std::string> bytes = OpenField(ring, worker_key, kFieldPerson, sealed);
  if (!bytes.ok()) return bytes.status();
  v1::PersonalData p;
  if (!p.ParseFromString(*bytes)) return absl::DataLossError("sealed person: not PersonalData");
  return p;
}

// --- MemoryKeyRing -----------------------------------------------------------

absl::StatusOr<DataKey> MemoryKeyRing::KeyForSealing(absl::string_view worker_key) {
  absl::MutexLock lock(&create_mu_);
  if (std::optional<v1::WorkerDataKey> r = index_.Usable(worker_key)) {
    return UnwrapDataKey(master_, *r);
  }
  DataKey key = NewDataKey(worker_key);
  absl::StatusOr<v1::WorkerDataKey> wrapped = WrapDataKey(master_, key);
  if (!wrapped.ok()) return wrapped.status();
  wrapped->set_created_at_unix(UnixSeconds(clock_));
  wrapped->set_created_by(creator_);
  index_.Put(*wrapped);
  return key;
}

absl::StatusOr<DataKey> MemoryKeyRing::KeyForOpening(absl::string_view worker_key,
                                                     absl::string_view key_id) {
  return OpenRecord(master_, worker_key, key_id, index_.Find(key_id));
}

absl::StatusOr<int> MemoryKeyRing::Erase(absl::string_view worker_key, absl::string_view by) {
  absl::MutexLock lock(&create_mu_);
  std::vector<v1::WorkerDataKey> keys = index_.KeysOf(worker_key);
  if (keys.empty()) return absl::NotFoundError("no data key for this worker");
  int erased = 0;
  for (v1::WorkerDataKey& k : keys) {
    if (k.erased()) continue;
    k.clear_nonce();
    k.clear_wrapped_key();
    k.set_erased(true);
    k.set_erased_at_unix(UnixSeconds(clock_));
    k.set_erased_by(std::string(by));
    index_.Put(k);
    ++erased;
  }
  return erased;
}

}  // namespace mutualaid::crypto

#include "mutualaid/crypto/kafka_key_ring.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/kafka/partition_reader.h"

namespace mutualaid::crypto {

kafka::TopicSpec KafkaKeyRing::Spec(std::string name) {
  kafka::TopicSpec spec;
  spec.name = std::move(name);
  spec.partitions = 1;
  spec.config = {
      {"cleanup.policy", "compact"},
      {"retention.ms", "-1"},
      {"retention.bytes", "-1"},
      // Roll and compact so an erased key is gone from disk within a day.
      {"segment.ms", "3600000"},
      {"max.compaction.lag.ms", "86400000"},
      {"min.cleanable.dirty.ratio", "0.01"},
  };
  return spec;
}

KafkaKeyRing::KafkaKeyRing(MasterKey master, KafkaKeyRingOptions options,
                           std::unique_ptr<kafka::Admin> admin,
                           std::unique_ptr<kafka::Producer> producer,
                           std::unique_ptr<KeyCache> cache)
    : master_(std::move(master)),
      options_(std::move(options)),
      admin_(std::move(admin)),
      producer_(std::move(producer)),
      cache_(std::move(cache)),
      unwrapped_(options_.unwrapped_keys) {}

absl::StatusOr<std::unique_ptr<KafkaKeyRing>> KafkaKeyRing::Create(MasterKey master,
                                                                   KafkaKeyRingOptions options) {
  if (!master.key.valid()) return absl::InvalidArgumentError("key ring: no master key");
  absl::StatusOr<std::unique_ptr<kafka::Admin>> admin = kafka::Admin::Create(options.client);
  if (!admin.ok()) return admin.status();
  if (absl::Status s = (*admin)->EnsureTopics({Spec(options.topic)}, options.timeout); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("key ring topic ", options.topic, ": ", s.message()));
  }
  kafka::ProducerOptions po;
  po.client = options.client;
  po.delivery_timeout = options.timeout;
  // A caller (an edge sealing a new worker's record) waits for each key's ack:
  // no batching delay.
  po.linger = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer = kafka::Producer::Create(po);
  if (!producer.ok()) return producer.status();
  KeyCacheOptions co;
  co.path = options.cache_path;
  co.topic = options.topic;
  co.block_cache_bytes = options.cache_block_cache_bytes;
  absl::StatusOr<std::unique_ptr<KeyCache>> cache = KeyCache::Open(co);
  if (!cache.ok()) return cache.status();
  std::unique_ptr<KafkaKeyRing> ring(new KafkaKeyRing(std::move(master), std::move(options),
                                                      *std::move(admin), *std::move(producer),
                                                      *std::move(cache)));
  // A just-created topic may have no leader for a moment: retry that.
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(ring->options_.timeout);
  while (true) {
    absl::Status s = ring->Refresh(true);
    if (s.ok()) break;
    if (s.code() != absl::StatusCode::kUnavailable || std::chrono::steady_clock::now() >= deadline) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ring;
}

absl::Status KafkaKeyRing::Refresh(bool force) {
  absl::Status s;
  {
    absl::MutexLock lock(&read_mu_);
    s = RefreshLocked(force);
  }
  absl::Status purged = PurgeErased();
  return s.ok() ? purged : s;
}

absl::Status KafkaKeyRing::PurgeErased() {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&read_mu_);
    ids.swap(to_purge_);
  }
  if (ids.empty()) return absl::OkStatus();
  // Outside read_mu_: a compaction must not hold up other workers' opens.
  absl::MutexLock lock(&purge_mu_);
  absl::Status s = cache_->Purge(ids);
  if (!s.ok()) {
    absl::MutexLock again(&read_mu_);
    to_purge_.insert(to_purge_.end(), ids.begin(), ids.end());  // next refresh retries
  }
  return s;
}

absl::Status KafkaKeyRing::RefreshLocked(bool force) {
  // A cache age (monotonic, like the processor's refresh), not business time.
  const auto now = std::chrono::steady_clock::now();
  if (!force && last_refresh_.has_value() &&
      now - *last_refresh_ < absl::ToChronoNanoseconds(options_.refresh_interval)) {
    return absl::OkStatus();
  }
  absl::StatusOr<kafka::Watermarks> w =
      admin_->QueryWatermarks(options_.topic, 0, options_.timeout);
  if (!w.ok()) return w.status();
  last_refresh_ = now;
  int64_t next = cache_->next_offset();
  if (next > w->high || (next > 0 && next < w->low)) {
    // The cache read past the topic's end (the topic was made anew) or records
    // it never read were deleted: it is not a copy of this log. Start again.
    if (absl::Status s = cache_->Rebuild(); !s.ok()) return s;
    unwrapped_.Clear();
    next = 0;
  }
  if (w->high <= std::max(next, w->low)) return absl::OkStatus();
  // The reader's prefetch is bounded too (librdkafka's default queue is 64 MB).
  kafka::ClientConfig client = options_.client;
  client.properties.emplace_back("queued.max.messages.kbytes", "16384");
  absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> reader = kafka::PartitionReader::Open(
      client, options_.topic, 0, std::max(next, w->low), options_.timeout);
  if (!reader.ok()) return reader.status();
  constexpr size_t kBatch = 10000;
  std::vector<KeyCache::Entry> entries;
  int64_t read_to = next;
  while (true) {
    absl::StatusOr<std::optional<kafka::Message>> m = (*reader)->Next(options_.timeout);
    if (!m.ok()) {
      // Keep what was read: the next refresh resumes after it.
      if (absl::Status s = ApplyLocked(entries, read_to); !s.ok()) return s;
      return m.status();
    }
    if (!m->has_value()) break;
    read_to = (*m)->offset + 1;
    records_read_.fetch_add(1);
    KeyCache::Entry e;
    e.offset = (*m)->offset;
    if ((*m)->value.empty() || !e.record.ParseFromString((*m)->value) ||
        e.record.key_id().empty()) {
      continue;  // not a key record: nothing to keep
    }
    entries.push_back(std::move(e));
    if (entries.size() >= kBatch) {
      if (absl::Status s = ApplyLocked(entries, read_to); !s.ok()) return s;
      entries.clear();
    }
  }
  return ApplyLocked(entries, read_to);
}

absl::Status KafkaKeyRing::ApplyLocked(const std::vector<KeyCache::Entry>& entries,
                                       int64_t next_offset) {
  absl::StatusOr<std::vector<std::string>> erased = cache_->Apply(entries, next_offset);
  if (!erased.ok()) return erased.status();
  if (erased->empty()) return absl::OkStatus();
  // The cache now says erased: no clear copy stays, and the wrapped key leaves
  // the cache's files (PurgeErased, before Refresh or Append returns).
  unwrapped_.Drop(*erased);
  to_purge_.insert(to_purge_.end(), erased->begin(), erased->end());
  return absl::OkStatus();
}

absl::Status KafkaKeyRing::RebuildLocked() {
  if (absl::Status s = cache_->Rebuild(); !s.ok()) return s;
  unwrapped_.Clear();
  return RefreshLocked(true);
}

template <typename T, typename Read>
absl::StatusOr<T> KafkaKeyRing::ReadCache(Read read) {
  absl::StatusOr<T> r = read();
  if (r.ok() || r.status().code() != absl::StatusCode::kDataLoss) return r;
  {
    absl::MutexLock lock(&read_mu_);
    if (absl::Status s = RebuildLocked(); !s.ok()) return s;
  }
  if (absl::Status s = PurgeErased(); !s.ok()) return s;
  return read();
}

absl::Status KafkaKeyRing::Append(const v1::WorkerDataKey& record) {
  absl::StatusOr<kafka::TopicPartitionOffset> at = producer_->Append(kafka::Record{
      options_.topic, absl::StrCat(record.worker_key(), "/", record.key_id()),
      record.SerializeAsString(), {}, 0});
  if (!at.ok()) return at.status();
  // Our own record: kept at once. If it is next in line, a refresh need not
  // open a reader to read it back (one per new worker would cost a broker
  // handle each).
  {
    absl::MutexLock lock(&read_mu_);
    const int64_t next = cache_->next_offset();
    KeyCache::Entry e;
    e.offset = at->offset;
    e.record = record;
    if (absl::Status s = ApplyLocked({e}, at->offset == next ? at->offset + 1 : next); !s.ok()) {
      return s;
    }
  }
  return PurgeErased();
}

absl::StatusOr<DataKey> KafkaKeyRing::Unwrap(absl::string_view worker_key,
                                             absl::string_view key_id,
                                             const std::optional<v1::WorkerDataKey>& record,
                                             uint64_t epoch) {
  absl::StatusOr<DataKey> key = OpenRecord(master_, worker_key, key_id, record);
  if (key.ok()) unwrapped_.Put(*key, epoch);
  return key;
}

absl::StatusOr<DataKey> KafkaKeyRing::KeyForSealing(absl::string_view worker_key) {
  if (absl::Status s = Refresh(false); !s.ok()) return s;
  auto usable = [&] {
    return ReadCache<std::optional<v1::WorkerDataKey>>([&] { return cache_->Usable(worker_key); });
  };
  uint64_t epoch = unwrapped_.epoch();
  absl::StatusOr<std::optional<v1::WorkerDataKey>> r = usable();
  if (!r.ok()) return r.status();
  if (r->has_value()) {
    if (std::optional<DataKey> k = unwrapped_.Get((*r)->key_id())) return *std::move(k);
    return Unwrap(worker_key, (*r)->key_id(), *r, epoch);
  }
  absl::MutexLock lock(&create_mu_);
  // Another thread of this process may have made one meanwhile. Another replica
  // making one at the same instant is not re-read here (that would be a broker
  // round trip per new worker): a worker may then hold two keys, each opening
  // what it sealed, and erasure erases all of them.
  epoch = unwrapped_.epoch();
  r = usable();
  if (!r.ok()) return r.status();
  if (r->has_value()) return Unwrap(worker_key, (*r)->key_id(), *r, epoch);
  DataKey key = NewDataKey(worker_key);
  absl::StatusOr<v1::WorkerDataKey> wrapped = WrapDataKey(master_, key);
  if (!wrapped.ok()) return wrapped.status();
  wrapped->set_created_at_unix(UnixSeconds(options_.clock));
  wrapped->set_created_by(options_.creator);
  epoch = unwrapped_.epoch();
  if (absl::Status s = Append(*wrapped); !s.ok()) return s;
  unwrapped_.Put(key, epoch);
  return key;
}

absl::Status KafkaKeyRing::PrepareKeys(const std::vector<std::string>& worker_keys) {
  if (absl::Status s = Refresh(false); !s.ok()) return s;
  absl::MutexLock lock(&create_mu_);
  std::vector<v1::WorkerDataKey> made;
  std::vector<DataKey> keys;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& worker_key : worker_keys) {
    if (!seen.insert(worker_key).second) continue;
    absl::StatusOr<std::optional<v1::WorkerDataKey>> r =
        ReadCache<std::optional<v1::WorkerDataKey>>([&] { return cache_->Usable(worker_key); });
    if (!r.ok()) return r.status();
    if (r->has_value()) continue;
    DataKey key = NewDataKey(worker_key);
    absl::StatusOr<v1::WorkerDataKey> wrapped = WrapDataKey(master_, key);
    if (!wrapped.ok()) return wrapped.status();
    wrapped->set_created_at_unix(UnixSeconds(options_.clock));
    wrapped->set_created_by(options_.creator);
    made.push_back(*std::move(wrapped));
    keys.push_back(std::move(key));
  }
  if (made.empty()) return absl::OkStatus();
  std::vector<kafka::Record> records;
  records.reserve(made.size());
  for (const v1::WorkerDataKey& k : made) {
    records.push_back(kafka::Record{options_.topic, absl::StrCat(k.worker_key(), "/", k.key_id()),
                                    k.SerializeAsString(), {}, 0});
  }
  const uint64_t epoch = unwrapped_.epoch();
  std::vector<absl::StatusOr<kafka::TopicPartitionOffset>> acked = producer_->AppendBatch(records);
  absl::Status first_error = absl::OkStatus();
  std::vector<KeyCache::Entry> entries;
  std::vector<size_t> kept;
  for (size_t i = 0; i < acked.size(); ++i) {
    if (!acked[i].ok()) {
      if (first_error.ok()) first_error = acked[i].status();
      continue;
    }
    KeyCache::Entry e;
    e.offset = acked[i]->offset;
    e.record = made[i];
    entries.push_back(std::move(e));
    kept.push_back(i);
  }
  {
    // Our own records: kept at once; the offset read up to moves past those
    // next in line (as Append does for one).
    absl::MutexLock read_lock(&read_mu_);
    std::vector<int64_t> offsets;
    for (const KeyCache::Entry& e : entries) offsets.push_back(e.offset);
    std::sort(offsets.begin(), offsets.end());
    int64_t next = cache_->next_offset();
    for (int64_t o : offsets) {
      if (o == next) ++next;
    }
    if (absl::Status s = ApplyLocked(entries, next); !s.ok()) return s;
  }
  for (size_t i : kept) unwrapped_.Put(keys[i], epoch);
  return first_error;
}

absl::StatusOr<DataKey> KafkaKeyRing::KeyForOpening(absl::string_view worker_key,
                                                    absl::string_view key_id) {
  if (absl::Status s = Refresh(false); !s.ok()) return s;
  if (std::optional<DataKey> k = unwrapped_.Get(key_id)) {
    if (k->worker_key != worker_key) {
      return absl::InvalidArgumentError(
          absl::StrCat("data key ", key_id, ": belongs to another worker"));
    }
    return *std::move(k);
  }
  auto find = [&] {
    return ReadCache<std::optional<v1::WorkerDataKey>>([&] { return cache_->Find(key_id); });
  };
  uint64_t epoch = unwrapped_.epoch();
  absl::StatusOr<std::optional<v1::WorkerDataKey>> r = find();
  if (!r.ok()) return r.status();
  if (!r->has_value()) {
    if (absl::Status s = Refresh(true); !s.ok()) return s;
    epoch = unwrapped_.epoch();
    r = find();
    if (!r.ok()) return r.status();
  }
  return Unwrap(worker_key, key_id, *r, epoch);
}

absl::StatusOr<int> KafkaKeyRing::Erase(absl::string_view worker_key, absl::string_view by) {
  absl::MutexLock lock(&create_mu_);
  if (absl::Status s = Refresh(true); !s.ok()) return s;
  absl::StatusOr<std::vector<v1::WorkerDataKey>> keys =
      ReadCache<std::vector<v1::WorkerDataKey>>([&] { return cache_->KeysOf(worker_key); });
  if (!keys.ok()) return keys.status();
  if (keys->empty()) return absl::NotFoundError("no data key for this worker");
  int erased = 0;
  for (v1::WorkerDataKey& k : *keys) {
    if (k.erased()) continue;
    k.clear_nonce();
    k.clear_wrapped_key();
    k.set_erased(true);
    k.set_erased_at_unix(UnixSeconds(options_.clock));
    k.set_erased_by(std::string(by));
    if (absl::Status s = Append(k); !s.ok()) return s;
    ++erased;
  }
  return erased;
}

}  // namespace mutualaid::crypto

#include "mutualaid/crypto/kafka_key_ring.h"

#include <algorithm>
#include <chrono>
#include <thread>

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
                           std::unique_ptr<kafka::Producer> producer)
    : master_(std::move(master)),
      options_(std::move(options)),
      admin_(std::move(admin)),
      producer_(std::move(producer)) {}

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
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer = kafka::Producer::Create(po);
  if (!producer.ok()) return producer.status();
  std::unique_ptr<KafkaKeyRing> ring(new KafkaKeyRing(std::move(master), std::move(options),
                                                      *std::move(admin), *std::move(producer)));
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
  absl::MutexLock lock(&read_mu_);
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
  if (w->high <= next_offset_) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> reader = kafka::PartitionReader::Open(
      options_.client, options_.topic, 0, std::max(next_offset_, w->low), options_.timeout);
  if (!reader.ok()) return reader.status();
  while (true) {
    absl::StatusOr<std::optional<kafka::Message>> m = (*reader)->Next(options_.timeout);
    if (!m.ok()) return m.status();
    if (!m->has_value()) break;
    next_offset_ = (*m)->offset + 1;
    v1::WorkerDataKey record;
    if ((*m)->value.empty() || !record.ParseFromString((*m)->value) || record.key_id().empty()) {
      continue;  // not a key record: nothing to index
    }
    index_.Put(record);
  }
  return absl::OkStatus();
}

absl::Status KafkaKeyRing::Append(const v1::WorkerDataKey& record) {
  absl::StatusOr<kafka::TopicPartitionOffset> at = producer_->Append(kafka::Record{
      options_.topic, absl::StrCat(record.worker_key(), "/", record.key_id()),
      record.SerializeAsString(), {}, 0});
  if (!at.ok()) return at.status();
  index_.Put(record);
  // Our own record, next in line: already indexed, so a refresh need not open
  // a reader to read it back (one per new worker would cost a broker handle each).
  absl::MutexLock lock(&read_mu_);
  if (at->offset == next_offset_) next_offset_ = at->offset + 1;
  return absl::OkStatus();
}

absl::StatusOr<DataKey> KafkaKeyRing::KeyForSealing(absl::string_view worker_key) {
  if (absl::Status s = Refresh(false); !s.ok()) return s;
  if (std::optional<v1::WorkerDataKey> r = index_.Usable(worker_key)) {
    return UnwrapDataKey(master_, *r);
  }
  absl::MutexLock lock(&create_mu_);
  // Another thread of this process may have made one meanwhile. Another replica
  // making one at the same instant is not re-read here (that would be a broker
  // round trip per new worker): a worker may then hold two keys, each opening
  // what it sealed, and erasure erases all of them.
  if (std::optional<v1::WorkerDataKey> r = index_.Usable(worker_key)) {
    return UnwrapDataKey(master_, *r);
  }
  DataKey key = NewDataKey(worker_key);
  absl::StatusOr<v1::WorkerDataKey> wrapped = WrapDataKey(master_, key);
  if (!wrapped.ok()) return wrapped.status();
  wrapped->set_created_at_unix(UnixSeconds(options_.clock));
  wrapped->set_created_by(options_.creator);
  if (absl::Status s = Append(*wrapped); !s.ok()) return s;
  return key;
}

absl::StatusOr<DataKey> KafkaKeyRing::KeyForOpening(absl::string_view worker_key,
                                                    absl::string_view key_id) {
  if (absl::Status s = Refresh(false); !s.ok()) return s;
  std::optional<v1::WorkerDataKey> r = index_.Find(key_id);
  if (!r.has_value()) {
    if (absl::Status s = Refresh(true); !s.ok()) return s;
    r = index_.Find(key_id);
  }
  return OpenRecord(master_, worker_key, key_id, r);
}

absl::StatusOr<int> KafkaKeyRing::Erase(absl::string_view worker_key, absl::string_view by) {
  absl::MutexLock lock(&create_mu_);
  if (absl::Status s = Refresh(true); !s.ok()) return s;
  std::vector<v1::WorkerDataKey> keys = index_.KeysOf(worker_key);
  if (keys.empty()) return absl::NotFoundError("no data key for this worker");
  int erased = 0;
  for (v1::WorkerDataKey& k : keys) {
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

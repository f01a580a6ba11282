#include "mutualaid/crypto/key_cache.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace mutualaid::crypto {
namespace {

constexpr char kFormat[] = "1";
constexpr char kMetaFormat[] = "m:format";
constexpr char kMetaTopic[] = "m:topic";
constexpr char kMetaNextOffset[] = "m:next_offset";
constexpr char kMetaCount[] = "m:count";
constexpr char kMemoryPath[] = "/mutualaid-key-cache";
// More erased ids than this in one Purge: compact the whole record range.
constexpr size_t kPurgeOneByOne = 64;

std::string RecordKey(absl::string_view key_id) { return absl::StrCat("k", key_id); }
std::string WorkerPrefix(absl::string_view worker_key) { return absl::StrCat("w", worker_key, "/"); }
std::string WorkerKey(absl::string_view worker_key, int64_t offset) {
  return absl::StrFormat("w%s/%020d", worker_key, offset);
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string m = absl::StrCat("key cache ", what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(m);
  if (s.IsNotFound()) return absl::NotFoundError(m);
  return absl::InternalError(m);
}

}  // namespace

KeyCache::KeyCache(KeyCacheOptions options) : options_(std::move(options)) {
  if (options_.path.empty()) mem_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
}

KeyCache::~KeyCache() {
  absl::MutexLock lock(&mu_);
  if (db_ != nullptr) (void)db_->Close();
  db_.reset();
}

absl::StatusOr<std::unique_ptr<KeyCache>> KeyCache::Open(KeyCacheOptions options) {
  std::unique_ptr<KeyCache> cache(new KeyCache(std::move(options)));
  absl::MutexLock lock(&cache->mu_);
  if (absl::Status s = cache->OpenLocked(); !s.ok()) return s;
  return cache;
}

absl::Status KeyCache::OpenLocked() {
  const std::string path = options_.path.empty() ? kMemoryPath : options_.path;
  rocksdb::Options o;
  o.create_if_missing = true;
  o.paranoid_checks = true;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.write_buffer_size = options_.write_buffer_bytes;
  o.max_total_wal_size = 4 * options_.write_buffer_bytes;
  o.max_background_jobs = 1;
  o.keep_log_file_num = 2;
  o.max_log_file_size = size_t{4} << 20;
  // Wrapped keys are random bytes: compression gains nothing.
  o.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  // Memory stays bounded by the block cache whatever the number of workers:
  // index and filter blocks live in it too, not beside it.
  // Partitioned (two-level) index and filters: only the small top level is
  // pinned, the partitions come and go with the data blocks, so millions of
  // keys do not thrash a small cache with whole-file index blocks.
  table.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (mem_env_ != nullptr) {
    o.env = mem_env_.get();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("key cache ", path, ": cannot create directory: ", ec.message()));
    }
  }

  for (int attempt = 0;; ++attempt) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
    if (s.ok()) {
      db_.reset(raw);
    } else if (s.IsIOError() && absl::StrContains(s.ToString(), "/LOCK")) {
      // Another live process (or ring of this one) holds it: never wipe that one.
      return absl::FailedPreconditionError(
          absl::StrCat("key cache ", path, ": in use by another process (", s.ToString(), ")"));
    } else if (attempt > 0) {
      return FromRocks(s, absl::StrCat(path, ": open after wiping"));
    } else {
      // Unreadable (corrupt, truncated, not a RocksDB): it is only a copy of
      // the topic, so wipe it and read the topic again.
      if (absl::Status w = WipeLocked(); !w.ok()) return w;
      if (mem_env_ == nullptr) std::filesystem::create_directories(path);
      continue;
    }
    // What is it a copy of?
    std::string format, topic, next, count;
    rocksdb::ReadOptions ro;
    const bool known = db_->Get(ro, kMetaFormat, &format).ok() && format == kFormat &&
                       db_->Get(ro, kMetaTopic, &topic).ok() && topic == options_.topic &&
                       db_->Get(ro, kMetaNextOffset, &next).ok() &&
                       absl::SimpleAtoi(next, &next_offset_) && next_offset_ >= 0 &&
                       db_->Get(ro, kMetaCount, &count).ok() && absl::SimpleAtoi(count, &count_);
    if (known) return absl::OkStatus();
    // New, or of another format or topic: start from nothing.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    it->SeekToFirst();
    if (it->Valid() && attempt == 0) {
      it.reset();
      if (absl::Status w = WipeLocked(); !w.ok()) return w;
      if (mem_env_ == nullptr) std::filesystem::create_directories(path);
      continue;
    }
    it.reset();
    rebuilt_ = true;
    next_offset_ = 0;
    count_ = 0;
    rocksdb::WriteBatch b;
    b.Put(kMetaFormat, kFormat);
    b.Put(kMetaTopic, ToSlice(options_.topic));
    b.Put(kMetaNextOffset, "0");
    b.Put(kMetaCount, "0");
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &b), "write");
  }
}

absl::Status KeyCache::WipeLocked() {
  rebuilt_ = true;
  if (db_ != nullptr) (void)db_->Close();
  db_.reset();
  const std::string path = options_.path.empty() ? kMemoryPath : options_.path;
  rocksdb::Options o;
  if (mem_env_ != nullptr) {
    o.env = mem_env_.get();
    (void)rocksdb::DestroyDB(path, o);
    return absl::OkStatus();
  }
  (void)rocksdb::DestroyDB(path, o);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("key cache ", path, ": cannot remove: ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status KeyCache::Rebuild() {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = WipeLocked(); !s.ok()) return s;
  if (absl::Status s = OpenLocked(); !s.ok()) return s;
  rebuilt_ = true;
  return absl::OkStatus();
}

bool KeyCache::rebuilt() const {
  absl::ReaderMutexLock lock(&mu_);
  return rebuilt_;
}

int64_t KeyCache::next_offset() const {
  absl::ReaderMutexLock lock(&mu_);
  return next_offset_;
}

int64_t KeyCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return count_;
}

absl::StatusOr<std::optional<v1::WorkerDataKey>> KeyCache::FindLocked(
    absl::string_view key_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), RecordKey(key_id), &value);
  if (s.IsNotFound()) return std::optional<v1::WorkerDataKey>();
  if (!s.ok()) return FromRocks(s, "read");
  v1::WorkerDataKey record;
  if (!record.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("key cache: record ", key_id, " unreadable"));
  }
  return std::optional<v1::WorkerDataKey>(std::move(record));
}

absl::StatusOr<std::vector<std::string>> KeyCache::IdsOfLocked(
    absl::string_view worker_key) const {
  const std::string prefix = WorkerPrefix(worker_key);
  const std::string upper = absl::StrCat("w", worker_key, "0");  // '0' follows '/'
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  std::vector<std::string> ids;
  for (it->Seek(prefix); it->Valid(); it->Next()) ids.push_back(it->value().ToString());
  if (!it->status().ok()) return FromRocks(it->status(), "read");
  return ids;
}

absl::StatusOr<std::optional<v1::WorkerDataKey>> KeyCache::Find(absl::string_view key_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return FindLocked(key_id);
}

absl::StatusOr<std::optional<v1::WorkerDataKey>> KeyCache::Usable(
    absl::string_view worker_key) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<std::vector<std::string>> ids = IdsOfLocked(worker_key);
  if (!ids.ok()) return ids.status();
  for (auto id = ids->rbegin(); id != ids->rend(); ++id) {
    absl::StatusOr<std::optional<v1::WorkerDataKey>> r = FindLocked(*id);
    if (!r.ok()) return r.status();
    if (r->has_value() && !(*r)->erased()) return r;
  }
  return std::optional<v1::WorkerDataKey>();
}

absl::StatusOr<std::vector<v1::WorkerDataKey>> KeyCache::KeysOf(
    absl::string_view worker_key) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<std::vector<std::string>> ids = IdsOfLocked(worker_key);
  if (!ids.ok()) return ids.status();
  std::vector<v1::WorkerDataKey> out;
  for (const std::string& id : *ids) {
    absl::StatusOr<std::optional<v1::WorkerDataKey>> r = FindLocked(id);
    if (!r.ok()) return r.status();
    if (r->has_value()) out.push_back(**r);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> KeyCache::Apply(const std::vector<Entry>& entries,
                                                         int64_t next_offset) {
  absl::MutexLock lock(&mu_);
  // Key id -> erased, for the records already held (one MultiGet for the
  // batch) and then for those earlier in this batch.
  absl::flat_hash_map<std::string, bool> known;
  {
    std::vector<std::string> keys;
    for (const Entry& e : entries) {
      if (!e.record.key_id().empty()) keys.push_back(RecordKey(e.record.key_id()));
    }
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<rocksdb::Status> found = db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (found[i].IsNotFound()) continue;
      if (!found[i].ok()) return FromRocks(found[i], "read");
      v1::WorkerDataKey prior;
      if (!prior.ParseFromString(values[i])) {
        return absl::DataLossError(absl::StrCat("key cache: record ", keys[i], " unreadable"));
      }
      known[keys[i].substr(1)] = prior.erased();
    }
  }
  rocksdb::WriteBatch batch;
  std::vector<std::string> erased_now;
  int64_t count = count_;
  for (const Entry& e : entries) {
    const v1::WorkerDataKey& r = e.record;
    if (r.key_id().empty()) continue;
    std::optional<bool> prior_erased;
    if (auto b = known.find(r.key_id()); b != known.end()) prior_erased = b->second;
    if (prior_erased.value_or(false) && !r.erased()) continue;  // erasure is final
    if (!prior_erased.has_value()) {
      batch.Put(WorkerKey(r.worker_key(), e.offset), ToSlice(r.key_id()));
      ++count;
    }
    // A wrapped key held (in the cache or earlier in this batch) to purge; a
    // marker for a key never held here has nothing to purge.
    if (r.erased() && prior_erased.has_value() && !*prior_erased) {
      erased_now.push_back(r.key_id());
    }
    batch.Put(RecordKey(r.key_id()), r.SerializeAsString());
    known[r.key_id()] = r.erased();
  }
  const int64_t next = std::max(next_offset_, next_offset);
  batch.Put(kMetaNextOffset, absl::StrCat(next));
  batch.Put(kMetaCount, absl::StrCat(count));
  if (absl::Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "write"); !s.ok()) {
    return s;
  }
  next_offset_ = next;
  count_ = count;
  return erased_now;
}

absl::Status KeyCache::Purge(const std::vector<std::string>& key_ids) {
  if (key_ids.empty()) return absl::OkStatus();
  // Shared: RocksDB flushes and compacts beside reads and writes; only
  // Rebuild (which replaces the DB) waits.
  absl::ReaderMutexLock lock(&mu_);
  // The memtable and the write-ahead log behind it hold the wrapped key until
  // flushed; a flush keeps only the newest version (no snapshots are taken).
  rocksdb::FlushOptions fo;
  fo.wait = true;
  fo.allow_write_stall = true;
  if (absl::Status s = FromRocks(db_->Flush(fo), "flush"); !s.ok()) return s;
  // Older versions in table files go when their range is compacted through
  // every level, the last one included.
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  co.exclusive_manual_compaction = false;
  co.allow_write_stall = true;
  if (key_ids.size() > kPurgeOneByOne) {
    const std::string begin = "k", end = "l";
    rocksdb::Slice b(begin), e(end);
    if (absl::Status s = FromRocks(db_->CompactRange(co, &b, &e), "compact"); !s.ok()) return s;
  } else {
    for (const std::string& id : key_ids) {
      const std::string key = RecordKey(id);
      rocksdb::Slice k(key);
      if (absl::Status s = FromRocks(db_->CompactRange(co, &k, &k), "compact"); !s.ok()) {
        return s;
      }
    }
  }
  // Delete the files the flush and compaction made obsolete now, not at the
  // next background sweep: re-enabling deletions purges them synchronously.
  if (absl::Status s = FromRocks(db_->DisableFileDeletions(), "purge"); !s.ok()) return s;
  return FromRocks(db_->EnableFileDeletions(/*force=*/true), "purge");
}

}  // namespace mutualaid::crypto

namespace mutualaid::crypto {

// --- UnwrappedKeys -------------------------------------------------------------

void UnwrappedKeys::UnlinkLocked(Node* n) {
  (n->prev != nullptr ? n->prev->next : head_) = n->next;
  (n->next != nullptr ? n->next->prev : tail_) = n->prev;
  n->prev = n->next = nullptr;
}

void UnwrappedKeys::PushFrontLocked(Node* n) {
  n->prev = nullptr;
  n->next = head_;
  if (head_ != nullptr) head_->prev = n;
  head_ = n;
  if (tail_ == nullptr) tail_ = n;
}

std::optional<DataKey> UnwrappedKeys::Get(absl::string_view key_id) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  Node* n = it->second.get();
  UnlinkLocked(n);
  PushFrontLocked(n);
  return n->key;
}

uint64_t UnwrappedKeys::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

void UnwrappedKeys::Put(const DataKey& key, uint64_t epoch) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  if (epoch != epoch_) return;  // an erasure came in meanwhile: do not keep
  if (auto it = by_id_.find(key.key_id); it != by_id_.end()) {
    UnlinkLocked(it->second.get());
    PushFrontLocked(it->second.get());
    return;
  }
  while (by_id_.size() >= capacity_ && tail_ != nullptr) {
    Node* old = tail_;
    UnlinkLocked(old);
    by_id_.erase(old->key.key_id);
  }
  auto n = std::make_unique<Node>();
  n->key = key;
  PushFrontLocked(n.get());
  by_id_.emplace(key.key_id, std::move(n));
}

void UnwrappedKeys::Drop(const std::vector<std::string>& key_ids) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  for (const std::string& id : key_ids) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    UnlinkLocked(it->second.get());
    by_id_.erase(it);
  }
}

void UnwrappedKeys::Clear() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  by_id_.clear();
  head_ = tail_ = nullptr;
}

size_t UnwrappedKeys::size() const {
  absl::MutexLock lock(&mu_);
  return by_id_.size();
}

int64_t UnwrappedKeys::hits() const {
  absl::MutexLock lock(&mu_);
  return hits_;
}

int64_t UnwrappedKeys::misses() const {
  absl::MutexLock lock(&mu_);
  return misses_;
}

}  // namespace mutualaid::crypto

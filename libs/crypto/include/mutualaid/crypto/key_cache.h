// A service's local copy of the keys topic (mutualaid.keys), so that memory
// does not grow with the number of workers and a restart does not re-read the
// whole topic: a RocksDB of its own (never a column family of the service's
// state store, whose digest replay compares) holding
//
//   k<key id>                        the WorkerDataKey record as read from the
//                                    topic (wrapped key, or the erased marker)
//   w<worker key>/<offset, 20 digits> the key id, in the order first read
//   m:next_offset                    the topic offset read up to (next to read)
//   m:topic, m:format, m:count       what the cache is a copy of, how many keys
//
// written atomically per batch, so the offset and the records always agree.
// Erasure: an erased marker replaces the record at once, and Purge() flushes
// and compacts the key ids' range so that no file of the directory holds the
// wrapped key any more. A record never turns back from erased to usable.
//
// A cache that does not open (missing, corrupt, another format) is wiped and
// made anew (rebuilt() is true), and KafkaKeyRing fills it from the topic; so
// does Rebuild() when a read finds corruption. An empty path keeps the cache
// in memory (RocksDB's memory Env): nothing on disk (tools, tests).
// Thread-safe.
#ifndef MUTUALAID_CRYPTO_KEY_CACHE_H_
#define MUTUALAID_CRYPTO_KEY_CACHE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/v1/common.pb.h"

namespace rocksdb {
class DB;
class Env;
}  // namespace rocksdb

namespace mutualaid::crypto {

struct KeyCacheOptions {
  std::string path;                       // its own directory; empty: in memory
  std::string topic;                      // what it is a copy of (another: wiped)
  size_t block_cache_bytes = size_t{16} << 20;
  size_t write_buffer_bytes = size_t{8} << 20;
};

class KeyCache {
 public:
  struct Entry {
    int64_t offset = 0;  // where the record is in the topic
    v1::WorkerDataKey record;
  };

  static absl::StatusOr<std::unique_ptr<KeyCache>> Open(KeyCacheOptions options);
  ~KeyCache();
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // True when this cache was made from nothing at Open or by Rebuild (new
  // directory, or the old one missing, unreadable, of another topic).
  bool rebuilt() const;
  // The topic offset read up to: the next one to read (0 when new).
  int64_t next_offset() const;
  // Key records held (erased markers included).
  int64_t size() const;

  // Applies records read from the topic and moves next_offset to `next_offset`
  // (if greater), in one atomic write. A record replaces the one with its key
  // id, except that an erased one is never replaced by a usable one. Returns the
  // key ids whose wrapped key this batch erased (for Purge and the ring's
  // unwrapped keys).
  absl::StatusOr<std::vector<std::string>> Apply(const std::vector<Entry>& entries,
                                                 int64_t next_offset);
  // Makes the erased wrapped keys of `key_ids` gone from every file of the
  // directory: flushes the memtable (and with it the write-ahead log holding
  // them) and compacts their key range down to the last level.
  absl::Status Purge(const std::vector<std::string>& key_ids);
  // Wipes the cache and starts it anew at offset 0.
  absl::Status Rebuild();

  absl::StatusOr<std::optional<v1::WorkerDataKey>> Find(absl::string_view key_id) const;
  // The newest (last read) key of the worker not erased.
  absl::StatusOr<std::optional<v1::WorkerDataKey>> Usable(absl::string_view worker_key) const;
  // Every key of the worker, erased ones included, oldest first.
  absl::StatusOr<std::vector<v1::WorkerDataKey>> KeysOf(absl::string_view worker_key) const;

 private:
  explicit KeyCache(KeyCacheOptions options);
  absl::Status OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WipeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<std::string>> IdsOfLocked(absl::string_view worker_key) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<v1::WorkerDataKey>> FindLocked(absl::string_view key_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const KeyCacheOptions options_;
  std::unique_ptr<rocksdb::Env> mem_env_;  // when in memory
  mutable absl::Mutex mu_;                 // reads and Purge shared; Apply, Rebuild exclusive
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(mu_);
  bool rebuilt_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_offset_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// The clear data keys most recently used, at most `capacity` (least recently
// used goes first), so a hot worker's key is not read and unwrapped each time.
// Erasure: Drop() removes a key and bumps the epoch; a key read before the
// epoch moved is not put back (Put with the epoch seen before the read).
// Thread-safe.
class UnwrappedKeys {
 public:
  explicit UnwrappedKeys(size_t capacity) : capacity_(capacity) {}

  std::optional<DataKey> Get(absl::string_view key_id);
  uint64_t epoch() const;
  // Keeps `key` unless something was dropped since `epoch` was read.
  void Put(const DataKey& key, uint64_t epoch);
  void Drop(const std::vector<std::string>& key_ids);
  void Clear();
  size_t size() const;
  int64_t hits() const;
  int64_t misses() const;

 private:
  struct Node {
    DataKey key;
    Node* prev = nullptr;
    Node* next = nullptr;
  };
  void UnlinkLocked(Node* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushFrontLocked(Node* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> by_id_ ABSL_GUARDED_BY(mu_);
  Node* head_ ABSL_GUARDED_BY(mu_) = nullptr;  // most recent
  Node* tail_ ABSL_GUARDED_BY(mu_) = nullptr;  // least recent
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mutualaid::crypto

#endif  // MUTUALAID_CRYPTO_KEY_CACHE_H_

// StateStore: a service's derived state in one RocksDB directory.
//
// The store holds the fold of the events a processor consumed, together with
// the offsets of the input partitions that fold reflects. Both are written in
// the same atomic batch (the lesson of Kafka Streams' KIP-1035: offsets kept
// apart from state force a full restore after every crash). So whatever
// instant a process dies at, on reopen the state is exactly the fold of the
// records before AppliedOffset() and the processor resumes from there.
//
//   StateStore::Options options;
//   options.column_families = {"workers", "coverage"};
//   auto store = StateStore::Open("/var/lib/mutualaid/enrollment/p3", options);
//   if (!store.ok()) return store.status();
//   Batch batch = (*store)->NewBatch();
//   batch.Put("workers", worker_key, encoded_worker);
//   batch.SetAppliedOffset("mutualaid.enrollment.events", 3, offset + 1);
//   absl::Status s = (*store)->Commit(batch);
//
// Writes happen only through Commit(Batch). Every method is thread-safe except
// Close(), which must not race with other calls. Column families are named by
// the owner; names starting with "__" are reserved ("__offsets" holds the
// applied offsets).

#ifndef MUTUALAID_STORE_STATE_STORE_H_
#define MUTUALAID_STORE_STATE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace mutualaid::store {

// The reserved column family of applied input offsets.
inline constexpr char kOffsetsColumnFamily[] = "__offsets";

// The next offset to read from one input partition.
struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;

  friend bool operator==(const PartitionOffset&,
                         const PartitionOffset&) = default;
};

class StateStore;

// An atomic unit of writes: state changes in any column families plus the
// applied offsets they reflect. Obtained from StateStore::NewBatch() and only
// committed to that store. Not thread-safe. Errors (an unknown or reserved
// column family, a negative offset) are remembered and returned by Commit(),
// which then writes nothing.
class Batch {
 public:
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  ~Batch();

  void Put(absl::string_view column_family, absl::string_view key,
           absl::string_view value);
  void Delete(absl::string_view column_family, absl::string_view key);
  // Records that every input record of `topic`/`partition` before
  // `next_offset` is reflected in the state. Set it for every partition whose
  // records this batch applies; later settings in one batch win.
  void SetAppliedOffset(absl::string_view topic, int32_t partition,
                        int64_t next_offset);

  // Number of operations (puts, deletes and offsets).
  size_t Count() const;
  bool empty() const { return Count() == 0; }
  // Byte size of the encoded batch.
  size_t ByteSize() const;
  // The first error recorded, or OK.
  absl::Status status() const;
  // Empties the batch and forgets any error; it stays bound to its store.
  void Clear();

 private:
  friend class StateStore;
  struct Rep;
  explicit Batch(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

struct DigestOptions {
  // Off by default: a replay into a fresh store reads from other offsets
  // (or none) yet must reach the same state, and the digest says so.
  bool include_offsets = false;
};

class StateStore {
 public:
  struct Options {
    // The owner's column families; created if missing. Families already in
    // the directory but not listed are opened too (and kept).
    std::vector<std::string> column_families;
    // One LRU block cache shared by all column families.
    size_t block_cache_bytes = size_t{64} << 20;
    // Total memtable memory across all column families.
    size_t write_buffer_bytes = size_t{64} << 20;
    bool create_if_missing = true;
    // fsync the WAL on every Commit. The WAL is always on; without sync a
    // process crash loses nothing, a power cut may lose the latest commits
    // (state and offsets together, never one without the other).
    bool sync = false;
  };

  // InvalidArgument for bad or reserved family names; NotFound if the store
  // does not exist and !create_if_missing; the mapped RocksDB error otherwise
  // (e.g. another process holding the store's lock).
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(
      const std::string& path, const Options& options);

  // Deletes the store at `path` (which must not be open). OK if absent.
  static absl::Status Destroy(const std::string& path);

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;
  ~StateStore();  // Close()s if still open.

  // Syncs the WAL and closes. Further calls fail with FailedPrecondition.
  absl::Status Close();

  const std::string& path() const;
  // Every open column family, sorted, including "default" and "__offsets".
  std::vector<std::string> ColumnFamilies() const;

  // --- writes
  Batch NewBatch() const;
  // Writes the whole batch atomically, or nothing. The batch is left as is.
  absl::Status Commit(const Batch& batch);

  // --- reads (each sees one consistent point in time)
  // std::nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view column_family, absl::string_view key) const;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      absl::string_view column_family,
      absl::Span<const std::string> keys) const;

  // Called per entry in key order; return false to stop early.
  using ScanFn =
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;
  // Keys in [begin, end); an empty `end` means no upper bound.
  absl::Status Scan(absl::string_view column_family, absl::string_view begin,
                    absl::string_view end, ScanFn fn) const;
  // Keys starting with `prefix`.
  absl::Status ScanPrefix(absl::string_view column_family,
                          absl::string_view prefix, ScanFn fn) const;

  // The next offset to read for the partition, std::nullopt if none applied.
  absl::StatusOr<std::optional<int64_t>> AppliedOffset(absl::string_view topic,
                                                       int32_t partition) const;
  // Every applied offset, ordered by topic then partition.
  absl::StatusOr<std::vector<PartitionOffset>> AppliedOffsets() const;

  // SHA-256 (hex) over every (column family, key, value) in family-name then
  // key order, each length-prefixed, from one snapshot. Depends only on the
  // logical contents: not on write order, compaction, or which empty
  // families exist.
  absl::StatusOr<std::string> Digest(const DigestOptions& options = {}) const;

  // What the store takes: SST files plus memtables, summed over the column
  // families (RocksDB's estimates), and the block cache in use. For metrics.
  struct Usage {
    uint64_t sst_bytes = 0;
    uint64_t memtable_bytes = 0;
    uint64_t block_cache_bytes = 0;
  };
  Usage ApproximateUsage() const;

 private:
  struct Rep;
  explicit StateStore(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace mutualaid::store

#endif  // MUTUALAID_STORE_STATE_STORE_H_

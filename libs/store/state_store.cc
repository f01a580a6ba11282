#include "mutualaid/store/state_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/core/hash.h"
#include "mutualaid/store/keys.h"

namespace mutualaid::store {
namespace {

constexpr char kDigestDomain[] = "mutualaid.store.digest.v1";

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  using Code = rocksdb::Status::Code;
  switch (s.code()) {
    case Code::kNotFound:
      return absl::NotFoundError(msg);
    case Code::kCorruption:
      return absl::DataLossError(msg);
    case Code::kNotSupported:
      return absl::UnimplementedError(msg);
    case Code::kInvalidArgument:
      return absl::InvalidArgumentError(msg);
    case Code::kIOError:
      if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
      return absl::InternalError(msg);
    case Code::kTimedOut:
      return absl::DeadlineExceededError(msg);
    case Code::kAborted:
      return absl::AbortedError(msg);
    case Code::kBusy:
    case Code::kTryAgain:
    case Code::kShutdownInProgress:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

bool IsReserved(absl::string_view name) { return absl::StartsWith(name, "__"); }

// topic '\0' partition(4 bytes BE): ordered by topic, then partition.
std::string OffsetKey(absl::string_view topic, int32_t partition) {
  std::string key(topic);
  key.push_back('\0');
  const auto p = static_cast<uint32_t>(partition);
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((p >> shift) & 0xff));
  }
  return key;
}

std::optional<PartitionOffset> DecodeOffset(absl::string_view key,
                                            absl::string_view value) {
  if (key.size() < 5 || key[key.size() - 5] != '\0') return std::nullopt;
  std::optional<int64_t> next = DecodeInt64(value);
  if (!next) return std::nullopt;
  uint32_t p = 0;
  for (size_t i = key.size() - 4; i < key.size(); ++i) {
    p = (p << 8) | static_cast<unsigned char>(key[i]);
  }
  return PartitionOffset{std::string(key.substr(0, key.size() - 5)),
                         static_cast<int32_t>(p), *next};
}

// The smallest key greater than every key starting with `prefix`, or
// std::nullopt if there is none (prefix empty or all 0xff).
std::optional<std::string> PrefixSuccessor(absl::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    const auto c = static_cast<unsigned char>(s.back());
    if (c != 0xff) {
      s.back() = static_cast<char>(c + 1);
      return s;
    }
    s.pop_back();
  }
  return std::nullopt;
}

// Options, and why:
// - One shared LRU block cache, index and filter blocks charged to it
//   (L0's pinned): the whole store's read memory is bounded by
//   block_cache_bytes plus memtables.
// - db_write_buffer_size caps memtables across all families.
// - 10-bit bloom filters and a hash index inside data blocks: processors do
//   mostly point lookups by worker key; prefix and range scans still work
//   (no prefix extractor, so no total_order_seek caveats).
// - Level compaction with dynamic level sizes: bounded space amplification.
// - LZ4 for upper levels, ZSTD at the bottom, when compiled in.
// - WAL always on, point-in-time recovery: after a crash or a torn WAL tail,
//   recovery stops at the last complete batch, so state and offsets always
//   come back together.
rocksdb::ColumnFamilyOptions FamilyOptions(
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  table.optimize_filters_for_memory = true;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.data_block_index_type =
      rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  table.format_version = 5;

  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compaction_style = rocksdb::kCompactionStyleLevel;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.write_buffer_size = size_t{16} << 20;
  cf.max_write_buffer_number = 2;

  const std::vector<rocksdb::CompressionType> supported =
      rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  cf.compression = has(rocksdb::kLZ4Compression)      ? rocksdb::kLZ4Compression
                   : has(rocksdb::kSnappyCompression) ? rocksdb::kSnappyCompression
                                                      : rocksdb::kNoCompression;
  if (has(rocksdb::kZSTD)) cf.bottommost_compression = rocksdb::kZSTD;
  return cf;
}

rocksdb::DBOptions DatabaseOptions(const StateStore::Options& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  db.paranoid_checks = true;
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db.db_write_buffer_size = options.write_buffer_bytes;
  db.max_total_wal_size = 4 * options.write_buffer_bytes;
  db.max_background_jobs = 2;
  db.bytes_per_sync = 1 << 20;
  db.keep_log_file_num = 3;
  db.max_log_file_size = size_t{16} << 20;
  return db;
}

struct Families {
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  rocksdb::ColumnFamilyHandle* offsets = nullptr;
};

}  // namespace

// ---------------------------------------------------------------- Batch

struct Batch::Rep {
  const Families* families;
  rocksdb::WriteBatch batch;
  absl::Status status;

  rocksdb::ColumnFamilyHandle* Family(absl::string_view name) {
    if (IsReserved(name)) {
      status.Update(absl::InvalidArgumentError(
          absl::StrCat("column family \"", name, "\" is reserved")));
      return nullptr;
    }
    auto it = families->by_name.find(name);
    if (it == families->by_name.end()) {
      status.Update(absl::InvalidArgumentError(
          absl::StrCat("unknown column family \"", name, "\"")));
      return nullptr;
    }
    return it->second;
  }
  void Check(const rocksdb::Status& s) {
    status.Update(FromRocks(s, "batch"));
  }
};

Batch::Batch(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;
Batch::~Batch() = default;

void Batch::Put(absl::string_view column_family, absl::string_view key,
                absl::string_view value) {
  if (rocksdb::ColumnFamilyHandle* cf = rep_->Family(column_family)) {
    rep_->Check(rep_->batch.Put(cf, ToSlice(key), ToSlice(value)));
  }
}

void Batch::Delete(absl::string_view column_family, absl::string_view key) {
  if (rocksdb::ColumnFamilyHandle* cf = rep_->Family(column_family)) {
    rep_->Check(rep_->batch.Delete(cf, ToSlice(key)));
  }
}

void Batch::SetAppliedOffset(absl::string_view topic, int32_t partition,
                             int64_t next_offset) {
  if (topic.empty() || topic.find('\0') != absl::string_view::npos ||
      partition < 0 || next_offset < 0) {
    rep_->status.Update(absl::InvalidArgumentError(
        absl::StrCat("bad applied offset: topic \"", topic, "\" partition ",
                     partition, " next offset ", next_offset)));
    return;
  }
  if (rep_->families->offsets == nullptr) {  // the store was closed
    rep_->status.Update(absl::FailedPreconditionError("state store is closed"));
    return;
  }
  rep_->Check(rep_->batch.Put(rep_->families->offsets,
                              OffsetKey(topic, partition),
                              EncodeInt64(next_offset)));
}

size_t Batch::Count() const { return rep_->batch.Count(); }
size_t Batch::ByteSize() const { return rep_->batch.GetDataSize(); }
absl::Status Batch::status() const { return rep_->status; }

void Batch::Clear() {
  rep_->batch.Clear();
  rep_->status = absl::OkStatus();
}

// ---------------------------------------------------------------- StateStore

struct StateStore::Rep {
  std::string path;
  std::shared_ptr<rocksdb::Cache> cache;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  Families families;
  rocksdb::WriteOptions write_options;

  absl::Status CheckOpen() const {
    if (db == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("state store ", path, " is closed"));
    }
    return absl::OkStatus();
  }

  // A readable family: open, known, not reserved.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> ReadFamily(
      absl::string_view name) const {
    if (absl::Status s = CheckOpen(); !s.ok()) return s;
    if (IsReserved(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("column family \"", name, "\" is reserved"));
    }
    auto it = families.by_name.find(name);
    if (it == families.by_name.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown column family \"", name, "\""));
    }
    return it->second;
  }

  // Iterates [begin, end) of `cf` (empty end: unbounded) under `ro`.
  absl::Status Iterate(rocksdb::ColumnFamilyHandle* cf, rocksdb::ReadOptions ro,
                       absl::string_view begin,
                       std::optional<std::string> end, ScanFn fn) const {
    rocksdb::Slice upper;
    if (end) {
      upper = ToSlice(*end);
      ro.iterate_upper_bound = &upper;
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
      if (!fn(ToView(it->key()), ToView(it->value()))) break;
    }
    return FromRocks(it->status(), absl::StrCat("scan ", path));
  }
};

StateStore::StateStore(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

StateStore::~StateStore() { (void)Close(); }

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(
    const std::string& path, const Options& options) {
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                    kOffsetsColumnFamily};
  for (const std::string& name : options.column_families) {
    if (name.empty() || IsReserved(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state store ", path, ": column family name \"", name,
          "\" is empty or reserved (names starting with \"__\")"));
    }
    names.push_back(name);
  }

  std::error_code ec;
  const bool exists =
      std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec);
  if (!exists) {
    if (!options.create_if_missing) {
      return absl::NotFoundError(
          absl::StrCat("state store ", path, " does not exist"));
    }
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("state store ", path, ": ", ec.message()));
    }
  } else {
    std::vector<std::string> existing;
    absl::Status s = FromRocks(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &existing),
        absl::StrCat("state store ", path, ": listing column families"));
    if (!s.ok()) return s;
    names.insert(names.end(), existing.begin(), existing.end());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  auto rep = std::make_unique<Rep>();
  rep->path = path;
  rep->cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rep->write_options.sync = options.sync;
  rep->write_options.disableWAL = false;

  const rocksdb::ColumnFamilyOptions family_options = FamilyOptions(rep->cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, family_options);
  }
  absl::Status s = FromRocks(
      rocksdb::DB::Open(DatabaseOptions(options), path, descriptors,
                        &rep->handles, &rep->db),
      absl::StrCat("state store ", path, ": open"));
  if (!s.ok()) return s;
  for (rocksdb::ColumnFamilyHandle* h : rep->handles) {
    rep->families.by_name[h->GetName()] = h;
    if (h->GetName() == kOffsetsColumnFamily) rep->families.offsets = h;
  }
  return std::unique_ptr<StateStore>(new StateStore(std::move(rep)));
}

absl::Status StateStore::Destroy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::OkStatus();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &existing)
          .ok()) {
    for (const std::string& name : existing) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }
  absl::Status s =
      FromRocks(rocksdb::DestroyDB(path, rocksdb::Options(), descriptors),
                absl::StrCat("destroy state store ", path));
  if (!s.ok()) return s;
  // DestroyDB leaves the directory (and anything foreign in it); remove it
  // only if it is now empty.
  std::filesystem::remove(path, ec);
  return absl::OkStatus();
}

absl::Status StateStore::Close() {
  if (rep_->db == nullptr) return absl::OkStatus();
  absl::Status result =
      FromRocks(rep_->db->SyncWAL(), absl::StrCat("close ", rep_->path));
  for (rocksdb::ColumnFamilyHandle* h : rep_->handles) {
    result.Update(FromRocks(rep_->db->DestroyColumnFamilyHandle(h),
                            absl::StrCat("close ", rep_->path)));
  }
  rep_->handles.clear();
  rep_->families = Families();
  result.Update(FromRocks(rep_->db->Close(), absl::StrCat("close ", rep_->path)));
  delete rep_->db;
  rep_->db = nullptr;
  return result;
}

const std::string& StateStore::path() const { return rep_->path; }

std::vector<std::string> StateStore::ColumnFamilies() const {
  std::vector<std::string> names;
  for (const auto& [name, h] : rep_->families.by_name) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

Batch StateStore::NewBatch() const {
  auto rep = std::make_unique<Batch::Rep>();
  rep->families = &rep_->families;
  return Batch(std::move(rep));
}

absl::Status StateStore::Commit(const Batch& batch) {
  if (absl::Status s = rep_->CheckOpen(); !s.ok()) return s;
  if (batch.rep_->families != &rep_->families) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch was not made by state store ", rep_->path));
  }
  if (!batch.rep_->status.ok()) return batch.rep_->status;
  if (batch.rep_->batch.Count() == 0) return absl::OkStatus();
  // WriteBatch is not modified by Write; the API just wants a non-const one.
  return FromRocks(
      rep_->db->Write(rep_->write_options,
                      const_cast<rocksdb::WriteBatch*>(&batch.rep_->batch)),
      absl::StrCat("commit to ", rep_->path));
}

absl::StatusOr<std::optional<std::string>> StateStore::Get(
    absl::string_view column_family, absl::string_view key) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf =
      rep_->ReadFamily(column_family);
  if (!cf.ok()) return cf.status();
  std::string value;
  const rocksdb::Status s =
      rep_->db->Get(rocksdb::ReadOptions(), *cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, absl::StrCat("get from ", rep_->path));
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::vector<std::optional<std::string>>> StateStore::MultiGet(
    absl::string_view column_family, absl::Span<const std::string> keys) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf =
      rep_->ReadFamily(column_family);
  if (!cf.ok()) return cf.status();
  std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), *cf);
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& k : keys) slices.emplace_back(k);
  std::vector<std::string> values;
  const std::vector<rocksdb::Status> statuses =
      rep_->db->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      return FromRocks(statuses[i], absl::StrCat("multiget from ", rep_->path));
    }
    out[i] = std::move(values[i]);
  }
  return out;
}

absl::Status StateStore::Scan(absl::string_view column_family,
                              absl::string_view begin, absl::string_view end,
                              ScanFn fn) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf =
      rep_->ReadFamily(column_family);
  if (!cf.ok()) return cf.status();
  std::optional<std::string> upper;
  if (!end.empty()) upper = std::string(end);
  return rep_->Iterate(*cf, rocksdb::ReadOptions(), begin, std::move(upper),
                       fn);
}

absl::Status StateStore::ScanPrefix(absl::string_view column_family,
                                    absl::string_view prefix, ScanFn fn) const {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> cf =
      rep_->ReadFamily(column_family);
  if (!cf.ok()) return cf.status();
  return rep_->Iterate(*cf, rocksdb::ReadOptions(), prefix,
                       PrefixSuccessor(prefix), fn);
}

absl::StatusOr<std::optional<int64_t>> StateStore::AppliedOffset(
    absl::string_view topic, int32_t partition) const {
  if (absl::Status s = rep_->CheckOpen(); !s.ok()) return s;
  std::string value;
  const rocksdb::Status s =
      rep_->db->Get(rocksdb::ReadOptions(), rep_->families.offsets,
                    OffsetKey(topic, partition), &value);
  if (s.IsNotFound()) return std::optional<int64_t>();
  if (!s.ok()) {
    return FromRocks(s, absl::StrCat("read offset from ", rep_->path));
  }
  std::optional<int64_t> next = DecodeInt64(value);
  if (!next) {
    return absl::DataLossError(absl::StrCat("state store ", rep_->path,
                                            ": malformed offset for ", topic,
                                            "/", partition));
  }
  return next;
}

absl::StatusOr<std::vector<PartitionOffset>> StateStore::AppliedOffsets()
    const {
  if (absl::Status s = rep_->CheckOpen(); !s.ok()) return s;
  std::vector<PartitionOffset> out;
  absl::Status bad;
  absl::Status s = rep_->Iterate(
      rep_->families.offsets, rocksdb::ReadOptions(), "", std::nullopt,
      [&](absl::string_view key, absl::string_view value) {
        std::optional<PartitionOffset> o = DecodeOffset(key, value);
        if (!o) {
          bad = absl::DataLossError(absl::StrCat(
              "state store ", rep_->path, ": malformed offset entry"));
          return false;
        }
        out.push_back(*std::move(o));
        return true;
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

StateStore::Usage StateStore::ApproximateUsage() const {
  Usage u;
  if (rep_->db == nullptr) return u;
  for (rocksdb::ColumnFamilyHandle* h : rep_->handles) {
    uint64_t v = 0;
    if (rep_->db->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) u.sst_bytes += v;
    if (rep_->db->GetIntProperty(h, "rocksdb.cur-size-all-mem-tables", &v)) u.memtable_bytes += v;
  }
  if (rep_->cache) u.block_cache_bytes = rep_->cache->GetUsage();
  return u;
}

absl::StatusOr<std::string> StateStore::Digest(
    const DigestOptions& options) const {
  if (absl::Status s = rep_->CheckOpen(); !s.ok()) return s;
  std::vector<std::pair<std::string, rocksdb::ColumnFamilyHandle*>> families(
      rep_->families.by_name.begin(), rep_->families.by_name.end());
  std::sort(families.begin(), families.end());

  const rocksdb::Snapshot* snapshot = rep_->db->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;  // a full scan must not evict the working set

  Sha256Hasher hasher;
  hasher.UpdateLengthPrefixed(kDigestDomain);
  absl::Status status;
  for (const auto& family : families) {
    // Not a structured binding: clang 14 (the fuzz preset) cannot capture one.
    const auto& name = family.first;
    if (name == kOffsetsColumnFamily && !options.include_offsets) continue;
    status = rep_->Iterate(family.second, ro, "", std::nullopt,
                           [&](absl::string_view key, absl::string_view value) {
                             hasher.UpdateLengthPrefixed(name)
                                 .UpdateLengthPrefixed(key)
                                 .UpdateLengthPrefixed(value);
                             return true;
                           });
    if (!status.ok()) break;
  }
  rep_->db->ReleaseSnapshot(snapshot);
  if (!status.ok()) return status;
  return hasher.FinishHex();
}

}  // namespace mutualaid::store

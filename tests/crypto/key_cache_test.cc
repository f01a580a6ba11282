// The key ring's local key cache and its bounded clear keys (no broker):
// records and the offset survive a reopen; an erased marker replaces the
// record, is final, and after Purge no file of the directory holds the
// wrapped key (in the write-ahead log or in a table file); a corrupt,
// missing or other-topic cache opens empty; the LRU keeps at most its
// capacity and never keeps a key read before an erasure.
#include "mutualaid/crypto/key_cache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "mutualaid/crypto/aead.h"

namespace mutualaid::crypto {
namespace {

std::string Worker(int i) {
  return absl::StrCat(absl::Hex(i, absl::kZeroPad16),
                      "60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9");
}

std::string DirBytes(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

class KeyCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng{std::random_device{}()};
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("key_cache_test.", getpid(), ".", rng() % 1000000000);
    master_ = ParseMasterKey(NewMasterKeyHex(), "test").value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<KeyCache> Open(const std::string& topic = "mutualaid.keys") {
    KeyCacheOptions o;
    o.path = dir_.string();
    o.topic = topic;
    auto c = KeyCache::Open(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  // A wrapped key record of worker i, as the topic would hold it at `offset`.
  KeyCache::Entry Wrapped(int i, int64_t offset) {
    KeyCache::Entry e;
    e.offset = offset;
    e.record = WrapDataKey(master_, NewDataKey(Worker(i))).value();
    return e;
  }
  static KeyCache::Entry Marker(const KeyCache::Entry& of, int64_t offset) {
    KeyCache::Entry e = of;
    e.offset = offset;
    e.record.clear_nonce();
    e.record.clear_wrapped_key();
    e.record.set_erased(true);
    e.record.set_erased_by("operations:test");
    return e;
  }

  std::filesystem::path dir_;
  MasterKey master_;
};

TEST_F(KeyCacheTest, KeepsRecordsAndOffsetAcrossReopen) {
  std::vector<KeyCache::Entry> entries;
  for (int i = 0; i < 100; ++i) entries.push_back(Wrapped(i, i));
  KeyCache::Entry second = Wrapped(7, 100);  // worker 7's second key
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->rebuilt());
    EXPECT_EQ(c->next_offset(), 0);
    ASSERT_TRUE(c->Apply(entries, 100).ok());
    ASSERT_TRUE(c->Apply({second}, 101).ok());
  }
  auto c = Open();
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->rebuilt());
  EXPECT_EQ(c->next_offset(), 101);
  EXPECT_EQ(c->size(), 101);
  auto r = c->Find(entries[42].record.key_id());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->wrapped_key(), entries[42].record.wrapped_key());
  EXPECT_TRUE(c->Find("no-such-key").value() == std::nullopt);
  // The newest key of worker 7 is used; both are listed, oldest first.
  EXPECT_EQ(c->Usable(Worker(7)).value()->key_id(), second.record.key_id());
  auto keys = c->KeysOf(Worker(7)).value();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id(), entries[7].record.key_id());
  EXPECT_TRUE(c->Usable(Worker(1000)).value() == std::nullopt);
  // The offset never goes back.
  ASSERT_TRUE(c->Apply({}, 50).ok());
  EXPECT_EQ(c->next_offset(), 101);
}

TEST_F(KeyCacheTest, ErasedWrappedKeyLeavesEveryFile) {
  std::vector<KeyCache::Entry> entries;
  for (int i = 0; i < 200; ++i) entries.push_back(Wrapped(i, i));
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Apply(entries, 200).ok());
  }
  // Reopened: the first 200 are in a table file now; two more only in the log.
  auto c = Open();
  ASSERT_NE(c, nullptr);
  KeyCache::Entry fresh = Wrapped(300, 200), fresh2 = Wrapped(301, 201);
  ASSERT_TRUE(c->Apply({fresh, fresh2}, 202).ok());
  std::string bytes = DirBytes(dir_);
  for (const auto* e : {&entries[5], &entries[6], &fresh}) {
    ASSERT_NE(bytes.find(e->record.wrapped_key()), std::string::npos);
  }

  auto erased = c->Apply({Marker(entries[5], 202), Marker(fresh, 203)}, 204);
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(*erased, (std::vector<std::string>{entries[5].record.key_id(), fresh.record.key_id()}));
  ASSERT_TRUE(c->Purge(*erased).ok());
  bytes = DirBytes(dir_);
  EXPECT_EQ(bytes.find(entries[5].record.wrapped_key()), std::string::npos);
  EXPECT_EQ(bytes.find(fresh.record.wrapped_key()), std::string::npos);
  // Only those.
  EXPECT_NE(bytes.find(entries[6].record.wrapped_key()), std::string::npos);
  EXPECT_NE(bytes.find(fresh2.record.wrapped_key()), std::string::npos);
  // The marker stays: erased rather than unknown, and final.
  EXPECT_TRUE(c->Find(entries[5].record.key_id()).value()->erased());
  EXPECT_TRUE(c->Usable(Worker(5)).value() == std::nullopt);
  auto again = c->Apply({entries[5]}, 205);  // the old record read again
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_TRUE(c->Find(entries[5].record.key_id()).value()->erased());
  c.reset();
  c = Open();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->Find(fresh.record.key_id()).value()->erased());
  EXPECT_EQ(DirBytes(dir_).find(fresh.record.wrapped_key()), std::string::npos);
}

TEST_F(KeyCacheTest, ManyErasuresAtOnceArePurgedToo) {
  std::vector<KeyCache::Entry> entries, markers;
  for (int i = 0; i < 300; ++i) entries.push_back(Wrapped(i, i));
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Apply(entries, 300).ok());
  for (int i = 0; i < 100; ++i) markers.push_back(Marker(entries[i], 300 + i));
  auto erased = c->Apply(markers, 400);
  ASSERT_TRUE(erased.ok());
  ASSERT_EQ(erased->size(), 100u);
  ASSERT_TRUE(c->Purge(*erased).ok());  // more than one by one: the whole range
  const std::string bytes = DirBytes(dir_);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(bytes.find(entries[i].record.wrapped_key()), std::string::npos) << i;
  }
  EXPECT_NE(bytes.find(entries[200].record.wrapped_key()), std::string::npos);
}

TEST_F(KeyCacheTest, CorruptMissingOrOtherTopicOpensEmpty) {
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->Apply({Wrapped(1, 0)}, 1).ok());
  }
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    if (!f.is_regular_file()) continue;
    std::ofstream out(f.path(), std::ios::binary | std::ios::trunc);
    out << "not a rocksdb file";
  }
  {
    auto c = Open();
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->rebuilt());
    EXPECT_EQ(c->next_offset(), 0);
    EXPECT_EQ(c->size(), 0);
    ASSERT_TRUE(c->Apply({Wrapped(2, 0)}, 1).ok());
  }
  {
    auto c = Open("prefix.mutualaid.keys");  // another deployment's topic
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->rebuilt());
    EXPECT_EQ(c->next_offset(), 0);
  }
  std::filesystem::remove_all(dir_);
  auto c = Open();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->rebuilt());
  EXPECT_EQ(c->next_offset(), 0);
  // Rebuild wipes a live one.
  ASSERT_TRUE(c->Apply({Wrapped(3, 0)}, 1).ok());
  ASSERT_TRUE(c->Rebuild().ok());
  EXPECT_EQ(c->next_offset(), 0);
  EXPECT_EQ(c->size(), 0);
}

TEST_F(KeyCacheTest, InUseByAnotherIsAnErrorNotAWipe) {
  auto c = Open();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Apply({Wrapped(1, 0)}, 1).ok());
  KeyCacheOptions o;
  o.path = dir_.string();
  o.topic = "mutualaid.keys";
  auto second = KeyCache::Open(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_EQ(c->next_offset(), 1);
}

TEST_F(KeyCacheTest, InMemoryWritesNothingToDisk) {
  KeyCacheOptions o;
  o.topic = "mutualaid.keys";
  auto c = KeyCache::Open(o);
  ASSERT_TRUE(c.ok()) << c.status();
  KeyCache::Entry e = Wrapped(1, 0);
  ASSERT_TRUE((*c)->Apply({e}, 1).ok());
  EXPECT_EQ((*c)->Find(e.record.key_id()).value()->key_id(), e.record.key_id());
  auto erased = (*c)->Apply({Marker(e, 1)}, 2);
  ASSERT_TRUE(erased.ok());
  ASSERT_TRUE((*c)->Purge(*erased).ok());
  EXPECT_TRUE((*c)->Find(e.record.key_id()).value()->erased());
  EXPECT_FALSE(std::filesystem::exists("/mutualaid-key-cache"));
}

DataKey Key(int i) {
  DataKey k = NewDataKey(Worker(i));
  return k;
}

TEST(UnwrappedKeys, KeepsTheMostRecentlyUsedUpToCapacity) {
  UnwrappedKeys lru(2);
  const DataKey a = Key(1), b = Key(2), c = Key(3);
  lru.Put(a, lru.epoch());
  lru.Put(b, lru.epoch());
  ASSERT_TRUE(lru.Get(a.key_id).has_value());  // a is now the most recent
  lru.Put(c, lru.epoch());                     // b goes
  EXPECT_EQ(lru.size(), 2u);
  EXPECT_FALSE(lru.Get(b.key_id).has_value());
  EXPECT_EQ(lru.Get(a.key_id)->key.bytes(), a.key.bytes());
  EXPECT_TRUE(lru.Get(c.key_id).has_value());
  EXPECT_EQ(lru.hits(), 3);
  EXPECT_EQ(lru.misses(), 1);
}

TEST(UnwrappedKeys, AnErasureDropsAndBlocksAKeyReadBeforeIt) {
  UnwrappedKeys lru(10);
  const DataKey a = Key(1), b = Key(2);
  lru.Put(a, lru.epoch());
  const uint64_t before = lru.epoch();  // a reader saw the cache before the erasure
  lru.Drop({a.key_id, b.key_id});
  EXPECT_FALSE(lru.Get(a.key_id).has_value());
  lru.Put(b, before);  // ...and must not keep what it read
  EXPECT_FALSE(lru.Get(b.key_id).has_value());
  lru.Put(b, lru.epoch());
  EXPECT_TRUE(lru.Get(b.key_id).has_value());
  lru.Clear();
  EXPECT_EQ(lru.size(), 0u);
  UnwrappedKeys none(0);
  none.Put(a, none.epoch());
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace mutualaid::crypto

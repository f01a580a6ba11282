#include "mutualaid/store/state_store.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mutualaid/store/keys.h"

namespace mutualaid::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Optional;

constexpr char kTopic[] = "mutualaid.enrollment.events";

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("state_store_test_", ::getpid(), "_", info->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Dir(const std::string& name) { return (root_ / name).string(); }

  std::unique_ptr<StateStore> MustOpen(
      const std::string& path,
      std::vector<std::string> families = {"workers", "claims"},
      StateStore::Options options = {}) {
    options.column_families = std::move(families);
    absl::StatusOr<std::unique_ptr<StateStore>> s =
        StateStore::Open(path, options);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  static void MustCommit(StateStore& store, Batch& batch) {
    absl::Status s = store.Commit(batch);
    ASSERT_TRUE(s.ok()) << s;
  }

  static std::string Digest(const StateStore& store, bool offsets = false) {
    absl::StatusOr<std::string> d = store.Digest({.include_offsets = offsets});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.value_or("");
  }

  static std::map<std::string, std::string> All(const StateStore& store,
                                                absl::string_view cf) {
    std::map<std::string, std::string> out;
    absl::Status s = store.Scan(cf, "", "", [&](auto k, auto v) {
      out.emplace(std::string(k), std::string(v));
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  std::filesystem::path root_;
};

TEST_F(StateStoreTest, OpenCreatesFamiliesIncludingReservedOnes) {
  auto store = MustOpen(Dir("db"));
  ASSERT_TRUE(store);
  EXPECT_THAT(store->ColumnFamilies(),
              ElementsAre("__offsets", "claims", "default", "workers"));
  EXPECT_EQ(store->path(), Dir("db"));
}

TEST_F(StateStoreTest, OpenAbsentWithoutCreateIsNotFound) {
  StateStore::Options options;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<StateStore>> s =
      StateStore::Open(Dir("absent"), options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StateStoreTest, ReservedOrEmptyFamilyNamesRejected) {
  for (const char* bad : {"__offsets", "__mine", ""}) {
    StateStore::Options options;
    options.column_families = {"ok", bad};
    absl::StatusOr<std::unique_ptr<StateStore>> s =
        StateStore::Open(Dir("db"), options);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(StateStoreTest, SecondOpenOfSamePathFails) {
  auto store = MustOpen(Dir("db"));
  absl::StatusOr<std::unique_ptr<StateStore>> again =
      StateStore::Open(Dir("db"), {});
  EXPECT_FALSE(again.ok());
}

TEST_F(StateStoreTest, PutGetDeleteMultiGet) {
  auto store = MustOpen(Dir("db"));
  Batch b = store->NewBatch();
  b.Put("workers", "w1", "alice");
  b.Put("workers", "w2", "bob");
  b.Put("claims", "w1", "claim");
  EXPECT_EQ(b.Count(), 3u);
  MustCommit(*store, b);
  EXPECT_THAT(*store->Get("workers", "w1"), Optional(std::string("alice")));
  EXPECT_THAT(*store->Get("claims", "w1"), Optional(std::string("claim")));
  EXPECT_EQ(*store->Get("claims", "w2"), std::nullopt);

  Batch d = store->NewBatch();
  d.Delete("workers", "w1");
  d.Put("workers", "w3", "");
  MustCommit(*store, d);
  const std::vector<std::string> keys = {"w1", "w2", "w3", "w4"};
  absl::StatusOr<std::vector<std::optional<std::string>>> got =
      store->MultiGet("workers", keys);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, ElementsAre(std::nullopt, Optional(std::string("bob")),
                                Optional(std::string("")), std::nullopt));
}

TEST_F(StateStoreTest, ValuesAreBinarySafe) {
  auto store = MustOpen(Dir("db"));
  const std::string key("k\0\xff", 3);
  const std::string value("\0\x01\x02\xff", 4);
  Batch b = store->NewBatch();
  b.Put("workers", key, value);
  MustCommit(*store, b);
  EXPECT_THAT(*store->Get("workers", key), Optional(value));
}

TEST_F(StateStoreTest, BadBatchWritesNothing) {
  auto store = MustOpen(Dir("db"));
  struct Case {
    const char* what;
    std::function<void(Batch&)> spoil;
  };
  const std::vector<Case> cases = {
      {"unknown family", [](Batch& b) { b.Put("nope", "k", "v"); }},
      {"reserved family", [](Batch& b) { b.Put("__offsets", "k", "v"); }},
      {"delete in unknown family", [](Batch& b) { b.Delete("nope", "k"); }},
      {"negative offset",
       [](Batch& b) { b.SetAppliedOffset(kTopic, 0, -1); }},
      {"negative partition",
       [](Batch& b) { b.SetAppliedOffset(kTopic, -1, 5); }},
      {"empty topic", [](Batch& b) { b.SetAppliedOffset("", 0, 5); }},
  };
  for (const Case& c : cases) {
    Batch b = store->NewBatch();
    b.Put("workers", "w1", "v");
    b.SetAppliedOffset(kTopic, 0, 10);
    c.spoil(b);
    EXPECT_FALSE(b.status().ok()) << c.what;
    absl::Status s = store->Commit(b);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(*store->Get("workers", "w1"), std::nullopt) << c.what;
    EXPECT_EQ(*store->AppliedOffset(kTopic, 0), std::nullopt) << c.what;
  }
  Batch b = store->NewBatch();
  b.Put("nope", "k", "v");
  b.Clear();
  EXPECT_TRUE(b.status().ok());
  EXPECT_TRUE(b.empty());
}

TEST_F(StateStoreTest, BatchFromAnotherStoreRejected) {
  auto a = MustOpen(Dir("a"));
  auto b = MustOpen(Dir("b"));
  Batch batch = a->NewBatch();
  batch.Put("workers", "k", "v");
  EXPECT_EQ(b->Commit(batch).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StateStoreTest, StateAndOffsetsCommitTogetherAndSurviveReopen) {
  {
    auto store = MustOpen(Dir("db"));
    EXPECT_EQ(*store->AppliedOffset(kTopic, 3), std::nullopt);
    Batch b = store->NewBatch();
    b.Put("workers", "w1", "enrolled");
    b.SetAppliedOffset(kTopic, 3, 41);
    b.SetAppliedOffset(kTopic, 3, 42);  // later setting wins
    b.SetAppliedOffset("mutualaid.claims.events", 0, 7);
    b.SetAppliedOffset(kTopic, 10, 1);
    MustCommit(*store, b);
    ASSERT_TRUE(store->Close().ok());
    EXPECT_EQ(store->Get("workers", "w1").status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(store->Close().ok());  // idempotent
  }
  auto store = MustOpen(Dir("db"));
  EXPECT_THAT(*store->Get("workers", "w1"), Optional(std::string("enrolled")));
  EXPECT_THAT(*store->AppliedOffset(kTopic, 3), Optional(int64_t{42}));
  EXPECT_EQ(*store->AppliedOffset(kTopic, 4), std::nullopt);
  absl::StatusOr<std::vector<PartitionOffset>> all = store->AppliedOffsets();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ElementsAre(PartitionOffset{"mutualaid.claims.events", 0, 7},
                                PartitionOffset{kTopic, 3, 42},
                                PartitionOffset{kTopic, 10, 1}));
}

TEST_F(StateStoreTest, OffsetFamilyIsNotReadableAsState) {
  auto store = MustOpen(Dir("db"));
  EXPECT_EQ(store->Get("__offsets", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("nope", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StateStoreTest, ReopenWithFewerFamiliesKeepsUnknownOnes) {
  {
    auto store = MustOpen(Dir("db"), {"workers", "legacy"});
    Batch b = store->NewBatch();
    b.Put("legacy", "k", "old");
    MustCommit(*store, b);
  }
  auto store = MustOpen(Dir("db"), {"workers", "payouts"});
  EXPECT_THAT(store->ColumnFamilies(),
              ElementsAre("__offsets", "default", "legacy", "payouts",
                          "workers"));
  EXPECT_THAT(*store->Get("legacy", "k"), Optional(std::string("old")));
}

TEST_F(StateStoreTest, ManyFamilies) {
  std::vector<std::string> families;
  for (int i = 0; i < 24; ++i) families.push_back(absl::StrCat("cf", i));
  {
    auto store = MustOpen(Dir("db"), families);
    Batch b = store->NewBatch();
    for (const std::string& f : families) b.Put(f, "key", f);
    b.SetAppliedOffset(kTopic, 0, 1);
    MustCommit(*store, b);
  }
  auto store = MustOpen(Dir("db"), {});
  EXPECT_THAT(store->ColumnFamilies(), IsSupersetOf(families));
  for (const std::string& f : families) {
    EXPECT_THAT(*store->Get(f, "key"), Optional(f));
  }
}

TEST_F(StateStoreTest, ScanRangeAndPrefix) {
  auto store = MustOpen(Dir("db"));
  Batch b = store->NewBatch();
  for (const char* k : {"a", "ab/1", "ab/2", "abc", "b", "b/\xff", "c"}) {
    b.Put("workers", k, absl::StrCat("v:", k));
  }
  b.Put("claims", "ab/9", "other family");
  MustCommit(*store, b);

  auto collect = [&](auto scan) {
    std::vector<std::string> keys;
    absl::Status s = scan([&](absl::string_view k, absl::string_view v) {
      EXPECT_EQ(v, absl::StrCat("v:", k));
      keys.emplace_back(k);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return keys;
  };
  EXPECT_THAT(collect([&](auto fn) { return store->Scan("workers", "ab", "b", fn); }),
              ElementsAre("ab/1", "ab/2", "abc"));
  EXPECT_THAT(collect([&](auto fn) { return store->Scan("workers", "b", "", fn); }),
              ElementsAre("b", "b/\xff", "c"));
  EXPECT_THAT(collect([&](auto fn) {
                return store->ScanPrefix("workers", "ab/", fn);
              }),
              ElementsAre("ab/1", "ab/2"));
  EXPECT_THAT(collect([&](auto fn) {
                return store->ScanPrefix("workers", "b/\xff", fn);
              }),
              ElementsAre("b/\xff"));
  EXPECT_EQ(collect([&](auto fn) { return store->ScanPrefix("workers", "", fn); })
                .size(),
            7u);
  EXPECT_TRUE(collect([&](auto fn) { return store->ScanPrefix("workers", "zz", fn); })
                  .empty());

  int seen = 0;
  ASSERT_TRUE(store
                  ->Scan("workers", "", "",
                         [&](absl::string_view, absl::string_view) {
                           return ++seen < 2;
                         })
                  .ok());
  EXPECT_EQ(seen, 2);
}

TEST_F(StateStoreTest, ScanOrdersIntegerKeysNumerically) {
  auto store = MustOpen(Dir("db"));
  Batch b = store->NewBatch();
  for (int64_t year : {2026, -5, 2025, 0, 300}) {
    b.Put("workers", KeyBuilder().Text("w1").Int64(year).Build(), "x");
  }
  MustCommit(*store, b);
  std::vector<int64_t> years;
  ASSERT_TRUE(store
                  ->ScanPrefix("workers", KeyBuilder().Text("w1").Prefix(),
                               [&](absl::string_view k, absl::string_view) {
                                 KeyReader r(k);
                                 r.Text();
                                 years.push_back(*r.Int64());
                                 return true;
                               })
                  .ok());
  EXPECT_THAT(years, ElementsAre(-5, 0, 300, 2025, 2026));
}

TEST_F(StateStoreTest, DigestIndependentOfWriteOrderOverwritesAndFlushes) {
  // Small memtables so the long history in `a` is flushed and compacted.
  StateStore::Options small;
  small.write_buffer_bytes = 256 << 10;
  auto a = MustOpen(Dir("a"), {"workers", "claims"}, small);
  auto b = MustOpen(Dir("b"), {"claims", "workers", "unused"});

  std::mt19937 rng(7);
  const std::string filler(200, 'f');
  // a: a long, noisy history ending in the same state as b.
  for (int round = 0; round < 40; ++round) {
    Batch batch = a->NewBatch();
    for (int i = 0; i < 200; ++i) {
      batch.Put("workers", absl::StrCat("w", rng() % 500),
                absl::StrCat(filler, round));
      batch.Put("claims", absl::StrCat("tmp", i), filler);
    }
    MustCommit(*a, batch);
  }
  Batch cleanup = a->NewBatch();
  for (int i = 0; i < 500; ++i) cleanup.Delete("workers", absl::StrCat("w", i));
  for (int i = 0; i < 200; ++i) cleanup.Delete("claims", absl::StrCat("tmp", i));
  MustCommit(*a, cleanup);
  Batch final_a = a->NewBatch();
  for (int i = 0; i < 100; ++i) {
    final_a.Put("workers", absl::StrCat("w", i), absl::StrCat("state", i));
  }
  final_a.Put("claims", "c1", "approved");
  final_a.SetAppliedOffset(kTopic, 0, 8001);
  MustCommit(*a, final_a);

  // b: the same final state, written once, in reverse order, other offsets.
  for (int i = 99; i >= 0; --i) {
    Batch batch = b->NewBatch();
    batch.Put("workers", absl::StrCat("w", i), absl::StrCat("state", i));
    if (i == 50) batch.Put("claims", "c1", "approved");
    batch.SetAppliedOffset(kTopic, 0, 100 - i);
    MustCommit(*b, batch);
  }

  // The history really went through flushes to SST files.
  int sst_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(Dir("a"))) {
    sst_files += e.path().extension() == ".sst";
  }
  EXPECT_GT(sst_files, 0);

  EXPECT_EQ(Digest(*a), Digest(*b));
  EXPECT_NE(Digest(*a, /*offsets=*/true), Digest(*b, /*offsets=*/true));
  EXPECT_EQ(All(*a, "workers"), All(*b, "workers"));

  // And after reopening (memtables replayed or flushed) nothing changes.
  const std::string before = Digest(*a);
  ASSERT_TRUE(a->Close().ok());
  a = MustOpen(Dir("a"));
  EXPECT_EQ(Digest(*a), before);
}

TEST_F(StateStoreTest, DigestSeesEveryByte) {
  auto store = MustOpen(Dir("db"));
  Batch b = store->NewBatch();
  b.Put("workers", "w1", "fee=1200");
  b.Put("claims", "c1", "x");
  MustCommit(*store, b);
  const std::string base = Digest(*store);
  EXPECT_EQ(base.size(), 64u);

  auto changed = [&](auto mutate, auto undo) {
    Batch m = store->NewBatch();
    mutate(m);
    EXPECT_TRUE(store->Commit(m).ok());
    const std::string d = Digest(*store);
    Batch u = store->NewBatch();
    undo(u);
    EXPECT_TRUE(store->Commit(u).ok());
    EXPECT_EQ(Digest(*store), base);
    return d;
  };
  // One byte of a value.
  EXPECT_NE(changed([](Batch& m) { m.Put("workers", "w1", "fee=1201"); },
                    [](Batch& u) { u.Put("workers", "w1", "fee=1200"); }),
            base);
  // One byte of a key.
  EXPECT_NE(changed(
                [](Batch& m) {
                  m.Delete("workers", "w1");
                  m.Put("workers", "w2", "fee=1200");
                },
                [](Batch& u) {
                  u.Delete("workers", "w2");
                  u.Put("workers", "w1", "fee=1200");
                }),
            base);
  // The same entry in another family.
  EXPECT_NE(changed(
                [](Batch& m) {
                  m.Delete("claims", "c1");
                  m.Put("workers", "c1", "x");
                },
                [](Batch& u) {
                  u.Delete("workers", "c1");
                  u.Put("claims", "c1", "x");
                }),
            base);
  // Moving a byte between key and value.
  EXPECT_NE(changed(
                [](Batch& m) {
                  m.Delete("claims", "c1");
                  m.Put("claims", "c", "1x");
                },
                [](Batch& u) {
                  u.Delete("claims", "c");
                  u.Put("claims", "c1", "x");
                }),
            base);
  // Offsets only count when asked for.
  Batch o = store->NewBatch();
  o.SetAppliedOffset(kTopic, 1, 5);
  const std::string with_before = Digest(*store, true);
  MustCommit(*store, o);
  EXPECT_EQ(Digest(*store), base);
  EXPECT_NE(Digest(*store, true), with_before);
}

TEST_F(StateStoreTest, EmptyStoresAgreeWhateverTheirFamilies) {
  auto a = MustOpen(Dir("a"), {"x"});
  auto b = MustOpen(Dir("b"), {"y", "z"});
  EXPECT_EQ(Digest(*a), Digest(*b));
}

TEST_F(StateStoreTest, DestroyRemovesTheStore) {
  {
    auto store = MustOpen(Dir("db"));
    Batch b = store->NewBatch();
    b.Put("workers", "w1", "v");
    MustCommit(*store, b);
  }
  ASSERT_TRUE(StateStore::Destroy(Dir("db")).ok());
  StateStore::Options options;
  options.create_if_missing = false;
  EXPECT_EQ(StateStore::Open(Dir("db"), options).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(Dir("db")));
  EXPECT_TRUE(StateStore::Destroy(Dir("never-existed")).ok());
  auto fresh = MustOpen(Dir("db"));
  EXPECT_EQ(*fresh->Get("workers", "w1"), std::nullopt);
}

TEST_F(StateStoreTest, SyncedCommits) {
  StateStore::Options options;
  options.sync = true;
  auto store = MustOpen(Dir("db"), {"workers"}, options);
  Batch b = store->NewBatch();
  b.Put("workers", "w", "v");
  b.SetAppliedOffset(kTopic, 0, 1);
  MustCommit(*store, b);
  EXPECT_THAT(*store->AppliedOffset(kTopic, 0), Optional(int64_t{1}));
}

TEST_F(StateStoreTest, ReadersNeverSeeHalfABatch) {
  auto store = MustOpen(Dir("db"), {"a", "b"});
  std::atomic<bool> done{false};
  std::atomic<int> mismatches{0};
  std::thread reader([&] {
    while (!done.load()) {
      absl::StatusOr<std::string> d = store->Digest();
      (void)d;
      // A scan of both families at one snapshot is what Digest does; here we
      // check the cheaper invariant through offsets and a counter key.
      absl::StatusOr<std::optional<int64_t>> off = store->AppliedOffset(kTopic, 0);
      absl::StatusOr<std::optional<std::string>> a = store->Get("a", "n");
      absl::StatusOr<std::optional<int64_t>> off2 = store->AppliedOffset(kTopic, 0);
      if (!off.ok() || !a.ok() || !off2.ok()) {
        ++mismatches;
        continue;
      }
      // If the offset did not move between the reads, "n" must match it.
      if (*off == *off2 && off->has_value() &&
          (!a->has_value() || **a != absl::StrCat(**off))) {
        ++mismatches;
      }
    }
  });
  for (int i = 1; i <= 300; ++i) {
    Batch b = store->NewBatch();
    b.Put("a", "n", absl::StrCat(i));
    b.Put("b", "n", absl::StrCat(i));
    b.SetAppliedOffset(kTopic, 0, i);
    MustCommit(*store, b);
  }
  done = true;
  reader.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace mutualaid::store

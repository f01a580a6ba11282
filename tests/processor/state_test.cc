#include "mutualaid/processor/state.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

namespace mutualaid::processor {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("state_test." + std::to_string(getpid()) + "." + std::to_string(std::random_device{}()));
    store::StateStore::Options o;
    o.column_families = {"a", "b"};
    auto s = store::StateStore::Open(dir_.string(), o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    store::Batch b = store_->NewBatch();
    b.Put("a", "k1", "store1");
    b.Put("a", "k3", "store3");
    b.Put("a", "k5", "store5");
    b.Put("a", "x9", "other");
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<std::pair<std::string, std::string>> Scan(const State& st, const std::string& prefix,
                                                        size_t limit = 100) {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(st.ScanPrefix("a", prefix, [&](absl::string_view k, absl::string_view v) {
                    out.emplace_back(k, v);
                    return out.size() < limit;
                  }).ok());
    return out;
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::StateStore> store_;
};

TEST_F(StateTest, ReadsSeePendingWritesFirst) {
  State st(*store_);
  st.Put("a", "k1", "pending1");
  st.Delete("a", "k3");
  EXPECT_EQ(**st.Get("a", "k1"), "pending1");
  EXPECT_FALSE(st.Get("a", "k3")->has_value());
  EXPECT_EQ(**st.Get("a", "k5"), "store5");
  EXPECT_FALSE(st.Get("b", "k1")->has_value());
}

TEST_F(StateTest, ScanMergesPendingWritesInKeyOrder) {
  State st(*store_);
  st.Put("a", "k0", "p0");
  st.Put("a", "k3", "p3");
  st.Delete("a", "k5");
  st.Put("a", "k6", "p6");
  st.Put("a", "y1", "outside");
  std::vector<std::pair<std::string, std::string>> want = {
      {"k0", "p0"}, {"k1", "store1"}, {"k3", "p3"}, {"k6", "p6"}};
  EXPECT_EQ(Scan(st, "k"), want);
  // Early stop is honoured, in pending and store entries alike.
  EXPECT_EQ(Scan(st, "k", 2).size(), 2u);
  EXPECT_EQ(Scan(st, "k", 3).size(), 3u);
}

TEST_F(StateTest, MoveToCommitsAndDiscardForgets) {
  State st(*store_);
  st.Put("b", "n", "1");
  st.Delete("a", "k1");
  store::Batch b = store_->NewBatch();
  st.MoveTo(b);
  EXPECT_TRUE(st.empty());
  ASSERT_TRUE(store_->Commit(b).ok());
  EXPECT_EQ(**store_->Get("b", "n"), "1");
  EXPECT_FALSE(store_->Get("a", "k1")->has_value());

  State st2(*store_);
  st2.Put("b", "n", "2");
  st2.Discard();
  EXPECT_EQ(**st2.Get("b", "n"), "1");
}

// A batch decided while the previous batch commits: reads see its own
// writes, then the committing batch's, then the store; the base's writes are
// only read (the commit thread copies them to RocksDB), and once they are in
// the store the state reads the same without its base.
TEST_F(StateTest, StateOnABaseReadsThroughItAndKeepsItIntact) {
  State committing(*store_);
  committing.Put("a", "k1", "c1");
  committing.Delete("a", "k3");
  committing.Put("a", "k4", "c4");
  State next(*store_, &committing);
  next.Put("a", "k4", "n4");
  next.Put("a", "k2", "n2");
  next.Delete("a", "k5");
  EXPECT_EQ(**next.Get("a", "k1"), "c1");
  EXPECT_FALSE(next.Get("a", "k3")->has_value());
  EXPECT_EQ(**next.Get("a", "k4"), "n4");
  EXPECT_FALSE(next.Get("a", "k5")->has_value());
  EXPECT_EQ(**next.Get("a", "x9"), "other");
  std::vector<std::pair<std::string, std::string>> want = {
      {"k1", "c1"}, {"k2", "n2"}, {"k4", "n4"}};
  EXPECT_EQ(Scan(next, "k"), want);
  EXPECT_EQ(Scan(next, "k", 2).size(), 2u);
  // The base still holds exactly its own writes.
  std::vector<std::pair<std::string, std::string>> base_view = {
      {"k1", "c1"}, {"k4", "c4"}, {"k5", "store5"}};
  EXPECT_EQ(Scan(committing, "k"), base_view);

  // The base commits: CopyTo keeps its writes (next may still be reading).
  store::Batch b = store_->NewBatch();
  committing.CopyTo(b);
  EXPECT_FALSE(committing.empty());
  ASSERT_TRUE(store_->Commit(b).ok());
  const auto before = Scan(next, "k");
  next.DropBase();
  EXPECT_EQ(Scan(next, "k"), before);
  EXPECT_EQ(**next.Get("a", "k1"), "c1");
  EXPECT_FALSE(next.Get("a", "k3")->has_value());
}

}  // namespace
}  // namespace mutualaid::processor

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

}  // namespace
}  // namespace mutualaid::processor

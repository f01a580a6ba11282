// The key ring over the real broker (label kafka): two services' rings share
// keys through the compacted topic; erasure in one reaches the other; a ring
// started afterwards knows the key was erased; the topic never holds a clear
// data key. The key cache: a restart reads only what was appended since; an
// erased wrapped key is gone from the cache directory's bytes; the clear keys
// in memory are bounded and an evicted one opens again; a corrupt or missing
// cache is rebuilt from the topic.
#include "mutualaid/crypto/kafka_key_ring.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "mutualaid/kafka/partition_reader.h"
#include "tests/kafka/kafka_test_util.h"

namespace mutualaid::crypto {
namespace {

constexpr char kWorker[] = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
constexpr char kOther[] = "1a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

using kafka::testing::WaitFor;

class KafkaKeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = kafka::ClientConfigFromEnv("crypto-key-ring-test");
    ASSERT_TRUE(c.ok()) << c.status() << " -- export MUTUALAID_KAFKA_BOOTSTRAP";
    client_ = *c;
    std::mt19937_64 rng{std::random_device{}()};
    topic_ = absl::StrCat("test.keys.", getpid(), ".", rng() % 1000000000);
    master_hex_ = NewMasterKeyHex();
  }
  void TearDown() override {
    auto admin = kafka::Admin::Create(client_);
    if (admin.ok()) (void)(*admin)->DeleteTopics({topic_});
  }
  std::unique_ptr<KafkaKeyRing> Ring(const std::string& creator, const std::string& cache = "",
                                     size_t unwrapped_keys = 65536) {
    KafkaKeyRingOptions o;
    o.client = client_;
    o.topic = topic_;
    o.creator = creator;
    o.refresh_interval = absl::Milliseconds(100);
    o.cache_path = cache;
    o.unwrapped_keys = unwrapped_keys;
    auto ring = KafkaKeyRing::Create(ParseMasterKey(master_hex_, "test").value(), o);
    EXPECT_TRUE(ring.ok()) << ring.status();
    return ring.ok() ? *std::move(ring) : nullptr;
  }

  // A fresh directory for a key cache, removed at the end of the test.
  std::string CacheDir(const std::string& name) {
    if (dir_.empty()) {
      dir_ = (std::filesystem::temp_directory_path() / absl::StrCat(topic_, ".cache")).string();
    }
    return (std::filesystem::path(dir_) / name).string();
  }
  ~KafkaKeyRingTest() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // The wrapped key of a worker's live (not erased) key, as in the topic.
  std::string WrappedKeyInTopic(const std::string& key_id) {
    auto reader = kafka::PartitionReader::Open(client_, topic_, 0, 0).value();
    std::string wrapped;
    while (true) {
      auto m = reader->Next();
      if (!m.ok() || !m->has_value()) break;
      v1::WorkerDataKey r;
      if (r.ParseFromString((*m)->value) && r.key_id() == key_id && !r.erased()) {
        wrapped = r.wrapped_key();
      }
    }
    return wrapped;
  }

  kafka::ClientConfig client_;
  std::string topic_;
  std::string master_hex_;
  std::string dir_;
};

std::string DirBytes(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

std::string Worker(int i) { return absl::StrCat(absl::Hex(i, absl::kZeroPad16), kOther + 16); }

TEST_F(KafkaKeyRingTest, SharedThroughTheTopicAndErasedEverywhere) {
  auto enrollment = Ring("enrollment");
  auto payout = Ring("payout");
  ASSERT_NE(enrollment, nullptr);
  ASSERT_NE(payout, nullptr);

  auto admin = kafka::Admin::Create(client_).value();
  auto desc = admin->DescribeTopic(topic_);
  ASSERT_TRUE(desc.ok()) << desc.status();
  EXPECT_EQ(desc->config["cleanup.policy"], "compact");

  absl::StatusOr<DataKey> key = enrollment->KeyForSealing(kWorker);
  ASSERT_TRUE(key.ok()) << key.status();
  const v1::SealedPersonalData card = Seal(*key, kFieldCard, "6222020000000000001").value();
  const v1::SealedPersonalData other =
      SealField(*enrollment, kOther, kFieldPhone, "13900139000").value();
  // The other service opens it (unknown key id: it reads the topic at once).
  absl::StatusOr<std::string> clear = OpenField(*payout, kWorker, kFieldCard, card);
  ASSERT_TRUE(clear.ok()) << clear.status();
  EXPECT_EQ(*clear, "6222020000000000001");
  // It seals with the same key rather than making another.
  EXPECT_EQ(SealField(*payout, kWorker, kFieldPhone, "13800138000").value().key_id(), key->key_id);

  // Erased through the payout service's ring...
  absl::StatusOr<int> n = payout->Erase(kWorker, "operations:test");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(IsErased(OpenField(*payout, kWorker, kFieldCard, card).status()));
  // ...the enrollment service's ring stops opening it within its refresh.
  EXPECT_TRUE(WaitFor([&] { return IsErased(OpenField(*enrollment, kWorker, kFieldCard, card).status()); },
                      absl::Seconds(20), absl::Milliseconds(50)));
  // The other worker is untouched.
  EXPECT_EQ(OpenField(*enrollment, kOther, kFieldPhone, other).value(), "13900139000");

  // A service started later (a replay, a restart) knows it was erased.
  auto later = Ring("mutualctl");
  ASSERT_NE(later, nullptr);
  absl::Status s = OpenField(*later, kWorker, kFieldCard, card).status();
  EXPECT_TRUE(IsErased(s)) << s;
  EXPECT_EQ(OpenField(*later, kOther, kFieldPhone, other).value(), "13900139000");

  // The topic holds wrapped keys only: no record carries a clear data key,
  // and the erasure markers carry none at all.
  auto reader = kafka::PartitionReader::Open(client_, topic_, 0, 0).value();
  int records = 0, markers = 0;
  while (true) {
    auto m = reader->Next();
    ASSERT_TRUE(m.ok()) << m.status();
    if (!m->has_value()) break;
    ++records;
    EXPECT_EQ((*m)->value.find(key->key.bytes()), std::string::npos);
    v1::WorkerDataKey r;
    ASSERT_TRUE(r.ParseFromString((*m)->value));
    EXPECT_EQ((*m)->key, absl::StrCat(r.worker_key(), "/", r.key_id()));
    if (r.erased()) {
      ++markers;
      EXPECT_TRUE(r.wrapped_key().empty());
      EXPECT_EQ(r.erased_by(), "operations:test");
    }
  }
  EXPECT_EQ(records, 3);  // two keys made, one erased
  EXPECT_EQ(markers, 1);

  // The worker enrolling again gets a new key.
  absl::StatusOr<DataKey> again = enrollment->KeyForSealing(kWorker);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->key_id, key->key_id);
}

TEST_F(KafkaKeyRingTest, AnotherMasterKeyCannotOpen) {
  auto ring = Ring("enrollment");
  ASSERT_NE(ring, nullptr);
  const v1::SealedPersonalData s = SealField(*ring, kWorker, kFieldPhone, "13800138000").value();
  master_hex_ = NewMasterKeyHex();
  auto stranger = Ring("stranger");
  ASSERT_NE(stranger, nullptr);
  absl::Status st = OpenField(*stranger, kWorker, kFieldPhone, s).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
}

TEST_F(KafkaKeyRingTest, RestartResumesFromTheStoredOffset) {
  const std::string dir = CacheDir("enrollment");
  std::vector<v1::SealedPersonalData> sealed;
  {
    auto ring = Ring("enrollment", dir);
    ASSERT_NE(ring, nullptr);
    EXPECT_TRUE(ring->cache_rebuilt());  // a new cache
    for (int i = 0; i < 5; ++i) {
      sealed.push_back(SealField(*ring, Worker(i), kFieldPhone, absl::StrCat("1380013800", i)).value());
    }
  }
  // Meanwhile another service makes a key and erases one.
  {
    auto claims = Ring("claims");
    ASSERT_NE(claims, nullptr);
    sealed.push_back(SealField(*claims, Worker(5), kFieldPhone, "13800138005").value());
    ASSERT_EQ(claims->Erase(Worker(0), "operations:test").value(), 1);
  }
  // The restart reads only those two records, not the five it already had.
  auto ring = Ring("enrollment", dir);
  ASSERT_NE(ring, nullptr);
  EXPECT_FALSE(ring->cache_rebuilt());
  EXPECT_EQ(ring->records_read(), 2);
  EXPECT_EQ(ring->size(), 6u);
  EXPECT_TRUE(IsErased(OpenField(*ring, Worker(0), kFieldPhone, sealed[0]).status()));
  for (int i = 1; i < 6; ++i) {
    EXPECT_EQ(OpenField(*ring, Worker(i), kFieldPhone, sealed[i]).value(),
              absl::StrCat("1380013800", i));
  }
  EXPECT_EQ(ring->records_read(), 2);  // all opened from the cache
}

TEST_F(KafkaKeyRingTest, ErasedWrappedKeyIsGoneFromTheCacheDirectory) {
  const std::string dir = CacheDir("payout");
  std::string kept_id;
  {
    // Keys from an earlier run, flushed into the cache's table files.
    auto ring = Ring("payout", dir);
    ASSERT_NE(ring, nullptr);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(ring->KeyForSealing(Worker(i)).ok());
    kept_id = ring->KeyForSealing(Worker(1)).value().key_id;
  }
  auto payout = Ring("payout", dir);
  ASSERT_NE(payout, nullptr);
  absl::StatusOr<DataKey> key = payout->KeyForSealing(kWorker);  // this one only in the log
  ASSERT_TRUE(key.ok()) << key.status();
  const v1::SealedPersonalData card = Seal(*key, kFieldCard, "6222020000000000001").value();
  const DataKey old = payout->KeyForSealing(Worker(0)).value();
  const std::string wrapped = WrappedKeyInTopic(key->key_id);
  const std::string wrapped_old = WrappedKeyInTopic(old.key_id);
  const std::string wrapped_kept = WrappedKeyInTopic(kept_id);
  ASSERT_FALSE(wrapped.empty());
  ASSERT_FALSE(wrapped_old.empty());
  // The search works: before erasure both wrapped keys are in the directory.
  std::string bytes = DirBytes(dir);
  ASSERT_NE(bytes.find(wrapped), std::string::npos);
  ASSERT_NE(bytes.find(wrapped_old), std::string::npos);

  // Erased by another service: this ring applies the markers at its refresh.
  auto enrollment = Ring("enrollment");
  ASSERT_NE(enrollment, nullptr);
  ASSERT_EQ(enrollment->Erase(kWorker, "operations:test").value(), 1);
  ASSERT_EQ(enrollment->Erase(Worker(0), "operations:test").value(), 1);
  EXPECT_TRUE(WaitFor([&] { return IsErased(OpenField(*payout, kWorker, kFieldCard, card).status()); },
                      absl::Seconds(20), absl::Milliseconds(50)));
  EXPECT_TRUE(WaitFor([&] { return IsErased(payout->KeyForOpening(Worker(0), old.key_id).status()); },
                      absl::Seconds(20), absl::Milliseconds(50)));
  bytes = DirBytes(dir);
  EXPECT_EQ(bytes.find(wrapped), std::string::npos);
  EXPECT_EQ(bytes.find(wrapped_old), std::string::npos);
  // Only those: the other workers' keys are still there and open.
  EXPECT_NE(bytes.find(wrapped_kept), std::string::npos);
  EXPECT_TRUE(payout->KeyForOpening(Worker(1), kept_id).ok());

  // Erased through this ring itself: gone at once.
  const DataKey third = payout->KeyForSealing(Worker(2)).value();
  const std::string wrapped_third = WrappedKeyInTopic(third.key_id);
  ASSERT_NE(DirBytes(dir).find(wrapped_third), std::string::npos);
  ASSERT_EQ(payout->Erase(Worker(2), "operations:test").value(), 1);
  EXPECT_EQ(DirBytes(dir).find(wrapped_third), std::string::npos);
  EXPECT_TRUE(IsErased(payout->KeyForOpening(Worker(2), third.key_id).status()));
}

TEST_F(KafkaKeyRingTest, EvictedClearKeysOpenAgain) {
  auto ring = Ring("claims", CacheDir("claims"), /*unwrapped_keys=*/2);
  ASSERT_NE(ring, nullptr);
  std::vector<v1::SealedPersonalData> sealed;
  for (int i = 0; i < 6; ++i) {
    sealed.push_back(SealField(*ring, Worker(i), kFieldPhone, absl::StrCat("1390013900", i)).value());
  }
  EXPECT_LE(ring->unwrapped().size(), 2u);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(OpenField(*ring, Worker(i), kFieldPhone, sealed[i]).value(),
                absl::StrCat("1390013900", i));
    }
  }
  EXPECT_LE(ring->unwrapped().size(), 2u);
  EXPECT_GE(ring->unwrapped().misses(), 12);  // every open after eviction went to the cache
  // The two most recent stay: opening them again hits.
  const int64_t hits = ring->unwrapped().hits();
  EXPECT_EQ(OpenField(*ring, Worker(5), kFieldPhone, sealed[5]).value(), "13900139005");
  EXPECT_EQ(ring->unwrapped().hits(), hits + 1);
  // An erased key leaves the clear keys at once.
  ASSERT_EQ(ring->Erase(Worker(5), "operations:test").value(), 1);
  EXPECT_TRUE(IsErased(OpenField(*ring, Worker(5), kFieldPhone, sealed[5]).status()));
  EXPECT_EQ(ring->records_read(), 0);  // its own records were never read back
}

TEST_F(KafkaKeyRingTest, CorruptOrMissingCacheIsRebuiltFromTheTopic) {
  const std::string dir = CacheDir("notification");
  std::vector<v1::SealedPersonalData> sealed;
  {
    auto ring = Ring("notification", dir);
    ASSERT_NE(ring, nullptr);
    for (int i = 0; i < 4; ++i) {
      sealed.push_back(SealField(*ring, Worker(i), kFieldPhone, absl::StrCat("1370013700", i)).value());
    }
    ASSERT_EQ(ring->Erase(Worker(3), "operations:test").value(), 1);
  }
  auto check = [&](KafkaKeyRing& ring) {
    EXPECT_TRUE(ring.cache_rebuilt());
    EXPECT_EQ(ring.records_read(), 5);  // the whole topic: 4 keys, 1 marker
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(OpenField(ring, Worker(i), kFieldPhone, sealed[i]).value(),
                absl::StrCat("1370013700", i));
    }
    EXPECT_TRUE(IsErased(OpenField(ring, Worker(3), kFieldPhone, sealed[3]).status()));
  };
  // Every file of the cache overwritten with garbage.
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    const auto size = std::filesystem::file_size(f.path());
    std::ofstream out(f.path(), std::ios::binary | std::ios::trunc);
    out << std::string(std::max<size_t>(size, 16), '\x5a');
  }
  {
    auto ring = Ring("notification", dir);
    ASSERT_NE(ring, nullptr);
    check(*ring);
  }
  // The directory gone.
  std::filesystem::remove_all(dir);
  {
    auto ring = Ring("notification", dir);
    ASSERT_NE(ring, nullptr);
    check(*ring);
  }
  // A cache of another topic (another deployment prefix) is not taken for this one.
  const std::string mine = topic_;
  topic_ = absl::StrCat(mine, ".other");
  {
    auto other = Ring("notification", dir);
    ASSERT_NE(other, nullptr);
    EXPECT_TRUE(other->cache_rebuilt());
    EXPECT_EQ(other->size(), 0u);
  }
  auto admin = kafka::Admin::Create(client_);
  if (admin.ok()) (void)(*admin)->DeleteTopics({topic_});
  topic_ = mine;
  auto ring = Ring("notification", dir);
  ASSERT_NE(ring, nullptr);
  check(*ring);
}

// An edge about to seal a group of records makes their new workers' keys in
// one go: one record per new worker (an existing key and a repeated worker
// make none), each durable and usable at once, and KeyForSealing then appends
// nothing more; another service's ring opens what they seal.
TEST_F(KafkaKeyRingTest, PrepareKeysMakesTheNewWorkersKeysTogether) {
  auto edge = Ring("enrollment");
  auto other = Ring("notification");
  ASSERT_NE(edge, nullptr);
  ASSERT_NE(other, nullptr);
  const absl::StatusOr<DataKey> existing = edge->KeyForSealing(Worker(0));
  ASSERT_TRUE(existing.ok()) << existing.status();
  std::vector<std::string> group = {Worker(0)};
  for (int i = 1; i <= 50; ++i) group.push_back(Worker(i));
  group.push_back(Worker(7));  // twice in one upload
  ASSERT_TRUE(edge->PrepareKeys(group).ok());
  auto records = [&] {
    int n = 0;
    auto reader = kafka::PartitionReader::Open(client_, topic_, 0, 0).value();
    while (true) {
      auto m = reader->Next();
      if (!m.ok() || !m->has_value()) break;
      ++n;
    }
    return n;
  };
  EXPECT_EQ(records(), 51);  // Worker(0)'s, then 50 new ones
  EXPECT_EQ(edge->KeyForSealing(Worker(0)).value().key_id, existing->key_id);
  for (int i = 1; i <= 50; ++i) {
    const v1::SealedPersonalData sealed =
        SealField(*edge, Worker(i), kFieldPhone, absl::StrCat("139", 10000000 + i)).value();
    EXPECT_EQ(OpenField(*other, Worker(i), kFieldPhone, sealed).value(),
              absl::StrCat("139", 10000000 + i));
  }
  EXPECT_EQ(records(), 51);  // sealing found the prepared keys: nothing more appended
  ASSERT_TRUE(edge->PrepareKeys(group).ok());  // all known now: nothing to make
  EXPECT_EQ(records(), 51);
}

}  // namespace
}  // namespace mutualaid::crypto

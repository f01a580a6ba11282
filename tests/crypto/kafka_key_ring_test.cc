// The key ring over the real broker (label kafka): two services' rings share
// keys through the compacted topic; erasure in one reaches the other; a ring
// started afterwards knows the key was erased; the topic never holds a clear
// data key.
#include "mutualaid/crypto/kafka_key_ring.h"

#include <unistd.h>

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
  std::unique_ptr<KafkaKeyRing> Ring(const std::string& creator) {
    KafkaKeyRingOptions o;
    o.client = client_;
    o.topic = topic_;
    o.creator = creator;
    o.refresh_interval = absl::Milliseconds(100);
    auto ring = KafkaKeyRing::Create(ParseMasterKey(master_hex_, "test").value(), o);
    EXPECT_TRUE(ring.ok()) << ring.status();
    return ring.ok() ? *std::move(ring) : nullptr;
  }

  kafka::ClientConfig client_;
  std::string topic_;
  std::string master_hex_;
};

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

}  // namespace
}  // namespace mutualaid::crypto

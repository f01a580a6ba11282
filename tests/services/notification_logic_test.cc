// The notification logic in process (no broker): a worker's phone sealed in
// the queued message and in state, opened only when the outbox sends it; a
// worker erased before the send fails with RECIPIENT_DATA_ERASED (nothing sent,
// no retry); a message with no known phone ends FAILED with NO_CONTACT_PHONE
// and never waits in the outbox; a platform's contact stays in clear; Decide
// seals to the same bytes when asked twice. Real RocksDB, MemoryKeyRing.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/state.h"
#include "mutualaid/store/state_store.h"
#include "services/notification/notification_logic.h"

namespace mutualaid::notification {
namespace {

constexpr char kPhone[] = "13800000077";
constexpr char kPlatformPhone[] = "13900000001";
constexpr char kSecret[] = "a-unit-test-deployment-secret-of-48-bytes-012345";

// Records what the outbox hands the gateway.
class RecordingGateway final : public SmsGateway {
 public:
  struct Sent {
    std::string id, phone, text;
  };
  GatewayReport Submit(const std::string& id, const std::string& phone, const std::string& text,
                       const std::string&) override {
    sent.push_back({id, phone, text});
    GatewayReport g;
    g.outcome = GatewayReport::Outcome::kAccepted;
    g.gateway_id = absl::StrCat("gw-", sent.size());
    return g;
  }
  GatewayReport Query(const std::string&) override {
    GatewayReport g;
    g.outcome = GatewayReport::Outcome::kNotFound;
    return g;
  }
  std::vector<Sent> sent;
};

class NotificationLogicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (std::filesystem::temp_directory_path() / "notification-logic-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
    auto master = crypto::ParseMasterKey(crypto::NewMasterKeyHex(), "test");
    ASSERT_TRUE(master.ok()) << master.status();
    ring_ = std::make_unique<crypto::MemoryKeyRing>(*std::move(master));
    auto keyer = WorkerKeyer::Create(kSecret);
    ASSERT_TRUE(keyer.ok());
    keyer_ = std::make_unique<WorkerKeyer>(*std::move(keyer));
    LogicOptions o;
    o.policy.quiet_hours = false;
    o.policy.rate_per_second = 0;  // no pacing in a unit test
    logic_ = std::make_unique<NotificationLogic>(o, &gateway_);
    logic_->SetKeyRing(ring_.get());
    logic_->SetKeyer(keyer_.get());
    store::StateStore::Options so;
    so.column_families = logic_->ColumnFamilies();
    so.block_cache_bytes = size_t{1} << 20;
    so.write_buffer_bytes = size_t{1} << 20;
    auto opened = store::StateStore::Open(dir_ + "/store", so);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    state_ = std::make_unique<processor::State>(*store_);
    worker_key_ = keyer_->KeyFor("110101199001011234");
  }
  void TearDown() override {
    state_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static absl::Time At() { return ShanghaiTime(absl::CivilDay(2022, 6, 1), 10); }

  v1::Envelope Event(const std::string& id, const std::string& worker_key) {
    events::EnvelopeHeader h;
    h.event_id = id;
    h.worker_key = worker_key;
    h.occurred_on = ShanghaiDay(At());
    h.recorded_at = At();
    h.causation_id = id;
    h.producer = "test";
    return events::NewEnvelope(h);
  }
  static kafka::Message AsMessage(const std::string& topic, const v1::Envelope& e) {
    kafka::Message m;
    m.topic = topic;
    m.key = e.worker_key();
    m.value = e.SerializeAsString();
    m.partition = 0;
    return m;
  }
  // Applies an input event (contacts, platforms) to the state.
  void ApplyInput(const std::string& topic, const v1::Envelope& e) {
    ASSERT_TRUE(logic_->Apply(*state_, AsMessage(topic, e)).ok());
  }
  // Decides `e`, applies what it made; returns the events.
  std::vector<v1::Envelope> DecideAndApply(const std::string& topic, const v1::Envelope& e,
                                           absl::Status* status = nullptr) {
    std::vector<kafka::Record> out;
    absl::Status s = logic_->Decide(*state_, AsMessage(topic, e), &out);
    if (status != nullptr) *status = s;
    else EXPECT_TRUE(s.ok()) << s;
    return ApplyOwn(out);
  }
  std::vector<v1::Envelope> ApplyOwn(const std::vector<kafka::Record>& out) {
    std::vector<v1::Envelope> events;
    for (const kafka::Record& r : out) {
      kafka::Message m;
      m.topic = std::string(kafka::kNotificationEvents);
      m.key = r.key;
      m.value = r.value;
      m.partition = 0;
      EXPECT_TRUE(logic_->Apply(*state_, m).ok());
      v1::Envelope e;
      EXPECT_TRUE(e.ParseFromString(r.value));
      events.push_back(std::move(e));
    }
    return events;
  }
  std::vector<v1::Envelope> Tick() {
    std::vector<kafka::Record> out;
    absl::Status s = logic_->Tick(*state_, 0, At() + absl::Minutes(1), &out);
    EXPECT_TRUE(s.ok()) << s;
    return ApplyOwn(out);
  }
  v1::SmsRecord Record(const std::string& message_id) {
    auto raw = state_->Get(kMessages, message_id);
    EXPECT_TRUE(raw.ok() && raw->has_value()) << message_id;
    v1::SmsRecord r;
    if (raw.ok() && raw->has_value()) {
      EXPECT_TRUE(r.ParseFromString(**raw));
    }
    return r;
  }
  int OutboxSize() {
    int n = 0;
    EXPECT_TRUE(state_->ScanPrefix(kOutbox, "", [&](absl::string_view, absl::string_view) {
      ++n;
      return true;
    }).ok());
    return n;
  }
  // Every value of every column family, concatenated (to look for a clear phone).
  std::string AllState() {
    std::string all;
    for (const std::string& cf : logic_->ColumnFamilies()) {
      EXPECT_TRUE(state_->ScanPrefix(cf, "", [&](absl::string_view k, absl::string_view v) {
        absl::StrAppend(&all, k, "=", v, "\n");
        return true;
      }).ok());
    }
    return all;
  }

  // EnrollmentAccepted with the person sealed, as the enrollment service makes it.
  v1::Envelope Accepted(const std::string& id) {
    v1::Envelope env = Event(id, worker_key_);
    v1::Enrollment* e = env.mutable_enrollment_accepted()->mutable_enrollment();
    e->set_enrollment_id("E2022-1");
    e->set_platform_id("P01");
    e->set_worker_key(worker_key_);
    e->set_plan_year(2022);
    *e->mutable_coverage_start() = events::ToProto(absl::CivilDay(2022, 7, 1));
    *e->mutable_coverage_end() = events::ToProto(absl::CivilDay(2023, 3, 31));
    v1::PersonalData p;
    p.set_name("张三丰");
    p.set_id_number("110101199001011234");
    p.set_phone(kPhone);
    auto sealed = crypto::SealPerson(*ring_, worker_key_, p);
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    if (sealed.ok()) *e->mutable_sealed_person() = *sealed;
    return env;
  }
  v1::Envelope Denied(const std::string& id, const std::string& worker_key,
                      v1::Benefit benefit = v1::BENEFIT_HOSPITAL_ALLOWANCE) {
    v1::Envelope env = Event(id, worker_key);
    v1::ClaimDecision* c = env.mutable_claim_decided()->mutable_claim();
    c->set_claim_id(absl::StrCat("C-", id));
    c->set_status(v1::CLAIM_STATUS_DENIED);
    c->set_benefit(benefit);
    c->set_platform_id("P01");
    c->mutable_decision()->add_reasons(v1::REASON_CODE_WAITING_PERIOD);
    return env;
  }

  std::string dir_;
  std::unique_ptr<crypto::MemoryKeyRing> ring_;
  std::unique_ptr<WorkerKeyer> keyer_;
  RecordingGateway gateway_;
  std::unique_ptr<NotificationLogic> logic_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<processor::State> state_;
  std::string worker_key_;
};

TEST_F(NotificationLogicTest, SealedPhoneOpensWithOpenFieldAndIsTheSameWhenSealedTwice) {
  auto a = SealPhone(*ring_, worker_key_, "ev-1:COVER_STARTED", kPhone);
  auto b = SealPhone(*ring_, worker_key_, "ev-1:COVER_STARTED", kPhone);
  auto c = SealPhone(*ring_, worker_key_, "ev-2:COVER_STARTED", kPhone);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
  EXPECT_NE(a->nonce(), c->nonce());
  EXPECT_EQ(a->ciphertext().find(kPhone), std::string::npos);
  auto opened = crypto::OpenField(*ring_, worker_key_, crypto::kFieldPhone, *a);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPhone);
  // Bound to its worker and field like every sealed field.
  EXPECT_FALSE(crypto::OpenField(*ring_, worker_key_, crypto::kFieldPerson, *a).ok());
  EXPECT_FALSE(crypto::OpenField(*ring_, keyer_->KeyFor("110101199001015678"), crypto::kFieldPhone, *a).ok());
}

TEST_F(NotificationLogicTest, AWorkersPhoneIsSealedUntilTheOutboxSendsIt) {
  const v1::Envelope acc = Accepted("acc-1");
  ApplyInput(std::string(kafka::kEnrollmentEvents), acc);
  // Decided twice (an aborted transaction is decided again): the same bytes.
  std::vector<kafka::Record> first, second;
  ASSERT_TRUE(logic_->Decide(*state_, AsMessage(std::string(kafka::kEnrollmentEvents), acc), &first).ok());
  ASSERT_TRUE(logic_->Decide(*state_, AsMessage(std::string(kafka::kEnrollmentEvents), acc), &second).ok());
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].value, second[0].value);

  std::vector<v1::Envelope> queued = ApplyOwn(first);
  ASSERT_EQ(queued.size(), 1u);
  ASSERT_TRUE(queued[0].has_sms_queued());
  const v1::SmsQueued& q = queued[0].sms_queued();
  EXPECT_TRUE(q.phone().empty());
  EXPECT_TRUE(q.message().has_sealed_phone());
  EXPECT_EQ(q.message().phone_masked(), "138****0077");
  EXPECT_EQ(q.phone_key(), keyer_->KeyFor(absl::StrCat("phone:", kPhone)));
  EXPECT_EQ(q.message().status(), v1::SMS_STATUS_QUEUED);
  EXPECT_EQ(first[0].value.find(kPhone), std::string::npos) << "clear phone in the event";

  const std::string id = q.message().message_id();
  EXPECT_TRUE(Record(id).phone().empty());
  EXPECT_EQ(OutboxSize(), 1);

  std::vector<v1::Envelope> sent = Tick();
  ASSERT_EQ(gateway_.sent.size(), 1u);
  EXPECT_EQ(gateway_.sent[0].phone, kPhone);  // opened for the gateway only
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].has_sms_sent());
  EXPECT_EQ(Record(id).message().status(), v1::SMS_STATUS_SENT);
  // Nothing in the state holds the phone in clear (the daily cap counts
  // under the phone key).
  EXPECT_EQ(AllState().find(kPhone), std::string::npos);
  EXPECT_NE(AllState().find(q.phone_key()), std::string::npos);
}

TEST_F(NotificationLogicTest, AWorkerErasedBeforeTheSendFailsWithTheReasonAndIsNotSent) {
  ApplyInput(std::string(kafka::kEnrollmentEvents), Accepted("acc-1"));
  std::vector<v1::Envelope> queued =
      DecideAndApply(std::string(kafka::kEnrollmentEvents), Accepted("acc-1"));
  ASSERT_EQ(queued.size(), 1u);
  const std::string id = queued[0].sms_queued().message().message_id();
  ASSERT_TRUE(ring_->Erase(worker_key_, "operations:test").ok());

  std::vector<v1::Envelope> failed = Tick();
  EXPECT_TRUE(gateway_.sent.empty()) << gateway_.sent[0].phone;
  ASSERT_EQ(failed.size(), 1u);
  ASSERT_TRUE(failed[0].has_sms_failed());
  EXPECT_EQ(failed[0].sms_failed().reason(), NotificationLogic::kRecipientDataErased);
  EXPECT_FALSE(failed[0].sms_failed().retriable());
  const v1::SmsRecord r = Record(id);
  EXPECT_EQ(r.message().status(), v1::SMS_STATUS_FAILED);
  EXPECT_EQ(r.message().failure_reason(), NotificationLogic::kRecipientDataErased);
  EXPECT_EQ(OutboxSize(), 0);
  EXPECT_TRUE(Tick().empty());  // final: no retry
  EXPECT_TRUE(gateway_.sent.empty());

  // An operator's resend is refused with the reason; a new event for the
  // erased worker fails at once.
  v1::SmsCommand resend;
  resend.set_request_id("r1");
  resend.set_worker_key(worker_key_);
  resend.mutable_resend()->set_message_id(id);
  kafka::Message m;
  m.topic = LogicOptions().requests_topic;
  m.key = worker_key_;
  m.value = resend.SerializeAsString();
  std::vector<kafka::Record> out;
  absl::Status s = logic_->Decide(*state_, m, &out);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("message_id:"), std::string::npos) << s;
  EXPECT_NE(s.message().find(NotificationLogic::kRecipientDataErased), std::string::npos) << s;
  EXPECT_TRUE(out.empty());

  std::vector<v1::Envelope> denied =
      DecideAndApply(std::string(kafka::kClaimsEvents), Denied("deny-1", worker_key_));
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].sms_queued().message().status(), v1::SMS_STATUS_FAILED);
  EXPECT_EQ(denied[0].sms_queued().message().failure_reason(), NotificationLogic::kRecipientDataErased);
  EXPECT_EQ(OutboxSize(), 0);
}

TEST_F(NotificationLogicTest, AClaimantWithNoKnownPhoneEndsFailedNotQueued) {
  // A claimant no platform enrolled: no contact at all.
  const std::string stranger = keyer_->KeyFor("110101198501015555");
  std::vector<v1::Envelope> denied =
      DecideAndApply(std::string(kafka::kClaimsEvents), Denied("deny-9", stranger));
  ASSERT_EQ(denied.size(), 1u);
  const v1::SmsQueued& q = denied[0].sms_queued();
  EXPECT_EQ(q.message().status(), v1::SMS_STATUS_FAILED);
  EXPECT_EQ(q.message().failure_reason(), NotificationLogic::kNoContactPhone);
  EXPECT_TRUE(q.phone().empty());
  EXPECT_FALSE(q.message().has_sealed_phone());
  const v1::SmsRecord r = Record(q.message().message_id());
  EXPECT_EQ(r.message().status(), v1::SMS_STATUS_FAILED);
  EXPECT_EQ(r.message().failure_reason(), NotificationLogic::kNoContactPhone);
  EXPECT_EQ(OutboxSize(), 0);
  EXPECT_TRUE(Tick().empty());
  EXPECT_TRUE(gateway_.sent.empty());

  // A queued message with neither phone (an older or foreign event) is failed
  // by the outbox instead of being sent to an empty number or kept forever.
  v1::Envelope odd = Event("odd-1/queued", stranger);
  v1::SmsMessage* m = odd.mutable_sms_queued()->mutable_message();
  m->set_message_id("odd-1:CLAIM_DENIED");
  m->set_worker_key(stranger);
  m->set_status(v1::SMS_STATUS_QUEUED);
  m->set_text("text");
  odd.mutable_sms_queued()->set_gateway_message_id("odd-1:CLAIM_DENIED");
  ApplyInput(std::string(kafka::kNotificationEvents), odd);
  EXPECT_EQ(OutboxSize(), 1);
  std::vector<v1::Envelope> failed = Tick();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].sms_failed().reason(), NotificationLogic::kNoContactPhone);
  EXPECT_FALSE(failed[0].sms_failed().retriable());
  EXPECT_EQ(OutboxSize(), 0);
  EXPECT_TRUE(gateway_.sent.empty());
}

TEST_F(NotificationLogicTest, APlatformsContactPhoneStaysInClear) {
  ApplyInput(std::string(kafka::kEnrollmentEvents), Accepted("acc-1"));
  v1::Envelope reg = Event("platform-P01", "platform:P01");
  v1::Platform* p = reg.mutable_platform_registered()->mutable_platform();
  p->set_platform_id("P01");
  p->set_contact_phone(kPlatformPhone);
  ApplyInput(std::string(kafka::kEnrollmentEvents), reg);
  std::vector<v1::Envelope> denied = DecideAndApply(
      std::string(kafka::kClaimsEvents), Denied("deny-d", worker_key_, v1::BENEFIT_ILLNESS_DEATH));
  ASSERT_EQ(denied.size(), 1u);
  const v1::SmsQueued& q = denied[0].sms_queued();
  EXPECT_EQ(q.phone(), kPlatformPhone);
  EXPECT_FALSE(q.message().has_sealed_phone());
  EXPECT_EQ(q.platform_id(), "P01");
  Tick();
  ASSERT_EQ(gateway_.sent.size(), 1u);
  EXPECT_EQ(gateway_.sent[0].phone, kPlatformPhone);
}

}  // namespace
}  // namespace mutualaid::notification

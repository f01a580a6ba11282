// The notification service against the real broker and a real fakesms on
// loopback (label kafka): one SMS per event and template with the plan's
// texts, quiet hours on the simulated clock, the per-number daily cap, the
// gateway rate, an operator's resend of a failed message, and exactly one
// message per event and template through gateway faults, gateway crashes and
// SIGKILLs of the service at random (seeded) instants.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../gateways/fake_process.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/kafka_key_ring.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "mutualaid/v1/notification.grpc.pb.h"
#include "service_harness.h"
#include "services/notification/sms_templates.h"

namespace mutualaid {
namespace {

using testing::Call;
using testing::IdNumber;

constexpr char kSecret[] = "a-test-deployment-secret-of-48-bytes-0123456789";  // the harness's
constexpr char kSignature[] = "【上海市职工保障互助会】";

// Unicode code points, counted independently of the service's code.
int64_t Chars(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The longest run of ASCII digits: an ID number would be 15-18 of them.
size_t LongestDigitRun(const std::string& s) {
  size_t best = 0, run = 0;
  for (char c : s) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

// Every rule a rendered text must keep.
void ExpectTemplateRules(const std::string& text, const std::string& name, int32_t segments) {
  SCOPED_TRACE(text);
  EXPECT_EQ(text.rfind(kSignature, 0), 0u) << "no signature";
  EXPECT_LT(LongestDigitRun(text), 15u) << "looks like an ID number";
  if (!name.empty()) {
    EXPECT_EQ(text.find(name), std::string::npos) << "name in clear";
    EXPECT_NE(text.find(MaskName(name)), std::string::npos) << "masked name missing";
  }
  const int64_t chars = Chars(text);
  EXPECT_EQ(segments, chars <= 70 ? 1 : (chars + 66) / 67) << chars << " characters";
}

// ---------------------------------------------------------------------------
// The templates alone (no broker needed).

TEST(SmsTemplatesTest, YuanFromFenIsExactAndSegmentsCountCodePoints) {
  EXPECT_EQ(notification::YuanFromFen(0), "0.00");
  EXPECT_EQ(notification::YuanFromFen(1), "0.01");
  EXPECT_EQ(notification::YuanFromFen(150000), "1500.00");
  EXPECT_EQ(notification::YuanFromFen(2000000), "20000.00");
  EXPECT_EQ(notification::YuanFromFen(15000000), "150000.00");
  EXPECT_EQ(notification::YuanFromFen(3999950), "39999.50");
  EXPECT_EQ(notification::Segments(std::string(70, 'a')), 1);
  EXPECT_EQ(notification::Segments(std::string(71, 'a')), 2);
  EXPECT_EQ(notification::Segments(std::string(134, 'a')), 2);
  EXPECT_EQ(notification::Segments(std::string(135, 'a')), 3);
  std::string seventy_han;
  for (int i = 0; i < 70; ++i) seventy_han += "保";
  EXPECT_EQ(notification::Segments(seventy_han), 1);  // 210 bytes, 70 characters
  EXPECT_EQ(notification::Segments(seventy_han + "障"), 2);
}

TEST(SmsTemplatesTest, EveryTemplateKeepsTheRules) {
  const v1::Date start = events::ToProto(absl::CivilDay(2022, 6, 1));
  const v1::Date end = events::ToProto(absl::CivilDay(2023, 3, 31));
  const std::string cover = notification::RenderCoverStarted({"张三丰", 2022, start, end});
  notification::PayoutConfirmed paid{"李四", v1::BENEFIT_HOSPITAL_ALLOWANCE, 150000,
                                     v1::PAYEE_KIND_WORKER_CARD, "1234"};
  const std::string payout = notification::RenderPayoutConfirmed(paid);
  notification::PayoutConfirmed death{"王五", v1::BENEFIT_ILLNESS_DEATH, 2000000,
                                      v1::PAYEE_KIND_PLATFORM_ACCOUNT, ""};
  const std::string death_text = notification::RenderPayoutConfirmed(death);
  notification::ClaimDenied denied{"赵六",
                                   v1::BENEFIT_CRITICAL_ILLNESS,
                                   {v1::REASON_CODE_WAITING_PERIOD, v1::REASON_CODE_NOT_FIRST_DIAGNOSIS},
                                   false};
  const std::string denied_text = notification::RenderClaimDenied(denied);
  for (const auto& [text, name] : std::vector<std::pair<std::string, std::string>>{
           {cover, "张三丰"}, {payout, "李四"}, {death_text, "王五"}, {denied_text, "赵六"}}) {
    ExpectTemplateRules(text, name, notification::Segments(text));
    std::printf("%s (%lld chars, %d segments)\n", text.c_str(), static_cast<long long>(Chars(text)),
                notification::Segments(text));
  }
  EXPECT_NE(cover.find("2022年6月1日至2023年3月31日"), std::string::npos);
  EXPECT_NE(payout.find("住院补助金1500.00元"), std::string::npos);
  EXPECT_NE(payout.find("尾号1234"), std::string::npos);
  EXPECT_NE(death_text.find("疾病身故保障金20000.00元"), std::string::npos);
  EXPECT_NE(death_text.find("平台账户"), std::string::npos);
  EXPECT_NE(denied_text.find("免责期"), std::string::npos);
  EXPECT_NE(denied_text.find("首次确诊"), std::string::npos);
}

// ---------------------------------------------------------------------------
// The service as a process.

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

struct Worker {
  std::string id_number;
  std::string key;
  std::string name;
  std::string phone;
};

class NotificationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keyer = WorkerKeyer::Create(kSecret);
    ASSERT_TRUE(keyer.ok());
    keyer_.emplace(*std::move(keyer));
    gateway_port_ = FreePort();
    ASSERT_GT(gateway_port_, 0);
  }
  void TearDown() override {
    if (svc_ != nullptr && HasFailure()) std::fprintf(stderr, "service log:\n%s\n", svc_->Log().c_str());
    producer_.reset();
    svc_.reset();
    gateway_.reset();
    unsetenv("MUTUALAID_CLOCK");
  }

  // The service's config: these defaults, then `overrides`. With `beside`,
  // on that service's topics (the real enrollment service, say).
  void MakeService(std::map<std::string, std::string> overrides = {},
                   const testing::ServiceProcess* beside = nullptr) {
    std::map<std::string, std::string> conf = {
        {"sms.gateway_url", absl::StrCat("http://127.0.0.1:", gateway_port_)},
        {"sms.gateway_timeout", "1s"},
        {"sms.tick_interval", "100ms"},
        {"sms.retry_initial", "200ms"},
        {"sms.retry_max", "2s"},
        {"sms.rate", "50"},
        {"sms.daily_cap", "10"},
        {"clock.start", "2022-06-01"},
    };
    for (auto& [k, v] : overrides) conf[k] = v;
    std::string extra;
    for (const auto& [k, v] : conf) absl::StrAppend(&extra, k, " = ", v, "\n");
    svc_ = beside == nullptr
               ? std::make_unique<testing::ServiceProcess>(NOTIFICATION_BINARY, "notification", extra)
               : std::make_unique<testing::ServiceProcess>(NOTIFICATION_BINARY, "notification",
                                                           *beside, extra);
  }
  void StartService() {
    ASSERT_NO_FATAL_FAILURE(svc_->Start());
    stub_ = v1::NotificationService::NewStub(svc_->channel());
    admin_ = v1::AdminService::NewStub(svc_->channel());
    if (producer_ == nullptr) {
      kafka::ProducerOptions po;
      po.client.bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
      auto p = kafka::Producer::Create(po);
      ASSERT_TRUE(p.ok()) << p.status();
      producer_ = *std::move(p);
    }
  }
  void StartGateway(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--port", absl::StrCat(gateway_port_), "--log",
                                     (svc_->dir() / "sms.jsonl").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    gateway_.reset();
    // The port may linger for a moment after a crash of the previous fake.
    for (int i = 0; i < 50; ++i) {
      gateway_ = std::make_unique<testing::FakeProcess>(FAKESMS_BINARY, args);
      if (gateway_->started()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(gateway_->started());
  }

  Worker NewWorker(int serial, const std::string& name, const std::string& phone) {
    Worker w;
    w.id_number = IdNumber("19900101", serial);
    w.key = keyer_->KeyFor(w.id_number);
    w.name = name;
    w.phone = phone;
    return w;
  }

  v1::Envelope Event(const std::string& id, const std::string& worker_key,
                     absl::Time at = ShanghaiTime(absl::CivilDay(2022, 6, 1), 10)) {
    events::EnvelopeHeader h;
    h.event_id = id;
    h.worker_key = worker_key;
    h.occurred_on = ShanghaiDay(at);
    h.recorded_at = at;
    h.causation_id = id;
    h.producer = "test";
    return events::NewEnvelope(h);
  }
  void Produce(absl::string_view topic, v1::Envelope env, int32_t partition = kafka::kAnyPartition) {
    kafka::Record r = events::ToRecord(svc_->prefix() + std::string(topic), std::move(env));
    r.partition = partition;
    auto a = producer_->Append(r);
    ASSERT_TRUE(a.ok()) << a.status();
  }

  v1::Enrollment EnrollmentOf(const Worker& w, v1::EnrollmentStatus status) {
    v1::Enrollment e;
    e.set_enrollment_id(absl::StrCat("E2022-", w.key.substr(0, 24)));
    e.set_platform_id("P01");
    e.mutable_person()->set_name(w.name);
    e.mutable_person()->set_id_number(w.id_number);
    e.mutable_person()->set_phone(w.phone);
    e.set_plan_year(2022);
    e.set_kind(v1::ENROLLMENT_KIND_INSTANT);
    *e.mutable_coverage_start() = events::ToProto(absl::CivilDay(2022, 7, 1));
    *e.mutable_coverage_end() = events::ToProto(absl::CivilDay(2023, 3, 31));
    e.set_status(status);
    return e;
  }
  // EnrollmentAccepted for `w`; its event id.
  std::string Accept(const Worker& w, const std::string& id,
                     absl::Time at = ShanghaiTime(absl::CivilDay(2022, 6, 1), 10)) {
    v1::Envelope env = Event(id, w.key, at);
    *env.mutable_enrollment_accepted()->mutable_enrollment() =
        EnrollmentOf(w, v1::ENROLLMENT_STATUS_ACCEPTED);
    env.mutable_enrollment_accepted()->set_approved_by("auto");
    Produce(kafka::kEnrollmentEvents, env);
    return id;
  }
  std::string Deny(const Worker& w, const std::string& id, v1::Benefit benefit,
                   std::vector<v1::ReasonCode> reasons,
                   absl::Time at = ShanghaiTime(absl::CivilDay(2022, 6, 1), 10)) {
    v1::Envelope env = Event(id, w.key, at);
    v1::ClaimDecision* c = env.mutable_claim_decided()->mutable_claim();
    c->set_claim_id(absl::StrCat("C-", id));
    c->set_status(v1::CLAIM_STATUS_DENIED);
    c->set_benefit(benefit);
    c->set_platform_id("P01");
    for (v1::ReasonCode r : reasons) c->mutable_decision()->add_reasons(r);
    Produce(kafka::kClaimsEvents, env);
    return id;
  }
  void RegisterPlatform(const std::string& platform_id, const std::string& contact_phone) {
    for (int32_t p = 0; p < 3; ++p) {  // broadcast, as the enrollment service does
      v1::Envelope env = Event(absl::StrCat("platform-", platform_id, "-", p),
                               absl::StrCat("platform:", platform_id));
      v1::Platform* x = env.mutable_platform_registered()->mutable_platform();
      x->set_platform_id(platform_id);
      x->set_name("某外卖平台");
      x->set_payout_account("6222000000000001");
      x->set_contact_name("联系人");
      x->set_contact_phone(contact_phone);
      Produce(kafka::kEnrollmentEvents, env, p);
    }
  }

  // What the fake gateway holds, in acceptance order (empty while it is down).
  // Asked again through injected faults (--fault-queries hits this GET too).
  std::vector<json::Value> GatewayMessages() {
    for (int attempt = 0; attempt < 20; ++attempt) {
      http::Client c("127.0.0.1", gateway_port_, {.connect_timeout = absl::Seconds(1),
                                                 .timeout = absl::Seconds(5)});
      absl::StatusOr<http::Response> r = c.Get("/v1/messages");
      if (r.ok() && r->status == 200) {
        absl::StatusOr<json::Value> v = json::Parse(r->body);
        if (v.ok()) return v->items();
      }
      if (!r.ok() && r.status().code() == absl::StatusCode::kUnavailable) return {};  // down
    }
    ADD_FAILURE() << "the gateway's list never answered";
    return {};
  }
  std::map<std::string, json::Value> GatewayById() {
    std::map<std::string, json::Value> out;
    for (json::Value& m : GatewayMessages()) out[testing::Str(m, "message_id")] = m;
    return out;
  }

  // Every committed event the service wrote.
  std::vector<v1::Envelope> NotificationEvents() {
    std::vector<v1::Envelope> out;
    kafka::ClientConfig client;
    client.bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
    for (int32_t p = 0; p < 3; ++p) {
      auto reader = kafka::PartitionReader::Open(
          client, svc_->prefix() + std::string(kafka::kNotificationEvents), p, 0);
      if (!reader.ok()) {
        ADD_FAILURE() << reader.status();
        return out;
      }
      while (true) {
        auto m = (*reader)->Next();
        if (!m.ok() || !m->has_value()) break;
        v1::Envelope e;
        if (e.ParseFromString((*m)->value)) out.push_back(std::move(e));
      }
    }
    return out;
  }

  std::vector<v1::SmsMessage> List(const Worker& w, const std::string& token = testing::kHall,
                                   grpc::Status* status = nullptr) {
    v1::ListMessagesRequest req;
    req.set_id_number(w.id_number);
    v1::ListMessagesResponse resp;
    grpc::Status s = stub_->ListMessages(Call(token).get(), req, &resp);
    if (status != nullptr) *status = s;
    else EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.messages().begin(), resp.messages().end()};
  }
  void SetClock(absl::Time t, v1::AdminService::Stub* admin = nullptr) {
    v1::SetClockRequest req;
    *req.mutable_now() = events::ToProto(t);
    v1::ClockState resp;
    grpc::Status s = (admin != nullptr ? admin : admin_.get())
                         ->SetClock(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::optional<WorkerKeyer> keyer_;
  int gateway_port_ = 0;
  std::unique_ptr<testing::ServiceProcess> svc_;
  std::unique_ptr<testing::FakeProcess> gateway_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

std::string Id(const std::string& event_id, const char* tmpl) {
  return absl::StrCat(event_id, ":", tmpl);
}

TEST_F(NotificationServiceTest, EachEventGetsOneMessageWithThePlansText) {
  MakeService();
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_NO_FATAL_FAILURE(StartService());
  RegisterPlatform("P01", "13900000001");
  Worker w1 = NewWorker(1, "张三丰", "13800000001");
  Worker w2 = NewWorker(2, "李四", "13800000002");
  Worker w3 = NewWorker(3, "欧阳娜娜", "13800000003");
  Worker w4 = NewWorker(4, "王五", "13800000004");

  const std::string acc1 = Accept(w1, "acc-1");
  const std::string acc2 = Accept(w2, "acc-2");
  Accept(w1, "acc-1");  // the same event delivered twice: still one SMS
  {
    // w3 waits for review, then is approved; w4 is rejected in review.
    for (const Worker* w : {&w3, &w4}) {
      v1::Envelope pending = Event(absl::StrCat("pending-", w->name), w->key);
      *pending.mutable_enrollment_pending_review()->mutable_enrollment() =
          EnrollmentOf(*w, v1::ENROLLMENT_STATUS_PENDING_REVIEW);
      Produce(kafka::kEnrollmentEvents, pending);
    }
    v1::Envelope approved = Event("review-3", w3.key);
    *approved.mutable_enrollment_review_decided()->mutable_enrollment() =
        EnrollmentOf(w3, v1::ENROLLMENT_STATUS_ACCEPTED);
    approved.mutable_enrollment_review_decided()->set_approved(true);
    Produce(kafka::kEnrollmentEvents, approved);
    v1::Envelope rejected = Event("review-4", w4.key);
    *rejected.mutable_enrollment_review_decided()->mutable_enrollment() =
        EnrollmentOf(w4, v1::ENROLLMENT_STATUS_REJECTED);
    rejected.mutable_enrollment_review_decided()->set_approved(false);
    Produce(kafka::kEnrollmentEvents, rejected);
    v1::Envelope refused = Event("rejected-5", keyer_->KeyFor(IdNumber("19900101", 5)));
    refused.mutable_enrollment_rejected()->set_request_id("P01/r5");
    Produce(kafka::kEnrollmentEvents, refused);
  }
  {
    // Payouts: w1's hospital allowance to the card; w2's death benefit to the platform.
    v1::Envelope paid = Event("pay-1", w1.key);
    v1::Payout* p = paid.mutable_payout_confirmed()->mutable_payout();
    p->set_payout_id("PO-1");
    p->set_claim_id("C-1");
    p->set_worker_key(w1.key);
    p->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
    p->set_amount_fen(150000);
    p->set_payee(v1::PAYEE_KIND_WORKER_CARD);
    p->set_account_last4("1234");
    Produce(kafka::kPayoutEvents, paid);
    v1::Envelope death = Event("pay-2", w2.key);
    v1::Payout* d = death.mutable_payout_confirmed()->mutable_payout();
    d->set_payout_id("PO-2");
    d->set_claim_id("C-2");
    d->set_benefit(v1::BENEFIT_ILLNESS_DEATH);
    d->set_amount_fen(2000000);
    d->set_payee(v1::PAYEE_KIND_PLATFORM_ACCOUNT);
    d->set_platform_id("P01");
    Produce(kafka::kPayoutEvents, death);
    v1::Envelope sent = Event("pay-sent-1", w1.key);  // not a confirmation: ignored
    sent.mutable_payout_sent()->set_payout_id("PO-1");
    Produce(kafka::kPayoutEvents, sent);
  }
  Deny(w1, "deny-1", v1::BENEFIT_HOSPITAL_ALLOWANCE, {v1::REASON_CODE_WAITING_PERIOD});
  {
    v1::Envelope approved = Event("claim-ok-1", w1.key);  // approved: no SMS until paid
    approved.mutable_claim_decided()->mutable_claim()->set_status(v1::CLAIM_STATUS_APPROVED);
    Produce(kafka::kClaimsEvents, approved);
  }

  const std::set<std::string> expected = {
      Id("acc-1", "COVER_STARTED"),    Id("acc-2", "COVER_STARTED"),
      Id("review-3", "COVER_STARTED"), Id("pay-1", "PAYOUT_CONFIRMED"),
      Id("pay-2", "PAYOUT_CONFIRMED"), Id("deny-1", "CLAIM_DENIED")};
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() >= expected.size(); }, absl::Seconds(60)))
      << GatewayMessages().size();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // nothing more comes
  std::map<std::string, json::Value> got = GatewayById();
  std::set<std::string> ids;
  for (const auto& [id, m] : got) ids.insert(id);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(GatewayMessages().size(), expected.size());

  auto text = [&](const std::string& id) { return testing::Str(got[id], "text"); };
  auto phone = [&](const std::string& id) { return testing::Str(got[id], "phone"); };
  EXPECT_EQ(phone(Id("acc-1", "COVER_STARTED")), w1.phone);
  EXPECT_NE(text(Id("acc-1", "COVER_STARTED")).find("张*您好"), std::string::npos);
  EXPECT_NE(text(Id("acc-1", "COVER_STARTED")).find("2022年度"), std::string::npos);
  EXPECT_NE(text(Id("acc-1", "COVER_STARTED")).find("2022年7月1日至2023年3月31日"), std::string::npos);
  EXPECT_EQ(phone(Id("review-3", "COVER_STARTED")), w3.phone);
  EXPECT_NE(text(Id("pay-1", "PAYOUT_CONFIRMED")).find("住院补助金1500.00元"), std::string::npos);
  EXPECT_NE(text(Id("pay-1", "PAYOUT_CONFIRMED")).find("尾号1234"), std::string::npos);
  EXPECT_EQ(phone(Id("pay-2", "PAYOUT_CONFIRMED")), "13900000001");  // the platform's contact
  EXPECT_NE(text(Id("pay-2", "PAYOUT_CONFIRMED")).find("李*"), std::string::npos);
  EXPECT_NE(text(Id("pay-2", "PAYOUT_CONFIRMED")).find("疾病身故保障金20000.00元"), std::string::npos);
  EXPECT_NE(text(Id("pay-2", "PAYOUT_CONFIRMED")).find("平台账户"), std::string::npos);
  EXPECT_NE(text(Id("deny-1", "CLAIM_DENIED")).find("不予给付"), std::string::npos);
  EXPECT_NE(text(Id("deny-1", "CLAIM_DENIED")).find("免责期"), std::string::npos);
  const std::map<std::string, std::string> names = {
      {Id("acc-1", "COVER_STARTED"), w1.name}, {Id("acc-2", "COVER_STARTED"), w2.name},
      {Id("review-3", "COVER_STARTED"), w3.name}, {Id("pay-1", "PAYOUT_CONFIRMED"), w1.name},
      {Id("pay-2", "PAYOUT_CONFIRMED"), w2.name}, {Id("deny-1", "CLAIM_DENIED"), w1.name}};
  for (const auto& [id, name] : names) {
    ExpectTemplateRules(text(id), name, notification::Segments(text(id)));
    EXPECT_EQ(text(id).find(IdNumber("19900101", 1)), std::string::npos);
  }

  // ListMessages: the worker's messages by ID number, masked, delivered.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::vector<v1::SmsMessage> l = List(w1);
        return l.size() == 3 && std::all_of(l.begin(), l.end(), [](const v1::SmsMessage& m) {
                 return m.status() == v1::SMS_STATUS_DELIVERED;
               });
      },
      absl::Seconds(30)));
  for (const v1::SmsMessage& m : List(w1)) {
    SCOPED_TRACE(m.message_id());
    EXPECT_EQ(m.phone_masked(), "138****0001");
    EXPECT_EQ(m.worker_key(), w1.key);
    EXPECT_EQ(m.text(), text(m.message_id()));
    EXPECT_EQ(m.segments(), (Chars(m.text()) <= 70 ? 1 : (Chars(m.text()) + 66) / 67));
    EXPECT_EQ(m.text().find(w1.name), std::string::npos);
    EXPECT_EQ(m.attempts(), 1);
  }
  EXPECT_TRUE(List(w4).empty());  // rejected in review: no cover, no SMS
  grpc::Status denied;
  List(w1, testing::kFinance, &denied);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status anonymous;
  {
    v1::ListMessagesRequest req;
    req.set_id_number(w1.id_number);
    v1::ListMessagesResponse resp;
    grpc::ClientContext ctx;
    anonymous = stub_->ListMessages(&ctx, req, &resp);
  }
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The events: one SmsQueued per message, then sent and delivered.
  std::map<std::string, int> queued, delivered;
  for (const v1::Envelope& e : NotificationEvents()) {
    if (e.has_sms_queued()) ++queued[e.sms_queued().message().message_id()];
    if (e.has_sms_delivered()) ++delivered[e.sms_delivered().message_id()];
  }
  for (const std::string& id : expected) {
    EXPECT_EQ(queued[id], 1) << id;
    EXPECT_EQ(delivered[id], 1) << id;
  }
  EXPECT_EQ(queued.size(), expected.size());
}

TEST_F(NotificationServiceTest, QuietHoursHoldAnApprovalAt23UntilEight) {
  MakeService();
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_NO_FATAL_FAILURE(StartService());
  const absl::Time late = ShanghaiTime(absl::CivilDay(2022, 6, 1), 23);
  ASSERT_NO_FATAL_FAILURE(SetClock(late));
  Worker w = NewWorker(11, "陈静", "13800000011");
  v1::Envelope pending = Event("pending-11", w.key, late - absl::Hours(2));
  *pending.mutable_enrollment_pending_review()->mutable_enrollment() =
      EnrollmentOf(w, v1::ENROLLMENT_STATUS_PENDING_REVIEW);
  Produce(kafka::kEnrollmentEvents, pending);
  v1::Envelope approved = Event("review-11", w.key, late);
  *approved.mutable_enrollment_review_decided()->mutable_enrollment() =
      EnrollmentOf(w, v1::ENROLLMENT_STATUS_ACCEPTED);
  approved.mutable_enrollment_review_decided()->set_approved(true);
  Produce(kafka::kEnrollmentEvents, approved);

  const absl::Time eight = ShanghaiTime(absl::CivilDay(2022, 6, 2), 8);
  ASSERT_TRUE(WaitFor([&] { return List(w).size() == 1; }, absl::Seconds(30)));
  v1::SmsMessage held = List(w)[0];
  EXPECT_EQ(held.status(), v1::SMS_STATUS_QUEUED);
  EXPECT_EQ(events::FromProto(held.not_before()), eight);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(GatewayMessages().empty()) << "sent at 23:00";
  ASSERT_NO_FATAL_FAILURE(SetClock(ShanghaiTime(absl::CivilDay(2022, 6, 2), 3)));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_NO_FATAL_FAILURE(SetClock(eight - absl::Seconds(1)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(GatewayMessages().empty()) << "sent before 08:00";
  ASSERT_NO_FATAL_FAILURE(SetClock(eight));
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() == 1; }, absl::Seconds(30)));
  EXPECT_EQ(testing::Str(GatewayMessages()[0], "message_id"), Id("review-11", "COVER_STARTED"));
  for (const v1::Envelope& e : NotificationEvents()) {
    if (e.has_sms_sent()) {
      EXPECT_GE(events::FromProto(e.sms_sent().sent_at()), eight);
    }
  }
}

TEST_F(NotificationServiceTest, WithTheRealEnrollmentServiceAnApprovalAt23IsSentAt8) {
  testing::ServiceProcess enrollment(ENROLLMENT_BINARY, "enrollment", "clock.start = 2022-06-01");
  ASSERT_NO_FATAL_FAILURE(enrollment.Start());
  MakeService({}, &enrollment);
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_NO_FATAL_FAILURE(StartService());
  auto enroll = v1::EnrollmentService::NewStub(enrollment.channel());
  auto enroll_admin = v1::AdminService::NewStub(enrollment.channel());
  {
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id("P01");
    req.mutable_platform()->set_name("某外卖平台");
    req.mutable_platform()->set_payout_account("6222000000000001");
    req.mutable_platform()->set_contact_phone("13900000001");
    v1::RegisterPlatformResponse resp;
    grpc::Status s = enroll_admin->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message() << enrollment.Log();
  }
  Worker auto_ok = NewWorker(41, "黄小明", "13800000041");
  Worker review = NewWorker(42, "林晓", "13800000042");
  v1::SubmitEnrollmentsRequest submit;
  for (const auto& [w, industry] : {std::pair{&auto_ok, "FOOD_DELIVERY"}, std::pair{&review, "OTHER"}}) {
    v1::EnrollmentRecord* r = submit.add_records();
    r->set_platform_record_id(w->name);
    r->set_name(w->name);
    r->set_id_number(w->id_number);
    r->set_phone(w->phone);
    r->set_industry(industry);
  }
  v1::SubmitEnrollmentsResponse submitted;
  grpc::Status s = enroll->SubmitEnrollments(Call(testing::kP01).get(), submit, &submitted);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(submitted.results_size(), 2);
  EXPECT_EQ(submitted.results(1).status(), v1::ENROLLMENT_STATUS_PENDING_REVIEW);

  // The automatic approval is told at once (09:00).
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() == 1; }, absl::Seconds(60)));
  EXPECT_EQ(testing::Str(GatewayMessages()[0], "phone"), auto_ok.phone);
  EXPECT_NE(testing::Str(GatewayMessages()[0], "text").find("黄*您好"), std::string::npos);

  // The reviewer approves at 23:00: held until 08:00 the next morning.
  const absl::Time late = ShanghaiTime(absl::CivilDay(2022, 6, 1), 23);
  ASSERT_NO_FATAL_FAILURE(SetClock(late, enroll_admin.get()));
  ASSERT_NO_FATAL_FAILURE(SetClock(late));
  v1::DecideReviewRequest approve;
  approve.set_enrollment_id(submitted.results(1).enrollment_id());
  approve.set_approve(true);
  v1::DecideReviewResponse decided;
  s = enroll->DecideReview(Call(testing::kReviewer).get(), approve, &decided);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(WaitFor([&] { return List(review).size() == 1; }, absl::Seconds(30)));
  EXPECT_EQ(List(review)[0].status(), v1::SMS_STATUS_QUEUED);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(GatewayMessages().size(), 1u) << "sent in the quiet hours";
  const absl::Time eight = ShanghaiTime(absl::CivilDay(2022, 6, 2), 8);
  ASSERT_NO_FATAL_FAILURE(SetClock(eight - absl::Minutes(1)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(GatewayMessages().size(), 1u) << "sent before 08:00";
  ASSERT_NO_FATAL_FAILURE(SetClock(eight));
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() == 2; }, absl::Seconds(30)));
  const json::Value m = GatewayMessages()[1];
  EXPECT_EQ(testing::Str(m, "phone"), review.phone);
  ExpectTemplateRules(testing::Str(m, "text"), review.name,
                      notification::Segments(testing::Str(m, "text")));
  ASSERT_TRUE(WaitFor([&] { return List(review)[0].status() == v1::SMS_STATUS_DELIVERED; },
                      absl::Seconds(30)));
}

TEST_F(NotificationServiceTest, DailyCapPerNumberHoldsTheRestUntilTomorrow) {
  MakeService({{"sms.daily_cap", "3"}});
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_NO_FATAL_FAILURE(StartService());
  Worker w = NewWorker(21, "刘洋", "13800000021");
  Accept(w, "acc-21");
  // Queued in the order 3, 2, 1, 0 (their ids sort the other way).
  for (int i = 0; i < 4; ++i) {
    Deny(w, absl::StrCat("deny-21-", 3 - i), v1::BENEFIT_ACCIDENT_CONSOLATION,
         {v1::REASON_CODE_CRITERIA_NOT_MET},
         ShanghaiTime(absl::CivilDay(2022, 6, 1), 10, 1 + i));
  }
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() >= 3; }, absl::Seconds(60)));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(GatewayMessages().size(), 3u) << "past the cap of 3 a day";
  // The oldest go first.
  std::set<std::string> first_day;
  for (const json::Value& m : GatewayMessages()) first_day.insert(testing::Str(m, "message_id"));
  EXPECT_EQ(first_day, (std::set<std::string>{Id("acc-21", "COVER_STARTED"),
                                              Id("deny-21-3", "CLAIM_DENIED"),
                                              Id("deny-21-2", "CLAIM_DENIED")}));
  ASSERT_NO_FATAL_FAILURE(SetClock(ShanghaiTime(absl::CivilDay(2022, 6, 2), 9)));
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() == 5; }, absl::Seconds(60)));
  std::map<absl::CivilDay, int> per_day;
  for (const v1::Envelope& e : NotificationEvents()) {
    if (e.has_sms_sent()) ++per_day[ShanghaiDay(events::FromProto(e.sms_sent().sent_at()))];
  }
  EXPECT_EQ(per_day[absl::CivilDay(2022, 6, 1)], 3);
  EXPECT_EQ(per_day[absl::CivilDay(2022, 6, 2)], 2);
}

TEST_F(NotificationServiceTest, RateLimitIsRespected) {
  // The system clock, so the service's rate and the gateway's run on the same time.
  setenv("MUTUALAID_CLOCK", "system", 1);
  constexpr int kRate = 5, kMessages = 30;
  MakeService({{"sms.rate", absl::StrCat(kRate)}, {"sms.quiet_hours", "none"},
               {"sms.daily_cap", "0"}});
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--rate", absl::StrCat(kRate)}));
  ASSERT_NO_FATAL_FAILURE(StartService());
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kMessages; ++i) {
    Accept(NewWorker(100 + i, "孙丽", absl::StrCat("138001001", 10 + i)), absl::StrCat("acc-r", i));
  }
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() == kMessages; }, absl::Seconds(90)))
      << GatewayMessages().size();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int sent = 0, failed = 0;
  for (const v1::Envelope& e : NotificationEvents()) {
    if (e.has_sms_sent()) ++sent;
    if (e.has_sms_failed()) ++failed;
  }
  EXPECT_EQ(sent, kMessages);
  // The gateway runs the same token bucket (kRate a second, burst kRate) on
  // its own clock and refuses what exceeds it (429 RATE_LIMITED, which the
  // service records as a failed attempt): none was refused, so the service
  // never sent faster than the gateway allows. (The events' sent_at is the
  // tick's business time, shared by the sends of one tick: not a measure of
  // the spacing of sends.)
  EXPECT_EQ(failed, 0);
  // And it did not merely send slowly by luck: kMessages at kRate a second
  // after a burst of kRate cannot take less than (kMessages - kRate) / kRate
  // seconds (a lower bound; load only makes it longer).
  EXPECT_GE(took, (kMessages - kRate) / double{kRate} - 0.01);
}

TEST_F(NotificationServiceTest, AnOperatorResendsAFailedMessage) {
  MakeService();
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--fail-phones", "13800000031"}));
  ASSERT_NO_FATAL_FAILURE(StartService());
  Worker w = NewWorker(31, "周杰", "13800000031");
  Accept(w, "acc-31");
  const std::string id = Id("acc-31", "COVER_STARTED");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto l = List(w);
        return l.size() == 1 && l[0].status() == v1::SMS_STATUS_FAILED;
      },
      absl::Seconds(60)));
  EXPECT_EQ(List(w)[0].failure_reason(), "UNREACHABLE");

  v1::ResendMessageRequest req;
  req.set_message_id(id);
  v1::ResendMessageResponse resp;
  EXPECT_EQ(stub_->ResendMessage(Call(testing::kHall).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The worker's platform corrects the phone; the resend goes to the new one.
  v1::Envelope changed = Event("phone-31", w.key);
  changed.mutable_contact_phone_changed()->mutable_person()->set_phone("13800000032");
  changed.mutable_contact_phone_changed()->mutable_person()->set_name(w.name);
  Produce(kafka::kEnrollmentEvents, changed);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  grpc::Status s = stub_->ResendMessage(Call(testing::kOperations).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.message().status(), v1::SMS_STATUS_QUEUED);
  EXPECT_EQ(resp.message().phone_masked(), "138****0032");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto l = List(w);
        return l.size() == 1 && l[0].status() == v1::SMS_STATUS_DELIVERED;
      },
      absl::Seconds(60)));
  std::map<std::string, json::Value> got = GatewayById();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(testing::Str(got[id], "status"), "FAILED");
  EXPECT_EQ(testing::Str(got[id + "#r1"], "status"), "DELIVERED");
  EXPECT_EQ(testing::Str(got[id + "#r1"], "phone"), "13800000032");
  EXPECT_EQ(testing::Str(got[id + "#r1"], "text"), testing::Str(got[id], "text"));
  // Delivered now: nothing to resend. Unknown ids are not found.
  EXPECT_EQ(stub_->ResendMessage(Call(testing::kOperations).get(), req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  req.set_message_id("no-such-event:COVER_STARTED");
  EXPECT_EQ(stub_->ResendMessage(Call(testing::kOperations).get(), req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// The worker's phone is sealed in the service's events; erased while the SMS
// is held by the quiet hours, the message fails with RECIPIENT_DATA_ERASED at
// 08:00 and the gateway never sees it. A claimant no platform enrolled gets
// no message queued for sending: FAILED with NO_CONTACT_PHONE at once.
TEST_F(NotificationServiceTest, AWorkerErasedBeforeTheSendFailsWithTheReasonAndNothingIsSent) {
  MakeService();
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  ASSERT_NO_FATAL_FAILURE(StartService());
  const absl::Time late = ShanghaiTime(absl::CivilDay(2022, 6, 1), 23);
  ASSERT_NO_FATAL_FAILURE(SetClock(late));
  Worker w = NewWorker(41, "钱多多", "13800000041");
  Accept(w, "acc-41", late);
  Worker kept = NewWorker(42, "孙小美", "13800000042");
  Accept(kept, "acc-42", late);
  Worker stranger = NewWorker(43, "无名氏", "13800000043");
  Deny(stranger, "deny-43", v1::BENEFIT_HOSPITAL_ALLOWANCE, {v1::REASON_CODE_NOT_COVERED}, late);
  ASSERT_TRUE(WaitFor([&] { return List(w).size() == 1 && List(kept).size() == 1 && List(stranger).size() == 1; },
                      absl::Seconds(60)));
  EXPECT_EQ(List(w)[0].status(), v1::SMS_STATUS_QUEUED);
  EXPECT_EQ(List(w)[0].phone_masked(), "138****0041");
  EXPECT_FALSE(List(w)[0].has_sealed_phone());  // never in API answers
  const v1::SmsMessage no_phone = List(stranger)[0];
  EXPECT_EQ(no_phone.status(), v1::SMS_STATUS_FAILED);
  EXPECT_EQ(no_phone.failure_reason(), "NO_CONTACT_PHONE");

  // The events hold the worker's phone sealed only.
  for (const v1::Envelope& e : NotificationEvents()) {
    if (!e.has_sms_queued()) continue;
    EXPECT_EQ(e.SerializeAsString().find(w.phone), std::string::npos);
    EXPECT_EQ(e.SerializeAsString().find(kept.phone), std::string::npos);
    if (e.sms_queued().message().worker_key() != stranger.key) {
      EXPECT_TRUE(e.sms_queued().phone().empty());
      EXPECT_TRUE(e.sms_queued().message().has_sealed_phone());
      EXPECT_FALSE(e.sms_queued().phone_key().empty());
    }
  }

  // Erased through the keys topic, as EnrollmentService.EraseWorkerData does.
  std::ifstream master_in(svc_->dir() / "master.key");
  std::string master_hex((std::istreambuf_iterator<char>(master_in)), std::istreambuf_iterator<char>());
  auto master = crypto::ParseMasterKey(master_hex, "master.key");
  ASSERT_TRUE(master.ok()) << master.status();
  crypto::KafkaKeyRingOptions ko;
  ko.client.bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
  ko.topic = svc_->prefix() + crypto::kKeysTopic;
  ko.creator = "test";
  auto ring = crypto::KafkaKeyRing::Create(*std::move(master), ko);
  ASSERT_TRUE(ring.ok()) << ring.status();
  auto erased = (*ring)->Erase(w.key, "operations:test");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_GE(*erased, 1);

  ASSERT_NO_FATAL_FAILURE(SetClock(ShanghaiTime(absl::CivilDay(2022, 6, 2), 8)));
  ASSERT_TRUE(WaitFor([&] { return List(w)[0].status() == v1::SMS_STATUS_FAILED; }, absl::Seconds(60)))
      << List(w)[0].DebugString();
  EXPECT_EQ(List(w)[0].failure_reason(), "RECIPIENT_DATA_ERASED");
  ASSERT_TRUE(WaitFor([&] { return GatewayMessages().size() == 1; }, absl::Seconds(60)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // nothing more comes
  std::map<std::string, json::Value> got = GatewayById();
  ASSERT_EQ(got.size(), 1u);  // only the worker not erased
  EXPECT_EQ(testing::Str(got[Id("acc-42", "COVER_STARTED")], "phone"), kept.phone);
  EXPECT_EQ(List(w)[0].status(), v1::SMS_STATUS_FAILED);  // final: no retry
  int failed = 0;
  for (const v1::Envelope& e : NotificationEvents()) {
    if (e.has_sms_failed() && e.sms_failed().message_id() == Id("acc-41", "COVER_STARTED")) {
      ++failed;
      EXPECT_FALSE(e.sms_failed().retriable());
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(svc_->Log().find(w.phone), std::string::npos);
}

TEST_F(NotificationServiceTest, ExactlyOneMessagePerEventThroughGatewayFaultsCrashesAndKills) {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("NOTIFICATION_CHAOS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("chaos seed %llu (NOTIFICATION_CHAOS_SEED=%llu reruns it)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  RecordProperty("chaos_seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  // Retries and backoff run on time, so this test runs on the system clock.
  setenv("MUTUALAID_CLOCK", "system", 1);
  MakeService({{"sms.quiet_hours", "none"},
               {"sms.daily_cap", "0"},
               {"sms.max_attempts", "1000"},
               {"sms.callback_listen", "127.0.0.1:0"}});
  const std::vector<std::string> faults = {
      "--error-rate", "0.2", "--timeout-rate", "0.15", "--hang-ms", "1500",
      "--duplicate-callbacks", "--fault-queries", "--seed", absl::StrCat(seed % 100000)};
  ASSERT_NO_FATAL_FAILURE(StartGateway(faults));
  ASSERT_NO_FATAL_FAILURE(StartService());

  std::set<std::string> expected;
  int serial = 200;
  auto produce_batch = [&](int n) {
    for (int i = 0; i < n; ++i, ++serial) {
      Worker w = NewWorker(serial, "吴敏", absl::StrCat("1380020", 1000 + serial));
      expected.insert(Id(Accept(w, absl::StrCat("acc-c", serial)), "COVER_STARTED"));
      if (serial % 3 == 0) {
        expected.insert(Id(Deny(w, absl::StrCat("deny-c", serial), v1::BENEFIT_HOSPITAL_ALLOWANCE,
                                {v1::REASON_CODE_NOT_COVERED}),
                           "CLAIM_DENIED"));
      }
    }
  };

  // SIGKILL the service at random instants while events keep coming.
  constexpr int kKills = 4;
  for (int k = 0; k < kKills; ++k) {
    produce_batch(12);
    const int wait_ms = 300 + static_cast<int>(rng() % 2500);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    std::printf("kill %d of the service after %d ms\n", k + 1, wait_ms);
    svc_->Kill();
    ASSERT_NO_FATAL_FAILURE(StartService());
  }

  // The gateway crashes after carrying out a request (before answering it)
  // and comes back with its journal; the service is killed once more meanwhile.
  gateway_.reset();
  std::vector<std::string> crashing = faults;
  const int crash_after = 5 + static_cast<int>(rng() % 10);
  crashing.insert(crashing.end(), {"--crash-after", absl::StrCat(crash_after)});
  ASSERT_NO_FATAL_FAILURE(StartGateway(crashing));
  produce_batch(12);
  std::optional<int> exited;
  for (int i = 0; i < 9 && !exited.has_value(); ++i) exited = gateway_->WaitExit();  // <= 90 s
  std::printf("gateway crashed after %d requests (exit %d)\n", crash_after, exited.value_or(-999));
  EXPECT_TRUE(exited.has_value());
  svc_->Kill();
  ASSERT_NO_FATAL_FAILURE(StartGateway(faults));
  ASSERT_NO_FATAL_FAILURE(StartService());
  produce_batch(6);

  // Nothing lost: every expected message reaches the gateway and is delivered.
  auto delivered_all = [&] {
    std::set<std::string> delivered;
    for (const v1::Envelope& e : NotificationEvents()) {
      if (e.has_sms_delivered()) delivered.insert(e.sms_delivered().message_id());
    }
    return std::includes(delivered.begin(), delivered.end(), expected.begin(), expected.end());
  };
  ASSERT_TRUE(WaitFor(delivered_all, absl::Seconds(150))) << "not all delivered";

  // Exactly one message per event and template at the gateway, nothing else.
  std::map<std::string, int> at_gateway;
  for (const json::Value& m : GatewayMessages()) ++at_gateway[testing::Str(m, "message_id")];
  std::set<std::string> ids;
  for (const auto& [id, n] : at_gateway) {
    EXPECT_EQ(n, 1) << id;
    ids.insert(id);
    EXPECT_TRUE(expected.count(id)) << "unexpected " << id;
  }
  EXPECT_EQ(ids.size(), expected.size());
  // And one queueing and one delivery per message in the service's log.
  std::map<std::string, int> queued, delivered, sent;
  int retries = 0;
  for (const v1::Envelope& e : NotificationEvents()) {
    if (e.has_sms_queued()) ++queued[e.sms_queued().message().message_id()];
    if (e.has_sms_sent()) ++sent[e.sms_sent().message_id()];
    if (e.has_sms_delivered()) ++delivered[e.sms_delivered().message_id()];
    if (e.has_sms_failed() && e.sms_failed().retriable()) ++retries;
  }
  for (const std::string& id : expected) {
    EXPECT_EQ(queued[id], 1) << id;
    EXPECT_EQ(sent[id], 1) << id;
    EXPECT_EQ(delivered[id], 1) << id;
  }
  std::printf("%zu messages, %d retried attempts, %d kills, 1 gateway crash\n", expected.size(),
              retries, kKills + 1);
  EXPECT_GT(retries, 0) << "the faults did not bite";
}

}  // namespace
}  // namespace mutualaid

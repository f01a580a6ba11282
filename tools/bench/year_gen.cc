// year_gen: writes a plan year of N workers into a broker's topics as the four
// services would have written it, then (year_replay.sh) each service is
// replayed from zero with the project's replay and compared.
//
// Running 10 M events through the live services would take hours on the
// bench machine, so the generator runs the services' real processor logic
// in-process — EnrollmentLogic, ClaimsLogic, PayoutLogic, NotificationLogic
// (services/*/ *_logic.cc), each over its own RocksDB store
// (libs/store, the services' column families plus the audit chain's) — the
// way libs/processor drives it:
//   - requests (enrollments, platform registrations, claims) are built like
//     the gRPC edges build them and appended to the requests topics, in the
//     worker key's partition;
//   - Decide(state, request) -> events; each own event is linked into the
//     partition's audit chain (processor::LinkRecord: the chain headers),
//     applied to the state and appended to the events topic in the request's
//     partition, in decision order;
//   - other services' events are applied where the services apply them
//     (input_event_topics, with processor::FollowChain) and decided where the
//     services decide them (extra_request_topics), as the services' main.cc
//     wire them;
//   - Tick runs the outboxes at the end of every simulated day, with the
//     payout bank and SMS gateway answered in-process (always accepted and
//     delivered, like tools/fakebank and tools/fakesms) and the SMS policy's
//     rate, daily cap and quiet hours off (config keys of the service);
//   - state is committed to the store once per simulated day (a processor
//     commits per batch of up to 1000; the fold is the same).
// What differs from the live services: no Kafka transactions (an idempotent
// producer writes the records; a replay reads read_committed either way) and
// no gRPC edge in the loop. The year, in day order from 2022-03-01: three
// platforms register; each worker is enrolled once (75 % in March:
// concentrated, the rest April .. February: instant), 10 % of them also by a
// second platform a day later (DUPLICATE_IN_PLAN_YEAR); `--claims-percent`
// (default 20) of workers file a hospital-allowance claim 20-200 days after
// their cover starts; approved claims become payouts, sent and confirmed by
// the next day's tick; every accepted enrollment, denied claim and confirmed
// payout queues an SMS, sent and delivered by the tick.
//
// Prints the records per topic and writes, for each service, the digest of
// its generated state (StateStore::Digest) to DIR/<service>.digest, which the
// replay of that service must reproduce.
// Usage:
//   MUTUALAID_KAFKA_BOOTSTRAP=… year_gen --workers N --prefix P --dir DIR
//       [--partitions 6] [--claims-percent 20]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "memory.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/processor/state.h"
#include "mutualaid/store/state_store.h"
#include "services/claims/claims_logic.h"
#include "services/enrollment/enrollment_logic.h"
#include "services/notification/notification_logic.h"
#include "services/payout/bank_gateway.h"
#include "services/payout/payout_logic.h"
#include "year_workers.h"

namespace {

using namespace mutualaid;
using Stopwatch = std::chrono::steady_clock;

constexpr char kSecret[] = "a-bench-deployment-secret-of-48-bytes-0123456789";
constexpr const char* kPlatforms[] = {"P01", "P02", "P03"};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "year_gen: %s\n", what.c_str());
  std::exit(1);
}
void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

absl::Time At(absl::CivilDay d, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), hour, minute, 0),
                         absl::FixedTimeZone(8 * 3600));
}

// The bank and SMS gateway, answered in-process: every transfer confirmed,
// every SMS delivered (what tools/fakebank and tools/fakesms do by default).
class ConfirmingBank final : public payout::BankGateway {
 public:
  std::string mode() const override { return "http"; }
  std::vector<absl::StatusOr<payout::TransferAnswer>> Send(
      const std::vector<payout::Transfer>& transfers, const std::string&) override {
    std::vector<absl::StatusOr<payout::TransferAnswer>> out;
    for (const payout::Transfer& t : transfers) out.push_back(Answer(t.idempotency_key, t.amount_fen));
    for (const payout::Transfer& t : transfers) amounts_[t.idempotency_key] = t.amount_fen;
    return out;
  }
  absl::StatusOr<payout::TransferAnswer> Query(const std::string& key) override {
    auto it = amounts_.find(key);
    if (it == amounts_.end()) return payout::TransferAnswer{};
    return Answer(key, it->second);
  }
  absl::StatusOr<std::vector<payout::LedgerEntry>> Ledger(std::optional<absl::CivilDay>) override {
    return std::vector<payout::LedgerEntry>{};
  }

 private:
  static payout::TransferAnswer Answer(const std::string& key, int64_t amount) {
    payout::TransferAnswer a;
    a.status = payout::TransferAnswer::Status::kConfirmed;
    a.transfer_id = "T" + key;
    a.amount_fen = amount;
    return a;
  }
  std::map<std::string, int64_t> amounts_;
};

class DeliveringSms final : public notification::SmsGateway {
 public:
  notification::GatewayReport Submit(const std::string& message_id, const std::string&,
                                     const std::string&, const std::string&) override {
    return {notification::GatewayReport::Outcome::kDelivered, "G" + message_id, ""};
  }
  notification::GatewayReport Query(const std::string& message_id) override {
    return {notification::GatewayReport::Outcome::kDelivered, "G" + message_id, ""};
  }
};

// Every record goes out through one idempotent producer, in the order made
// (so each partition's chain is in log order).
class Log {
 public:
  explicit Log(const kafka::ClientConfig& client) {
    auto p = kafka::Producer::Create({.client = client});
    Check(p.status(), "producer");
    producer_ = std::move(*p);
  }
  void Append(const kafka::Record& r) {
    absl::Status s;
    while (!(s = producer_->AppendAsync(r, [this](auto d) {
              if (!d.ok()) ++failed_;
            })).ok()) {
      if (s.code() != absl::StatusCode::kResourceExhausted) Check(s, "append");
      (void)producer_->Flush(absl::Milliseconds(50));
    }
    ++count_[r.topic];
  }
  void Flush() {
    Check(producer_->Flush(absl::Minutes(10)), "flush");
    if (failed_.load() > 0) Die(absl::StrCat(failed_.load(), " records failed"));
  }
  const std::map<std::string, int64_t>& count() const { return count_; }

 private:
  std::unique_ptr<kafka::Producer> producer_;
  std::atomic<int64_t> failed_{0};
  std::map<std::string, int64_t> count_;
};

// One service: its logic over its store, driven like libs/processor drives it.
class Stage {
 public:
  Stage(std::string name, std::unique_ptr<processor::Logic> logic, const std::filesystem::path& dir,
        std::string events_topic, std::string dead_letter_topic, Log& log)
      : name_(std::move(name)),
        logic_(std::move(logic)),
        events_topic_(std::move(events_topic)),
        dead_letter_topic_(std::move(dead_letter_topic)),
        log_(log) {
    store::StateStore::Options so;
    so.column_families = processor::ColumnFamiliesFor(*logic_);
    auto s = store::StateStore::Open((dir / name_).string(), so);
    Check(s.status(), name_ + " store");
    store_ = std::move(*s);
    state_ = std::make_unique<processor::State>(*store_);
  }

  // An input event (processor CatchUp / Replay): chain tip, then Apply.
  void ApplyInput(const kafka::Message& m) {
    processor::FollowChain(*state_, m);
    absl::Status s = logic_->Apply(*state_, m);
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      ++skipped_;
      return;
    }
    Check(s, name_ + " apply input");
  }

  // A request (processor ProcessBatch): Decide, then ApplyOwn and append.
  std::vector<kafka::Message> Decide(const kafka::Message& request) {
    std::vector<kafka::Record> out;
    absl::Status decided = logic_->Decide(*state_, request, &out);
    if (decided.code() == absl::StatusCode::kInvalidArgument) {
      kafka::Record r;
      r.topic = dead_letter_topic_;
      r.key = request.key;
      r.value = request.value;
      r.headers = request.headers;
      r.headers.push_back({processor::kDeadLetterReasonHeader, std::string(decided.message())});
      r.headers.push_back({processor::kDeadLetterSourceHeader,
                           absl::StrCat(request.topic, "/", request.partition, "/", request.offset)});
      r.headers.push_back({processor::kDeadLetterConsumerHeader, "mutualaid." + name_});
      out = {std::move(r)};
      ++dead_;
      if (dead_ <= 3) {
        std::fprintf(stderr, "year_gen: %s dead-lettered a request from %s: %s\n", name_.c_str(),
                     request.topic.c_str(), std::string(decided.message()).c_str());
      }
    } else {
      Check(decided, name_ + " decide");
    }
    ++decided_;
    return Own(request.partition, out);
  }

  std::vector<kafka::Message> Tick(int32_t partition, absl::Time now) {
    std::vector<kafka::Record> out;
    Check(logic_->Tick(*state_, partition, now, &out), name_ + " tick");
    return Own(partition, out);
  }

  // Commits the day's state (processor Commit: the in-flight state to RocksDB).
  void Commit() {
    store::Batch batch = store_->NewBatch();
    state_->MoveTo(batch);
    Check(store_->Commit(batch), name_ + " commit");
  }

  std::string Digest() {
    Commit();
    auto d = store_->Digest();
    Check(d.status(), name_ + " digest");
    return *d;
  }
  void Close() {
    state_.reset();
    Check(store_->Close(), name_ + " close");
    store_.reset();
  }

  const std::string& name() const { return name_; }
  int64_t decided() const { return decided_; }
  int64_t dead() const { return dead_; }
  int64_t skipped() const { return skipped_; }

 private:
  // processor ApplyOwn: route, link into the chain, apply, append.
  std::vector<kafka::Message> Own(int32_t partition, std::vector<kafka::Record>& out) {
    std::vector<kafka::Message> events;
    for (kafka::Record& r : out) {
      if (r.topic.empty()) r.topic = events_topic_;
      if (r.topic == events_topic_) {
        r.partition = partition;
        Check(processor::LinkRecord(*state_, r), name_ + " link");
        kafka::Message as_event{r.topic, r.partition, -1, r.key, r.value, r.headers, {}};
        Check(logic_->Apply(*state_, as_event), name_ + " cannot apply its own event");
        events.push_back(std::move(as_event));
      }
      log_.Append(r);
    }
    return events;
  }

  std::string name_;
  std::unique_ptr<processor::Logic> logic_;
  std::string events_topic_, dead_letter_topic_;
  Log& log_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<processor::State> state_;
  int64_t decided_ = 0, dead_ = 0, skipped_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int64_t workers = 0;
  int partitions = 6;
  int claims_percent = 20;
  std::string prefix, dir_arg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + ": needs a value");
      return argv[++i];
    };
    if (a == "--workers") {
      workers = std::atoll(next().c_str());
    } else if (a == "--partitions") {
      partitions = std::atoi(next().c_str());
    } else if (a == "--claims-percent") {
      claims_percent = std::atoi(next().c_str());
    } else if (a == "--prefix") {
      prefix = next();
    } else if (a == "--dir") {
      dir_arg = next();
    } else {
      Die("usage: year_gen --workers N --prefix P --dir DIR [--partitions 6] [--claims-percent 20]");
    }
  }
  if (workers < 1 || prefix.empty() || dir_arg.empty() || partitions < 1 || claims_percent < 0 ||
      claims_percent > 100) {
    Die("usage: year_gen --workers N (>= 1) --prefix P --dir DIR [--partitions 6] [--claims-percent 0..100]");
  }
  const std::filesystem::path dir = dir_arg;
  std::filesystem::create_directories(dir);
  auto client = kafka::ClientConfigFromEnv("year-gen");
  Check(client.status(), "config");
  auto admin = kafka::Admin::Create(*client);
  Check(admin.status(), "admin");
  auto t = [&](absl::string_view name) { return prefix + std::string(name); };
  {
    std::vector<kafka::TopicSpec> topics;
    for (absl::string_view name : kafka::kAllTopics) {
      topics.push_back(kafka::TopicSpec::EventLog(t(name), partitions));
    }
    Check((*admin)->EnsureTopics(topics, absl::Seconds(60)), "topics");
    for (const auto& spec : topics) {
      for (int p = 0; p < partitions; ++p) {
        for (int attempt = 0; !(*admin)->QueryWatermarks(spec.name, p).ok(); ++attempt) {
          if (attempt > 100) Die(absl::StrCat("no leader for ", spec.name, "/", p));
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    }
  }
  auto keyer = WorkerKeyer::Create(kSecret);
  Check(keyer.status(), "keyer");
  Log log(*client);

  // The four services, configured as their main.cc and `mutualctl replay` do.
  ConfirmingBank bank;
  DeliveringSms sms;
  // Personal data sealed as in a deployment with a master key: one key ring
  // shared by the services (their KafkaKeyRing share the keys topic).
  auto master = crypto::ParseMasterKey(
      "6d757475616c6169642d62656e63682d6d61737465722d6b65792d3230323221", "bench");
  Check(master.status(), "master key");
  crypto::MemoryKeyRing ring(*master);
  const std::string dead = t(kafka::kDeadLetter);
  auto enrollment_logic = std::make_unique<enrollment::EnrollmentLogic>("enrollment-0");
  enrollment_logic->SetKeyRing(&ring);
  Stage enrollment("enrollment", std::move(enrollment_logic), dir, t(kafka::kEnrollmentEvents), dead,
                   log);
  claims::LogicOptions clo;
  clo.producer = "claims-0";
  Stage claims("claims", std::make_unique<claims::ClaimsLogic>(clo), dir, t(kafka::kClaimsEvents),
               dead, log);
  payout::PayoutOptions plo;
  plo.producer = "payout-0";
  plo.commands_topic = t(kafka::kPayoutRequests);
  plo.gateway = &bank;
  plo.max_per_tick = 1000;
  plo.tick_budget = absl::Hours(1);
  Stage payout("payout", std::make_unique<payout::PayoutLogic>(plo), dir, t(kafka::kPayoutEvents),
               dead, log);
  notification::LogicOptions nlo;
  nlo.producer = "notification-0";
  nlo.requests_topic = t(kafka::kNotificationRequests);
  nlo.policy.rate_per_second = 1000000000;
  nlo.policy.daily_cap = 0;
  nlo.policy.quiet_hours = false;
  nlo.policy.max_sends_per_tick = 5000;
  nlo.policy.max_polls_per_tick = 5000;
  auto notification_logic = std::make_unique<notification::NotificationLogic>(nlo, &sms);
  notification_logic->SetKeyRing(&ring);
  Stage notification("notification", std::move(notification_logic), dir,
                     t(kafka::kNotificationEvents), dead, log);
  std::vector<Stage*> stages = {&enrollment, &claims, &payout, &notification};

  // Who applies and who decides each events topic (the services' main.cc).
  const std::string enr_events = t(kafka::kEnrollmentEvents), clm_events = t(kafka::kClaimsEvents),
                    pay_events = t(kafka::kPayoutEvents), sms_events = t(kafka::kNotificationEvents);
  std::deque<kafka::Message> pending;
  auto enqueue = [&](std::vector<kafka::Message> events) {
    for (auto& e : events) pending.push_back(std::move(e));
  };
  auto drain = [&] {
    while (!pending.empty()) {
      kafka::Message e = std::move(pending.front());
      pending.pop_front();
      if (e.topic == enr_events) {
        claims.ApplyInput(e);
        payout.ApplyInput(e);
        notification.ApplyInput(e);
        enqueue(notification.Decide(e));
      } else if (e.topic == clm_events) {
        enrollment.ApplyInput(e);
        payout.ApplyInput(e);
        enqueue(payout.Decide(e));
        enqueue(notification.Decide(e));
      } else if (e.topic == pay_events) {
        enqueue(claims.Decide(e));
        enqueue(notification.Decide(e));
      }
      // notification events: nobody else reads them.
    }
  };
  auto request = [&](kafka::Record r, Stage& stage) {
    log.Append(r);
    kafka::Message m{r.topic, r.partition, -1, r.key, r.value, r.headers, {}};
    enqueue(stage.Decide(m));
    drain();
  };

  // The year: 2022-03-01 .. 2023-03-31, plus 3 months for late claims' payouts.
  const absl::CivilDay first(2022, 3, 1), last_enroll(2023, 2, 28), last(2023, 6, 30);
  const int64_t days = last - first + 1;
  std::vector<std::vector<uint32_t>> enroll_on(static_cast<size_t>(days)),
      dup_on(static_cast<size_t>(days)), claim_on(static_cast<size_t>(days));
  for (int64_t w = 1; w <= workers; ++w) {
    const uint64_t h = bench::Mix(static_cast<uint64_t>(w) * 31 + 7);
    absl::CivilDay day = (h % 100) < 75
                             ? first + static_cast<int64_t>((h >> 8) % 31)
                             : absl::CivilDay(2022, 4, 1) + static_cast<int64_t>((h >> 8) % (last_enroll - absl::CivilDay(2022, 4, 1) + 1));
    enroll_on[static_cast<size_t>(day - first)].push_back(static_cast<uint32_t>(w));
    if ((h >> 20) % 10 == 0) dup_on[static_cast<size_t>(day + 1 - first)].push_back(static_cast<uint32_t>(w));
    if (static_cast<int>((h >> 28) % 100) < claims_percent) {
      const plan::CoverageTerms cover = plan::CoverageFor(day);
      absl::CivilDay admission = cover.start + 20 + static_cast<int64_t>((h >> 36) % 180);
      if (admission > cover.end - 10) admission = cover.end - 10;
      const absl::CivilDay filed = admission + 12 + static_cast<int64_t>((h >> 44) % 20);
      claim_on[static_cast<size_t>(filed - first)].push_back(static_cast<uint32_t>(w));
    }
  }

  const auto t0 = Stopwatch::now();
  int64_t requests = 0;
  for (int64_t di = 0; di < days; ++di) {
    const absl::CivilDay day = first + di;
    if (di == 0) {  // three platforms, registered in every partition (enrollment_api RegisterPlatform)
      for (int pi = 0; pi < 3; ++pi) {
        v1::Platform p;
        p.set_platform_id(kPlatforms[pi]);
        p.set_name(absl::StrCat("平台", kPlatforms[pi]));
        p.set_payout_account(absl::StrCat("6222000000", kPlatforms[pi]));
        for (int32_t part = 0; part < partitions; ++part) {
          const absl::Time now = At(day, 9);
          events::EnvelopeHeader h{absl::StrFormat("enrollment-request/platform-%s-%d", kPlatforms[pi], part),
                                   absl::StrCat("platform:", kPlatforms[pi]), day, now, "",
                                   absl::StrCat("platform/", kPlatforms[pi], "/year"), "enrollment-0"};
          v1::Envelope env = events::NewEnvelope(h);
          *env.mutable_platform_registration_requested()->mutable_platform() = p;
          env.mutable_platform_registration_requested()->set_caller("operations:ops");
          *env.mutable_platform_registration_requested()->mutable_requested_at() = events::ToProto(now);
          kafka::Record r = events::ToRecord(t(kafka::kEnrollmentRequests), std::move(env));
          r.partition = part;
          request(std::move(r), enrollment);
          ++requests;
        }
      }
    }
    // Enrollments (enrollment_api Prepare), then a second platform's duplicates.
    auto enroll = [&](uint32_t w, int platform, int64_t seq) {
      v1::EnrollmentRecord rec = bench::WorkerRecord(w);
      const std::string pid = kPlatforms[platform];
      const absl::Time now = At(day, 9) + absl::Seconds(seq % 36000);
      const std::string request_id = absl::StrCat(pid, "/", rec.platform_record_id());
      events::EnvelopeHeader h;
      h.event_id = absl::StrFormat("enrollment-request/%016x%016x", bench::Mix(w * 4 + platform),
                                   bench::Mix(w * 4 + platform + 1));
      h.worker_key = keyer->KeyFor(rec.id_number());
      h.occurred_on = day;
      h.recorded_at = now;
      h.causation_id = request_id;
      h.producer = "enrollment-0";
      v1::Envelope env = events::NewEnvelope(h);
      v1::EnrollmentRequested* req = env.mutable_enrollment_requested();
      req->set_request_id(request_id);
      req->set_platform_id(pid);
      *req->mutable_record() = rec;
      *req->mutable_application_date() = events::ToProto(day);
      *req->mutable_received_at() = events::ToProto(now);
      req->set_caller(absl::StrCat("platform:", pid));
      {  // sealed like the edge seals it (enrollment_api Prepare)
        v1::PersonalData person;
        person.set_name(rec.name());
        person.set_id_number(rec.id_number());
        person.set_phone(rec.phone());
        auto sealed = crypto::SealPerson(ring, h.worker_key, person);
        Check(sealed.status(), "seal");
        *req->mutable_sealed_person() = *std::move(sealed);
        req->mutable_record()->clear_name();
        req->mutable_record()->clear_id_number();
        req->mutable_record()->clear_phone();
        if (auto phone = plan::NormalizePhone(rec.phone()); phone.ok()) {
          req->set_phone_key(keyer->KeyFor(absl::StrCat("phone:", *phone)));
        }
      }
      kafka::Record r = events::ToRecord(t(kafka::kEnrollmentRequests), std::move(env));
      r.partition = kafka::PartitionOf(r.key, partitions);
      request(std::move(r), enrollment);
      ++requests;
    };
    int64_t seq = 0;
    for (uint32_t w : enroll_on[static_cast<size_t>(di)]) enroll(w, static_cast<int>(w % 3), seq++);
    for (uint32_t w : dup_on[static_cast<size_t>(di)]) enroll(w, static_cast<int>((w + 1) % 3), seq++);
    // Claims filed today (claims_api FileClaim).
    for (uint32_t w : claim_on[static_cast<size_t>(di)]) {
      const uint64_t h = bench::Mix(static_cast<uint64_t>(w) * 31 + 7);
      const absl::CivilDay filed_day = day;
      const absl::CivilDay admission = filed_day - 12 - static_cast<int64_t>((h >> 44) % 20);
      v1::ClaimApplication app = bench::HospitalClaim(absl::StrCat("Y", w), bench::WorkerRecord(w).id_number(),
                                                      admission, w);
      const absl::Time now = At(day, 10) + absl::Seconds(seq++ % 30000);
      const std::string wk = keyer->KeyFor(app.id_number());
      events::EnvelopeHeader eh;
      eh.event_id = absl::StrFormat("claim-request/%016x", bench::Mix(w));
      eh.worker_key = wk;
      eh.occurred_on = day;
      eh.recorded_at = now;
      eh.causation_id = claims::FilingCausation(app.claim_id());
      eh.producer = "claims-0";
      v1::Envelope env = events::NewEnvelope(eh);
      v1::ClaimFiled* f = env.mutable_claim_filed();
      *f->mutable_application() = app;
      *f->mutable_received_on() = events::ToProto(day);
      *f->mutable_received_at() = events::ToProto(now);
      f->set_caller("hall:wang");
      kafka::Record r = events::ToRecord(t(kafka::kClaimsRequests), std::move(env));
      r.partition = kafka::PartitionOf(wk, partitions);
      request(std::move(r), claims);
      ++requests;
    }
    // The outboxes at the end of the day, until they have nothing more to do.
    for (Stage* s : {&payout, &notification}) {
      for (int32_t p = 0; p < partitions; ++p) {
        for (int round = 0; round < 1000; ++round) {
          std::vector<kafka::Message> out = s->Tick(p, At(day, 18) + absl::Minutes(round));
          if (out.empty()) break;
          enqueue(std::move(out));
          drain();
        }
      }
    }
    for (Stage* s : stages) s->Commit();
    if (di % 30 == 29 || di == days - 1) {
      int64_t total = 0;
      for (const auto& [topic, n] : log.count()) total += n;
      std::fprintf(stderr, "year_gen: %s  %lld requests, %lld records, %.0f s\n",
                   absl::FormatCivilTime(day).c_str(), static_cast<long long>(requests),
                   static_cast<long long>(total),
                   std::chrono::duration<double>(Stopwatch::now() - t0).count());
    }
  }
  log.Flush();
  const double secs = std::chrono::duration<double>(Stopwatch::now() - t0).count();

  int64_t total = 0;
  std::printf("year_gen: %lld workers, %d partitions, %d %% file a claim: %lld requests decided in %.0f s\n",
              static_cast<long long>(workers), partitions, claims_percent,
              static_cast<long long>(requests), secs);
  for (const auto& [topic, n] : log.count()) {
    std::printf("  %-48s %10lld records\n", topic.c_str(), static_cast<long long>(n));
    total += n;
  }
  std::printf("  %-48s %10lld records (%.1f per worker), %.0f records/s written\n", "all topics",
              static_cast<long long>(total), static_cast<double>(total) / static_cast<double>(workers),
              total / secs);
  for (Stage* s : stages) {
    const std::string digest = s->Digest();
    std::ofstream(dir / (s->name() + ".digest")) << digest << "\n";
    std::printf("  %-13s decided %lld, dead-lettered %lld, inputs skipped %lld, digest %s\n",
                s->name().c_str(), static_cast<long long>(s->decided()),
                static_cast<long long>(s->dead()), static_cast<long long>(s->skipped()),
                digest.c_str());
    s->Close();
  }
  std::printf("  generator peak RSS %.0f MiB\n", bench::ReadMemory(getpid()).hwm_kb / 1024.0);
  return 0;
}

#include "services/enrollment/enrollment_api.h"

#include <deque>
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/server/server.h"
#include "mutualaid/store/keys.h"
#include "services/enrollment/enrollment_logic.h"

namespace mutualaid::enrollment {
namespace {

using server::Role;
using server::ToGrpcStatus;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;
constexpr size_t kMaxBatch = 1000;

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

template <typename M>
absl::StatusOr<std::optional<M>> ReadStored(const store::StateStore& store, const char* cf,
                                            const std::string& key) {
  absl::StatusOr<std::optional<std::string>> raw = store.Get(cf, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) return absl::InternalError(absl::StrCat("unreadable ", cf));
  return std::optional<M>(std::move(m));
}

int PageSize(const v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPage;
  return std::min(page.page_size(), kMaxPage);
}

// A result for a record refused before it reached the rules.
v1::EnrollmentResult Refused(const std::string& record_id, const std::string& field,
                             const std::string& detail) {
  v1::EnrollmentResult r;
  r.set_platform_record_id(record_id);
  r.set_status(v1::ENROLLMENT_STATUS_REJECTED);
  r.mutable_decision()->set_field(field);
  r.mutable_decision()->set_detail(detail);
  return r;
}

}  // namespace

std::optional<v1::EnrollmentResult> RefusalOf(const v1::EnrollmentRecord& record) {
  if (record.platform_record_id().empty() || record.platform_record_id().size() > 64) {
    return Refused(record.platform_record_id(), "platform_record_id", "required, 1-64 characters");
  }
  if (record.fee_split().platform_fen() < 0 || record.fee_split().worker_fen() < 0) {
    return Refused(record.platform_record_id(), "fee_split", "shares cannot be negative");
  }
  return std::nullopt;
}

absl::Status CheckPhoneChange(const v1::ChangeContactPhoneRequest& req) {
  if (!plan::NormalizePhone(req.new_phone()).ok()) {
    return absl::InvalidArgumentError("new_phone: INVALID_PHONE (11-digit mainland mobile number)");
  }
  return absl::OkStatus();
}

absl::Status CheckReviewDecision(const v1::DecideReviewRequest& req) {
  if (!req.approve() && req.reason().empty()) {
    return absl::InvalidArgumentError("reason: required to reject");
  }
  return absl::OkStatus();
}

absl::Status CheckPlatform(const v1::RegisterPlatformRequest& req) {
  const v1::Platform& p = req.platform();
  if (p.platform_id().empty() || p.name().empty() || p.payout_account().empty()) {
    return absl::InvalidArgumentError(
        "platform: platform_id, name and payout_account are required");
  }
  return absl::OkStatus();
}

struct EnrollmentApi::Prepared {
  absl::Status failed;                         // could not seal the record
  std::optional<v1::EnrollmentResult> answer;  // known without deciding
  std::string request_id;
  kafka::Record record;
};

EnrollmentApi::EnrollmentApi(ApiOptions options, const server::TokenAuthenticator& auth,
                             const Clock& clock, const WorkerKeyer& keyer,
                             kafka::Producer& producer, const store::StateStore& store,
                             server::Answers& answers)
    : o_(std::move(options)),
      auth_(auth),
      clock_(clock),
      keyer_(keyer),
      producer_(producer),
      store_(store),
      answers_(answers) {}

std::string EnrollmentApi::NewId() const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&a), 8)) +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&b), 8));
}

absl::StatusOr<std::optional<v1::EnrollmentResult>> EnrollmentApi::StoredAnswer(
    const std::string& request_id) {
  return ReadStored<v1::EnrollmentResult>(store_, kRequests, request_id);
}

v1::EnrollmentResult EnrollmentApi::ResultFor(const v1::Envelope& event) const {
  std::optional<v1::HeldEnrollment> held;
  if (event.has_enrollment_retry_answered()) {
    auto key = store_.Get(kEnrollmentIds, event.enrollment_retry_answered().enrollment_id());
    if (key.ok() && key->has_value()) {
      auto h = ReadStored<v1::HeldEnrollment>(store_, kEnrollments, **key);
      if (h.ok()) held = *h;
    }
  }
  return ResultOf(event, held);
}

EnrollmentApi::Prepared EnrollmentApi::Prepare(const std::string& platform_id,
                                               const v1::EnrollmentRecord& record,
                                               const std::string& caller) {
  Prepared p;
  p.answer = RefusalOf(record);
  if (p.answer.has_value()) return p;
  p.request_id = absl::StrCat(platform_id, "/", record.platform_record_id());
  auto stored = StoredAnswer(p.request_id);
  if (stored.ok() && stored->has_value()) {
    p.answer = **stored;
    p.answer->set_replayed(true);
    return p;
  }
  const absl::Time now = clock_.Now();
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat("enrollment-request/", NewId());
  h.worker_key = keyer_.KeyFor(record.id_number());
  h.occurred_on = ShanghaiDay(now);
  h.recorded_at = now;
  h.causation_id = p.request_id;
  h.producer = o_.producer;
  v1::Envelope env = events::NewEnvelope(h);
  v1::EnrollmentRequested* req = env.mutable_enrollment_requested();
  req->set_request_id(p.request_id);
  req->set_platform_id(platform_id);
  *req->mutable_record() = record;
  if (ring_ != nullptr) {
    // Name, ID number and phone leave this process only sealed.
    v1::PersonalData person;
    person.set_name(record.name());
    person.set_id_number(record.id_number());
    person.set_phone(record.phone());
    absl::StatusOr<v1::SealedPersonalData> sealed = crypto::SealPerson(*ring_, h.worker_key, person);
    if (!sealed.ok()) {
      p.failed = sealed.status();
      return p;
    }
    *req->mutable_sealed_person() = *std::move(sealed);
    req->mutable_record()->clear_name();
    req->mutable_record()->clear_id_number();
    req->mutable_record()->clear_phone();
    if (absl::StatusOr<std::string> phone = plan::NormalizePhone(record.phone()); phone.ok()) {
      req->set_phone_key(keyer_.KeyFor(absl::StrCat("phone:", *phone)));
    }
  }
  *req->mutable_application_date() = events::ToProto(ShanghaiDay(now));  // stamped on receipt
  *req->mutable_received_at() = events::ToProto(now);
  req->set_caller(caller);
  p.record = events::ToRecord(o_.requests_topic, std::move(env));
  return p;
}

absl::Status EnrollmentApi::PrepareKeys(const std::vector<v1::EnrollmentRecord>& records) {
  if (ring_ == nullptr) return absl::OkStatus();
  std::vector<std::string> worker_keys;
  worker_keys.reserve(records.size());
  for (const v1::EnrollmentRecord& record : records) {
    if (RefusalOf(record).has_value()) continue;  // refused at the edge: nothing to seal
    worker_keys.push_back(keyer_.KeyFor(record.id_number()));
  }
  return ring_->PrepareKeys(worker_keys);
}

grpc::Status EnrollmentApi::StreamEnrollments(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::EnrollmentResult, v1::EnrollmentRecord>* stream) {
  auto who = server::CheckCall(auth_, *ctx, "StreamEnrollments", {Role::kPlatform});
  if (!who.ok()) return ToGrpcStatus(who.status());

  // Results reach this thread (the writer) from the processor's thread and
  // the preparer thread through a queue.
  struct Shared {
    absl::Mutex mu;
    std::deque<v1::EnrollmentResult> ready ABSL_GUARDED_BY(mu);
    size_t outstanding ABSL_GUARDED_BY(mu) = 0;  // appended, not yet decided
    // Read from the stream, not yet prepared (the reader fills it, the
    // preparer empties it), and taken by the preparer, not yet appended.
    std::deque<v1::EnrollmentRecord> incoming ABSL_GUARDED_BY(mu);
    size_t preparing ABSL_GUARDED_BY(mu) = 0;
    bool input_done ABSL_GUARDED_BY(mu) = false;    // the reader saw the stream end
    bool reading_done ABSL_GUARDED_BY(mu) = false;  // the preparer handled every record
    absl::Status failed ABSL_GUARDED_BY(mu);
    size_t max_in_flight = 0;
  };
  auto shared = std::make_shared<Shared>();
  shared->max_in_flight = o_.max_in_flight;
  const std::string platform_id = who->subject;
  const std::string caller = who->ToString();

  // The reader only reads; the preparer takes whatever has been read so far
  // as one group, makes the data keys of its new workers together (one round
  // trip for the group: PrepareKeys), then checks, seals and appends each
  // record. A platform streaming fast gets large groups, a slow one groups of
  // one.
  std::thread reader([&, shared] {
    v1::EnrollmentRecord record;
    while (stream->Read(&record)) {
      absl::MutexLock l(&shared->mu);
      // Flow control: at most max_in_flight records read and undecided.
      shared->mu.Await(absl::Condition(
          +[](Shared* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->outstanding + s->preparing + s->incoming.size() < s->max_in_flight ||
                   !s->failed.ok();
          },
          shared.get()));
      if (!shared->failed.ok()) break;
      shared->incoming.push_back(std::move(record));
    }
    absl::MutexLock l(&shared->mu);
    shared->input_done = true;
  });

  std::thread preparer([&, shared] {
    auto fail = [&shared](const absl::Status& s) {
      absl::MutexLock l(&shared->mu);
      if (shared->failed.ok()) shared->failed = s;
    };
    while (true) {
      std::vector<v1::EnrollmentRecord> group;
      {
        absl::MutexLock l(&shared->mu);
        shared->mu.Await(absl::Condition(
            +[](Shared* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return !s->incoming.empty() || s->input_done || !s->failed.ok();
            },
            shared.get()));
        if (!shared->failed.ok() || shared->incoming.empty()) break;
        const size_t n = std::min(shared->incoming.size(), kMaxBatch);
        for (size_t i = 0; i < n; ++i) {
          group.push_back(std::move(shared->incoming.front()));
          shared->incoming.pop_front();
        }
        shared->preparing = group.size();
      }
      if (absl::Status keys = PrepareKeys(group); !keys.ok()) {
        fail(keys);
        break;
      }
      bool stop = false;
      for (const v1::EnrollmentRecord& record : group) {
        Prepared p = Prepare(platform_id, record, caller);
        if (!p.failed.ok()) {
          fail(p.failed);
          stop = true;
          break;
        }
        if (p.answer.has_value()) {
          absl::MutexLock l(&shared->mu);
          shared->ready.push_back(*std::move(p.answer));
          --shared->preparing;
          continue;
        }
        {
          absl::MutexLock l(&shared->mu);
          ++shared->outstanding;
          --shared->preparing;
        }
        answers_.ExpectCallback(p.request_id, [this, shared](const v1::Envelope& event) {
          v1::EnrollmentResult r = ResultFor(event);
          absl::MutexLock l(&shared->mu);
          shared->ready.push_back(std::move(r));
          --shared->outstanding;
        });
        absl::Status appended = producer_.AppendAsync(
            p.record, [shared](absl::StatusOr<kafka::TopicPartitionOffset> done) {
              if (done.ok()) return;
              absl::MutexLock l(&shared->mu);
              if (shared->failed.ok()) shared->failed = done.status();
            });
        if (!appended.ok()) {
          fail(appended);
          stop = true;
          break;
        }
      }
      if (stop) break;
    }
    absl::MutexLock l(&shared->mu);
    shared->preparing = 0;
    shared->reading_done = true;
  });

  grpc::Status result = grpc::Status::OK;
  while (true) {
    std::deque<v1::EnrollmentResult> batch;
    {
      absl::MutexLock l(&shared->mu);
      auto has_work = [](Shared* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !s->ready.empty() || !s->failed.ok() || (s->reading_done && s->outstanding == 0);
      };
      if (!shared->mu.AwaitWithTimeout(absl::Condition(+has_work, shared.get()),
                                       o_.decision_timeout)) {
        result = Error(grpc::StatusCode::DEADLINE_EXCEEDED,
                       "no decision in time; the records are recorded: resend the unanswered "
                       "ones to read their results");
        shared->failed = absl::DeadlineExceededError("timeout");
        break;
      }
      batch.swap(shared->ready);
      if (batch.empty() && !shared->failed.ok()) {
        result = Error(grpc::StatusCode::UNAVAILABLE,
                       absl::StrCat("could not record a record (", shared->failed.message(),
                                    "); resend the unanswered records"));
        break;
      }
      if (batch.empty() && shared->reading_done && shared->outstanding == 0) break;
    }
    for (const v1::EnrollmentResult& r : batch) {
      if (!stream->Write(r)) {
        result = Error(grpc::StatusCode::CANCELLED, "the platform closed the stream");
        absl::MutexLock l(&shared->mu);
        shared->failed = absl::CancelledError("closed");
        break;
      }
    }
    if (!result.ok()) break;
  }
  if (!result.ok()) ctx->TryCancel();  // unblocks the reader
  reader.join();
  preparer.join();
  return result;
}

grpc::Status EnrollmentApi::SubmitEnrollments(grpc::ServerContext* ctx,
                                              const v1::SubmitEnrollmentsRequest* req,
                                              v1::SubmitEnrollmentsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "SubmitEnrollments", {Role::kPlatform});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->records_size() > static_cast<int>(kMaxBatch)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 absl::StrCat("records: at most ", kMaxBatch, " per call; stream larger uploads"));
  }
  if (absl::Status keys = PrepareKeys({req->records().begin(), req->records().end()}); !keys.ok()) {
    return ToGrpcStatus(keys);
  }
  std::vector<Prepared> prepared;
  std::vector<std::shared_ptr<server::Answers::Ticket>> tickets;
  std::vector<kafka::Record> to_append;
  for (const v1::EnrollmentRecord& record : req->records()) {
    prepared.push_back(Prepare(who->subject, record, who->ToString()));
    if (!prepared.back().failed.ok()) {
      for (size_t i = 0; i + 1 < prepared.size(); ++i) {
        if (tickets[i]) answers_.Forget(prepared[i].request_id, tickets[i]);
      }
      return ToGrpcStatus(prepared.back().failed);
    }
    if (prepared.back().answer.has_value()) {
      tickets.push_back(nullptr);
    } else {
      tickets.push_back(answers_.Expect(prepared.back().request_id));
      to_append.push_back(prepared.back().record);
    }
  }
  for (const auto& appended : producer_.AppendBatch(to_append)) {
    if (!appended.ok()) {
      for (size_t i = 0; i < prepared.size(); ++i) {
        if (tickets[i]) answers_.Forget(prepared[i].request_id, tickets[i]);
      }
      return ToGrpcStatus(appended.status());
    }
  }
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (!tickets[i]) {
      *resp->add_results() = *prepared[i].answer;
      continue;
    }
    auto got = tickets[i]->Wait(o_.decision_timeout);
    if (!got.ok()) {
      answers_.Forget(prepared[i].request_id, tickets[i]);
      return ToGrpcStatus(got.status());
    }
    *resp->add_results() = ResultFor(got->front());
  }
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::GetEnrollment(grpc::ServerContext* ctx,
                                          const v1::GetEnrollmentRequest* req,
                                          v1::GetEnrollmentResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "GetEnrollment",
                               {Role::kPlatform, Role::kReviewer, Role::kHall,
                                Role::kDistrictCentre, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->id_number().empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "id_number: required");
  const std::string wk = keyer_.KeyFor(req->id_number());
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_.ScanPrefix(
      kEnrollments, store::KeyBuilder().Text(wk).Prefix(),
      [&](absl::string_view, absl::string_view value) {
        v1::HeldEnrollment held;
        if (!held.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::InternalError("unreadable enrollment");
          return false;
        }
        if (req->plan_year() != 0 && held.enrollment().plan_year() != req->plan_year()) return true;
        // A platform sees only the workers it enrolled.
        if (who->role == Role::kPlatform && held.enrollment().platform_id() != who->subject) {
          return true;
        }
        *resp->add_enrollments() = held.enrollment();
        return true;
      });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!bad.ok()) return ToGrpcStatus(bad);
  for (v1::Enrollment& e : *resp->mutable_enrollments()) {
    if (absl::Status r = Reveal(&e); !r.ok()) return ToGrpcStatus(r);
  }
  if (resp->enrollments_size() == 0) {
    return Error(grpc::StatusCode::NOT_FOUND, "no enrollment of that ID number for this caller");
  }
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::ListEnrollments(grpc::ServerContext* ctx,
                                            const v1::ListEnrollmentsRequest* req,
                                            v1::ListEnrollmentsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListEnrollments",
                               {Role::kPlatform, Role::kReviewer, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string platform = req->platform_id();
  if (who->role == Role::kPlatform) {
    if (!platform.empty() && platform != who->subject) {
      return Error(grpc::StatusCode::PERMISSION_DENIED, "a platform lists only its own workers");
    }
    platform = who->subject;
  }
  if (platform.empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "platform_id: required");
  if ((req->year() == 0) != (req->month() == 0) || req->month() < 0 || req->month() > 12) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "year and month: both or neither, month 1-12");
  }
  store::KeyBuilder prefix;
  prefix.Text(platform);
  if (req->year() != 0) prefix.Int64(int64_t{req->year()} * 100 + req->month());
  std::string begin = prefix.Prefix();
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = PageSize(req->page());
  std::string last;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_.ScanPrefix(kByPlatform, begin, [&](absl::string_view key, absl::string_view) {
    if (!after.empty() && key <= after) return true;
    store::KeyReader r(key);
    r.Text();
    r.Int64();
    std::optional<absl::string_view> eid = r.Text();
    if (!eid) return true;
    auto k = store_.Get(kEnrollmentIds, std::string(*eid));
    if (!k.ok() || !k->has_value()) return true;
    auto held = ReadStored<v1::HeldEnrollment>(store_, kEnrollments, **k);
    if (!held.ok()) {
      bad = held.status();
      return false;
    }
    if (!held->has_value()) return true;
    if (req->status() != v1::ENROLLMENT_STATUS_UNSPECIFIED &&
        (*held)->enrollment().status() != req->status()) {
      return true;
    }
    if (resp->enrollments_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    *resp->add_enrollments() = (*held)->enrollment();
    last = std::string(key);
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!bad.ok()) return ToGrpcStatus(bad);
  for (v1::Enrollment& e : *resp->mutable_enrollments()) {
    if (absl::Status r = Reveal(&e); !r.ok()) return ToGrpcStatus(r);
  }
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::GetMonthlyStatement(grpc::ServerContext* ctx,
                                                const v1::GetMonthlyStatementRequest* req,
                                                v1::GetMonthlyStatementResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "GetMonthlyStatement",
                               {Role::kPlatform, Role::kFinance, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string platform = req->platform_id();
  if (who->role == Role::kPlatform) {
    if (!platform.empty() && platform != who->subject) {
      return Error(grpc::StatusCode::PERMISSION_DENIED, "a platform reads only its own statement");
    }
    platform = who->subject;
  }
  if (platform.empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "platform_id: required");
  if (req->year() < 2000 || req->month() < 1 || req->month() > 12) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "year, month: the application month");
  }
  resp->set_platform_id(platform);
  resp->set_year(req->year());
  resp->set_month(req->month());
  const int64_t yyyymm = int64_t{req->year()} * 100 + req->month();
  absl::Status s = store_.ScanPrefix(
      kStatements, store::KeyBuilder().Text(platform).Int64(yyyymm).Prefix(),
      [&](absl::string_view, absl::string_view value) {
        v1::StatementLine line;
        if (line.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          resp->set_approved_count(resp->approved_count() + line.approved_count());
          resp->set_fee_fen(resp->fee_fen() + line.fee_fen());
          *resp->add_lines() = std::move(line);
        }
        return true;
      });
  return ToGrpcStatus(s);
}

grpc::Status EnrollmentApi::ChangeContactPhone(grpc::ServerContext* ctx,
                                               const v1::ChangeContactPhoneRequest* req,
                                               v1::ChangeContactPhoneResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ChangeContactPhone", {Role::kPlatform});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (absl::Status checked = CheckPhoneChange(*req); !checked.ok()) return ToGrpcStatus(checked);
  const std::string wk = keyer_.KeyFor(req->id_number());
  const std::string key = EnrollmentKey(wk, req->plan_year());
  auto held = ReadStored<v1::HeldEnrollment>(store_, kEnrollments, key);
  if (!held.ok()) return ToGrpcStatus(held.status());
  if (!held->has_value() || (*held)->enrollment().platform_id() != who->subject) {
    return Error(grpc::StatusCode::NOT_FOUND, "no enrollment of that worker and plan year for this platform");
  }
  const std::string request_id = absl::StrCat("phone/", NewId());
  const absl::Time now = clock_.Now();
  events::EnvelopeHeader h{absl::StrCat("enrollment-request/", NewId()), wk, ShanghaiDay(now), now,
                           "", request_id, o_.producer};
  v1::Envelope env = events::NewEnvelope(h);
  v1::ContactPhoneChangeRequested* x = env.mutable_contact_phone_change_requested();
  x->set_platform_id(who->subject);
  x->set_enrollment_id((*held)->enrollment().enrollment_id());
  x->set_new_phone(req->new_phone());
  if (ring_ != nullptr) {
    const std::string phone = plan::NormalizePhone(req->new_phone()).value_or(req->new_phone());
    absl::StatusOr<v1::SealedPersonalData> sealed =
        crypto::SealField(*ring_, wk, crypto::kFieldPhone, phone);
    if (!sealed.ok()) return ToGrpcStatus(sealed.status());
    *x->mutable_sealed_new_phone() = *std::move(sealed);
    x->clear_new_phone();
    x->set_phone_key(keyer_.KeyFor(absl::StrCat("phone:", phone)));
  }
  x->set_caller(who->ToString());
  *x->mutable_requested_at() = events::ToProto(now);
  auto ticket = answers_.Expect(request_id);
  if (auto a = producer_.Append(events::ToRecord(o_.requests_topic, env));
      !a.ok()) {
    answers_.Forget(request_id, ticket);
    return ToGrpcStatus(a.status());
  }
  auto got = ticket->Wait(o_.decision_timeout);
  if (!got.ok()) {
    answers_.Forget(request_id, ticket);
    return ToGrpcStatus(got.status());
  }
  *resp->mutable_enrollment() = (*held)->enrollment();
  const v1::ContactPhoneChanged& changed = got->front().contact_phone_changed();
  if (changed.has_sealed_person()) {
    *resp->mutable_enrollment()->mutable_sealed_person() = changed.sealed_person();
    resp->mutable_enrollment()->set_phone_key(changed.phone_key());
  } else {
    *resp->mutable_enrollment()->mutable_person() = changed.person();
  }
  if (absl::Status r = Reveal(resp->mutable_enrollment()); !r.ok()) return ToGrpcStatus(r);
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::ListReviewQueue(grpc::ServerContext* ctx,
                                            const v1::ListReviewQueueRequest* req,
                                            v1::ListReviewQueueResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListReviewQueue", {Role::kReviewer, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = PageSize(req->page());
  std::string last;
  absl::Status s = store_.Scan(kReview, after, "", [&](absl::string_view eid, absl::string_view) {
    if (eid == after) return true;
    auto k = store_.Get(kEnrollmentIds, std::string(eid));
    if (!k.ok() || !k->has_value()) return true;
    auto held = ReadStored<v1::HeldEnrollment>(store_, kEnrollments, **k);
    if (!held.ok() || !held->has_value()) return true;
    if (resp->items_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    v1::ReviewItem* item = resp->add_items();
    *item->mutable_enrollment() = (*held)->enrollment();
    *item->mutable_flags() = (*held)->decision();
    last = std::string(eid);
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  for (v1::ReviewItem& item : *resp->mutable_items()) {
    if (absl::Status r = Reveal(item.mutable_enrollment()); !r.ok()) return ToGrpcStatus(r);
  }
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::DecideReview(grpc::ServerContext* ctx,
                                         const v1::DecideReviewRequest* req,
                                         v1::DecideReviewResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "DecideReview", {Role::kReviewer});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (absl::Status checked = CheckReviewDecision(*req); !checked.ok()) {
    return ToGrpcStatus(checked);
  }
  auto key = store_.Get(kEnrollmentIds, req->enrollment_id());
  if (!key.ok()) return ToGrpcStatus(key.status());
  if (!key->has_value()) return Error(grpc::StatusCode::NOT_FOUND, "enrollment_id: unknown");
  auto held = ReadStored<v1::HeldEnrollment>(store_, kEnrollments, **key);
  if (!held.ok()) return ToGrpcStatus(held.status());
  if (!held->has_value() ||
      (*held)->enrollment().status() != v1::ENROLLMENT_STATUS_PENDING_REVIEW) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION, "enrollment_id: not waiting for review");
  }
  store::KeyReader kr(**key);
  const std::string wk(kr.Text().value_or(""));
  const std::string request_id = absl::StrCat("review/", req->enrollment_id(), "/", NewId());
  const absl::Time now = clock_.Now();
  events::EnvelopeHeader h{absl::StrCat("enrollment-request/", NewId()), wk, ShanghaiDay(now), now,
                           "", request_id, o_.producer};
  v1::Envelope env = events::NewEnvelope(h);
  v1::EnrollmentReviewRequested* x = env.mutable_enrollment_review_requested();
  x->set_enrollment_id(req->enrollment_id());
  x->set_approve(req->approve());
  x->set_reason(req->reason());
  x->set_reviewer(who->ToString());
  *x->mutable_decided_at() = events::ToProto(now);
  *x->mutable_decided_on() = events::ToProto(ShanghaiDay(now));
  auto ticket = answers_.Expect(request_id);
  if (auto a = producer_.Append(events::ToRecord(o_.requests_topic, env));
      !a.ok()) {
    answers_.Forget(request_id, ticket);
    return ToGrpcStatus(a.status());
  }
  auto got = ticket->Wait(o_.decision_timeout);
  if (!got.ok()) {
    answers_.Forget(request_id, ticket);
    return Error(grpc::StatusCode::ABORTED,
                 "the review was not recorded in time (or another reviewer decided first): "
                 "read the enrollment again");
  }
  *resp->mutable_enrollment() = got->front().enrollment_review_decided().enrollment();
  if (absl::Status r = Reveal(resp->mutable_enrollment()); !r.ok()) return ToGrpcStatus(r);
  return grpc::Status::OK;
}

absl::Status EnrollmentApi::Reveal(v1::Enrollment* e) const {
  if (!e->has_sealed_person()) return absl::OkStatus();
  if (ring_ == nullptr) return absl::FailedPreconditionError("sealed enrollment and no key ring");
  absl::StatusOr<v1::PersonalData> p = crypto::OpenPerson(*ring_, e->worker_key(), e->sealed_person());
  e->clear_sealed_person();
  if (p.ok()) {
    *e->mutable_person() = *std::move(p);
    return absl::OkStatus();
  }
  if (crypto::IsErased(p.status())) {
    e->mutable_person()->set_name(crypto::kErased);
    e->mutable_person()->set_id_number(crypto::kErased);
    e->mutable_person()->set_phone(crypto::kErased);
    return absl::OkStatus();
  }
  return p.status();
}

grpc::Status EnrollmentApi::EraseWorkerData(grpc::ServerContext* ctx,
                                            const v1::EraseWorkerDataRequest* req,
                                            v1::EraseWorkerDataResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "EraseWorkerData", {Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->id_number().empty() == req->worker_key().empty()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "id_number or worker_key: exactly one");
  }
  std::string wk = req->worker_key();
  if (!req->id_number().empty()) {
    wk = keyer_.KeyFor(req->id_number());
  } else if (wk.size() != 64 || wk.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "worker_key: 64 lower-case hex characters");
  }
  if (ring_ == nullptr) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION, "this service runs without a key ring");
  }
  absl::StatusOr<int> n = ring_->Erase(wk, who->ToString());
  if (!n.ok()) {
    if (absl::IsNotFound(n.status())) {
      return Error(grpc::StatusCode::NOT_FOUND, "no personal data of that worker");
    }
    return ToGrpcStatus(n.status());
  }
  resp->set_worker_key(wk);
  resp->set_keys_erased(*n);
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::RegisterPlatform(const server::Principal& who,
                                             const v1::RegisterPlatformRequest& req,
                                             v1::RegisterPlatformResponse* resp) {
  if (absl::Status checked = CheckPlatform(req); !checked.ok()) return ToGrpcStatus(checked);
  const v1::Platform& p = req.platform();
  auto existing = ReadStored<v1::Platform>(store_, kPlatforms, p.platform_id());
  if (!existing.ok()) return ToGrpcStatus(existing.status());
  if (existing->has_value() && (*existing)->SerializeAsString() == p.SerializeAsString()) {
    *resp->mutable_platform() = **existing;
    resp->set_already_registered(true);
    return grpc::Status::OK;
  }
  // Every partition decides enrollments against the registry, so the
  // registration goes to each of them.
  const std::string request_id = absl::StrCat("platform/", p.platform_id(), "/", NewId());
  auto ticket = answers_.Expect(request_id, static_cast<size_t>(o_.partitions));
  const absl::Time now = clock_.Now();
  std::vector<kafka::Record> records;
  for (int32_t partition = 0; partition < o_.partitions; ++partition) {
    events::EnvelopeHeader h{absl::StrCat("enrollment-request/", NewId()),
                             absl::StrCat("platform:", p.platform_id()), ShanghaiDay(now), now, "",
                             request_id, o_.producer};
    v1::Envelope env = events::NewEnvelope(h);
    *env.mutable_platform_registration_requested()->mutable_platform() = p;
    env.mutable_platform_registration_requested()->set_caller(who.ToString());
    *env.mutable_platform_registration_requested()->mutable_requested_at() = events::ToProto(now);
    kafka::Record r = events::ToRecord(o_.requests_topic, std::move(env));
    r.partition = partition;
    records.push_back(std::move(r));
  }
  for (const auto& a : producer_.AppendBatch(records)) {
    if (!a.ok()) {
      answers_.Forget(request_id, ticket);
      return ToGrpcStatus(a.status());
    }
  }
  auto got = ticket->Wait(o_.decision_timeout);
  if (!got.ok()) {
    answers_.Forget(request_id, ticket);
    return ToGrpcStatus(got.status());
  }
  *resp->mutable_platform() = p;
  return grpc::Status::OK;
}

grpc::Status EnrollmentApi::ListPlatforms(const server::Principal&, v1::ListPlatformsResponse* resp) {
  absl::Status s = store_.Scan(kPlatforms, "", "", [&](absl::string_view, absl::string_view value) {
    v1::Platform p;
    if (p.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      *resp->add_platforms() = std::move(p);
    }
    return true;
  });
  return ToGrpcStatus(s);
}

}  // namespace mutualaid::enrollment

#include "services/enrollment/enrollment_logic.h"

#include "absl/strings/str_cat.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/enrollment.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/store/keys.h"

namespace mutualaid::enrollment {
namespace {

using events::FromProto;
using events::ToProto;

// Reads a stored message; nullopt when absent, Internal when unreadable.
template <typename M>
absl::StatusOr<std::optional<M>> Read(const processor::State& state, const char* cf,
                                      const std::string& key) {
  absl::StatusOr<std::optional<std::string>> raw = state.Get(cf, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) {
    return absl::InternalError(absl::StrCat("unreadable state in ", cf));
  }
  return std::optional<M>(std::move(m));
}

v1::EnrollmentStatus StatusOf(plan::EnrollmentOutcome o) {
  switch (o) {
    case plan::EnrollmentOutcome::kAccepted:
      return v1::ENROLLMENT_STATUS_ACCEPTED;
    case plan::EnrollmentOutcome::kPendingReview:
      return v1::ENROLLMENT_STATUS_PENDING_REVIEW;
    case plan::EnrollmentOutcome::kRejected:
      return v1::ENROLLMENT_STATUS_REJECTED;
  }
  return v1::ENROLLMENT_STATUS_UNSPECIFIED;
}

// The stored enrollment as the rules see it.
absl::StatusOr<plan::EnrollmentRecord> ToPlanRecord(const v1::HeldEnrollment& held,
                                                    const v1::PersonalData& person) {
  const v1::Enrollment& e = held.enrollment();
  plan::EnrollmentRecord r;
  plan::EnrollmentDecision& d = r.decision;
  d.outcome = e.status() == v1::ENROLLMENT_STATUS_PENDING_REVIEW
                  ? plan::EnrollmentOutcome::kPendingReview
                  : plan::EnrollmentOutcome::kAccepted;
  d.plan_year = e.plan_year();
  d.kind = events::ToPlan(e.kind());
  auto start = FromProto(e.coverage_start(), "coverage_start");
  auto end = FromProto(e.coverage_end(), "coverage_end");
  auto received = FromProto(e.application_date(), "application_date");
  if (!start.ok() || !end.ok() || !received.ok()) {
    return absl::InternalError("stored enrollment with a bad date");
  }
  d.coverage_start = *start;
  d.coverage_end = *end;
  d.received_on = *received;
  d.fee_fen = e.fee_fen();
  d.platform_share_fen = e.fee_split().platform_fen();
  d.worker_share_fen = e.fee_split().worker_fen();
  for (int reason : held.decision().reasons()) {
    if (auto f = events::ToPlanReviewFlag(static_cast<v1::ReasonCode>(reason))) {
      d.review_flags.push_back(*f);
    }
  }
  d.review = !d.review_flags.empty();
  d.rule_set_version = held.decision().rule_set_version();
  d.platform_id = e.platform_id();
  d.id_number = person.id_number();
  d.name = person.name();
  d.phone = person.phone();
  d.industry = events::ToPlan(e.industry()).value_or(plan::Industry::kOther);
  switch (e.status()) {
    case v1::ENROLLMENT_STATUS_PENDING_REVIEW:
      r.status = plan::EnrollmentStatus::kPendingReview;
      break;
    case v1::ENROLLMENT_STATUS_REJECTED:
      r.status = plan::EnrollmentStatus::kRejectedInReview;
      break;
    default:
      r.status = plan::EnrollmentStatus::kActive;
  }
  return r;
}

// Everything the rules know about a worker: enrollments and an approved death.
// Opens a held enrollment's person: in clear from events from before sealing;
// `fallback` (the request's own person) when the key was erased, so an erased
// earlier year raises no review flag of its own.
absl::StatusOr<v1::PersonalData> PersonOf(crypto::KeyRing* ring, const v1::Enrollment& e,
                                          const std::string& worker_key,
                                          const v1::PersonalData& fallback) {
  if (!e.has_sealed_person()) return e.person();
  if (ring == nullptr) return absl::InternalError("sealed enrollment in state and no key ring");
  absl::StatusOr<v1::PersonalData> p = crypto::OpenPerson(*ring, worker_key, e.sealed_person());
  if (p.ok()) return p;
  const absl::StatusCode c = p.status().code();
  if (c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kDeadlineExceeded) {
    return p.status();  // the key ring's broker: try again
  }
  return fallback;
}

bool Transient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::StatusOr<plan::WorkerFile> LoadWorkerFile(const processor::State& state,
                                                const std::string& worker_key,
                                                crypto::KeyRing* ring,
                                                const v1::PersonalData& fallback) {
  plan::WorkerFile file;
  absl::Status bad = absl::OkStatus();
  absl::Status s = state.ScanPrefix(
      kEnrollments, store::KeyBuilder().Text(worker_key).Prefix(),
      [&](absl::string_view, absl::string_view value) {
        v1::HeldEnrollment held;
        if (!held.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::InternalError("unreadable enrollment in state");
          return false;
        }
        absl::StatusOr<v1::PersonalData> person =
            PersonOf(ring, held.enrollment(), worker_key, fallback);
        if (!person.ok()) {
          bad = person.status();
          return false;
        }
        absl::StatusOr<plan::EnrollmentRecord> r = ToPlanRecord(held, *person);
        if (!r.ok()) {
          bad = r.status();
          return false;
        }
        if (file.id_number.empty()) file.id_number = r->decision.id_number;
        file.enrollments.push_back(*std::move(r));
        return true;
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  auto death = Read<v1::DeathState>(state, kDeaths, worker_key);
  if (!death.ok()) return death.status();
  if (death->has_value()) {
    // §5.7: an approved death claim; the rules read the date of death from it.
    plan::ClaimRecord claim;
    claim.request.claim_id = (*death)->claim_id();
    claim.request.benefit = plan::Benefit::kIllnessDeath;
    auto died = FromProto((*death)->died_on(), "died_on");
    if (!died.ok()) return absl::InternalError("stored death with a bad date");
    claim.request.died_on = *died;
    claim.decision.claim_id = claim.request.claim_id;
    claim.decision.benefit = plan::Benefit::kIllnessDeath;
    claim.decision.outcome = plan::ClaimOutcome::kApproved;
    claim.status = plan::ClaimStatus::kApproved;
    file.claims.push_back(std::move(claim));
  }
  return file;
}

absl::StatusOr<v1::Enrollment> ToEnrollment(const plan::EnrollmentDecision& d,
                                            const v1::EnrollmentRequested& req,
                                            const std::string& worker_key, crypto::KeyRing* ring) {
  v1::Enrollment e;
  e.set_worker_key(worker_key);
  e.set_enrollment_id(EnrollmentIdFor(worker_key, d.plan_year));
  e.set_request_id(req.request_id());
  e.set_platform_id(d.platform_id);
  e.set_platform_record_id(req.record().platform_record_id());
  e.mutable_person()->set_name(d.name);
  e.mutable_person()->set_id_number(d.id_number);
  e.mutable_person()->set_phone(d.phone);
  if (req.has_sealed_person()) {
    // The person as the rules normalised it, sealed; nothing in clear.
    absl::StatusOr<v1::SealedPersonalData> sealed = crypto::SealPerson(*ring, worker_key, e.person());
    if (!sealed.ok()) return sealed.status();
    *e.mutable_sealed_person() = *std::move(sealed);
    e.clear_person();
    e.set_phone_key(req.phone_key());
  }
  e.set_industry(ToProto(d.industry));
  e.set_plan_year(d.plan_year);
  e.set_kind(ToProto(d.kind));
  *e.mutable_application_date() = ToProto(d.received_on);
  *e.mutable_coverage_start() = ToProto(d.coverage_start);
  *e.mutable_coverage_end() = ToProto(d.coverage_end);
  e.set_fee_fen(d.fee_fen);
  e.mutable_fee_split()->set_platform_fen(d.platform_share_fen);
  e.mutable_fee_split()->set_worker_fen(d.worker_share_fen);
  e.set_status(StatusOf(d.outcome));
  return e;
}

// The key of a phone's usage: its keyed hash, or (events from before sealing)
// the phone itself.
std::string PhoneUsageKey(int plan_year, const std::string& phone_key, const std::string& phone) {
  return store::KeyBuilder().Int64(plan_year).Text(!phone_key.empty() ? phone_key : phone).Build();
}

std::string PlatformIdOk(const std::string& id) {
  if (id.empty() || id.size() > 32) return "platform_id: 1-32 characters";
  for (char c : id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return "platform_id: letters, digits, '-' and '_' only";
    }
  }
  return "";
}

}  // namespace

std::string EnrollmentKey(const std::string& worker_key, int plan_year) {
  return store::KeyBuilder().Text(worker_key).Int64(plan_year).Build();
}

std::string EnrollmentIdFor(const std::string& worker_key, int plan_year) {
  // One enrollment per worker per plan year: the id says which, and leaks
  // nothing (a prefix of the keyed hash).
  return absl::StrCat("E", plan_year, "-", worker_key.substr(0, 24));
}

int64_t MonthOf(const v1::Date& date) { return int64_t{date.year()} * 100 + date.month(); }

v1::EnrollmentResult ResultOf(const v1::Envelope& event,
                              const std::optional<v1::HeldEnrollment>& held) {
  v1::EnrollmentResult r;
  auto fill = [&r](const v1::Enrollment& e) {
    r.set_platform_record_id(e.platform_record_id());
    r.set_status(e.status());
    r.set_enrollment_id(e.enrollment_id());
    r.set_plan_year(e.plan_year());
    r.set_kind(e.kind());
    *r.mutable_coverage_start() = e.coverage_start();
    *r.mutable_coverage_end() = e.coverage_end();
    r.set_fee_fen(e.fee_fen());
    *r.mutable_application_date() = e.application_date();
  };
  switch (event.body_case()) {
    case v1::Envelope::kEnrollmentAccepted:
      fill(event.enrollment_accepted().enrollment());
      *r.mutable_decision() = event.enrollment_accepted().decision();
      break;
    case v1::Envelope::kEnrollmentPendingReview:
      fill(event.enrollment_pending_review().enrollment());
      *r.mutable_decision() = event.enrollment_pending_review().decision();
      break;
    case v1::Envelope::kEnrollmentRejected: {
      const v1::EnrollmentRejected& x = event.enrollment_rejected();
      r.set_platform_record_id(x.platform_record_id());
      r.set_status(v1::ENROLLMENT_STATUS_REJECTED);
      r.set_plan_year(x.plan_year());
      *r.mutable_application_date() = x.application_date();
      *r.mutable_decision() = x.decision();
      break;
    }
    case v1::Envelope::kEnrollmentRetryAnswered:
      if (held.has_value()) {
        fill(held->enrollment());
        *r.mutable_decision() = held->decision();
      }
      r.set_platform_record_id(event.enrollment_retry_answered().platform_record_id());
      r.set_replayed(true);
      break;
    case v1::Envelope::kEnrollmentReviewDecided:
      fill(event.enrollment_review_decided().enrollment());
      *r.mutable_decision() = event.enrollment_review_decided().decision();
      break;
    default:
      break;
  }
  return r;
}

std::vector<std::string> EnrollmentLogic::ColumnFamilies() const {
  return {kEnrollments, kEnrollmentIds, kRequests, kPhones,  kStatements,
          kByPlatform,  kReview,        kPlatforms, kDeaths};
}

v1::Envelope EnrollmentLogic::Answer(const v1::Envelope& request, const std::string& suffix) const {
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat(request.event_id(), "/", suffix);
  h.worker_key = request.worker_key();
  h.occurred_on = FromProto(request.occurred_on(), "occurred_on").value_or(absl::CivilDay());
  h.recorded_at = events::FromProto(request.recorded_at());
  h.causation_id = request.causation_id();  // the request id the gRPC edge waits on
  h.producer = producer_;
  return events::NewEnvelope(h);
}

absl::Status EnrollmentLogic::Decide(const processor::State& state, const kafka::Message& request,
                                     std::vector<kafka::Record>* out) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(request);
  if (!env.ok()) return env.status();
  if (env->worker_key() != request.key) {
    return absl::InvalidArgumentError("envelope worker key differs from the record key");
  }
  switch (env->body_case()) {
    case v1::Envelope::kEnrollmentRequested:
      return DecideEnrollment(state, *env, out);
    case v1::Envelope::kEnrollmentReviewRequested:
      return DecideReview(state, *env, out);
    case v1::Envelope::kContactPhoneChangeRequested:
      return DecidePhoneChange(state, *env, out);
    case v1::Envelope::kPlatformRegistrationRequested:
      return DecidePlatform(state, *env, out);
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("not an enrollment request: ", events::BodyType(*env)));
  }
}

absl::Status EnrollmentLogic::DecideEnrollment(const processor::State& state,
                                               const v1::Envelope& request,
                                               std::vector<kafka::Record>* out) {
  const v1::EnrollmentRequested& req = request.enrollment_requested();
  if (req.request_id().empty()) return absl::InvalidArgumentError("request_id: required");
  // A resend racing the original: the original's answer serves both.
  auto answered = state.Get(kRequests, req.request_id());
  if (!answered.ok()) return answered.status();
  if (answered->has_value()) return absl::OkStatus();

  absl::StatusOr<absl::CivilDay> received = FromProto(req.application_date(), "application_date");
  if (!received.ok()) return absl::InvalidArgumentError(received.status().message());
  v1::PersonalData person;
  person.set_name(req.record().name());
  person.set_id_number(req.record().id_number());
  person.set_phone(req.record().phone());
  if (req.has_sealed_person()) {
    if (ring_ == nullptr) return absl::InternalError("sealed enrollment request and no key ring");
    absl::StatusOr<v1::PersonalData> opened =
        crypto::OpenPerson(*ring_, request.worker_key(), req.sealed_person());
    if (!opened.ok()) {
      if (Transient(opened.status())) return opened.status();
      return absl::InvalidArgumentError(
          absl::StrCat("sealed_person: ", opened.status().message()));
    }
    person = *std::move(opened);
  }
  plan::EnrollmentRequest pr;
  pr.platform_id = req.platform_id();
  pr.id_number = person.id_number();
  pr.name = person.name();
  pr.phone = person.phone();
  pr.industry = req.record().industry();
  pr.received_on = *received;
  pr.worker_share_fen = req.record().fee_split().worker_fen();

  v1::PersonalData fallback = person;
  if (absl::StatusOr<std::string> n = plan::NormalizeName(person.name()); n.ok()) {
    fallback.set_name(*n);
  }
  absl::StatusOr<plan::WorkerFile> file =
      LoadWorkerFile(state, request.worker_key(), ring_, fallback);
  if (!file.ok()) return file.status();
  plan::EnrollmentContext ctx;
  auto platform = state.Get(kPlatforms, req.platform_id());
  if (!platform.ok()) return platform.status();
  ctx.platform_registered = platform->has_value();
  const int plan_year = plan::CoverageFor(*received).plan_year;
  if (absl::StatusOr<std::string> phone = plan::NormalizePhone(pr.phone); phone.ok()) {
    auto usage = Read<v1::PhoneUsageState>(state, kPhones,
                                           PhoneUsageKey(plan_year, req.phone_key(), *phone));
    if (!usage.ok()) return usage.status();
    ctx.phone_usage.plan_year = plan_year;
    ctx.phone_usage.phone = *phone;
    if (usage->has_value()) {
      for (const std::string& id : (*usage)->id_numbers()) ctx.phone_usage.id_numbers.push_back(id);
      // Worker keys stand for the other workers; this worker counts as itself.
      for (const std::string& wk : (*usage)->worker_keys()) {
        ctx.phone_usage.id_numbers.push_back(
            wk == request.worker_key() ? plan::NormalizeIdNumberText(pr.id_number) : wk);
      }
    }
  }

  const plan::EnrollmentDecision d = plan::DecideEnrollment(book_, pr, *file, ctx);
  v1::Envelope answer = Answer(request, "decided");
  answer.set_rule_set_version(d.rule_set_version);
  if (d.retry) {
    v1::EnrollmentRetryAnswered* x = answer.mutable_enrollment_retry_answered();
    x->set_request_id(req.request_id());
    x->set_platform_id(req.platform_id());
    x->set_platform_record_id(req.record().platform_record_id());
    x->set_enrollment_id(EnrollmentIdFor(request.worker_key(), d.plan_year));
    *x->mutable_application_date() = req.application_date();
  } else if (d.outcome == plan::EnrollmentOutcome::kRejected) {
    v1::EnrollmentRejected* x = answer.mutable_enrollment_rejected();
    x->set_request_id(req.request_id());
    x->set_platform_id(req.platform_id());
    x->set_platform_record_id(req.record().platform_record_id());
    *x->mutable_application_date() = req.application_date();
    *x->mutable_decision() = events::ToDecisionRecord(d);
    x->set_plan_year(d.plan_year);
  } else if (d.outcome == plan::EnrollmentOutcome::kPendingReview) {
    absl::StatusOr<v1::Enrollment> e = ToEnrollment(d, req, request.worker_key(), ring_);
    if (!e.ok()) return e.status();
    v1::EnrollmentPendingReview* x = answer.mutable_enrollment_pending_review();
    *x->mutable_enrollment() = *std::move(e);
    *x->mutable_decision() = events::ToDecisionRecord(d);
  } else {
    absl::StatusOr<v1::Enrollment> e = ToEnrollment(d, req, request.worker_key(), ring_);
    if (!e.ok()) return e.status();
    v1::EnrollmentAccepted* x = answer.mutable_enrollment_accepted();
    *x->mutable_enrollment() = *std::move(e);
    *x->mutable_decision() = events::ToDecisionRecord(d);
    x->set_approved_by("auto");
  }
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status EnrollmentLogic::DecideReview(const processor::State& state,
                                           const v1::Envelope& request,
                                           std::vector<kafka::Record>* out) {
  const v1::EnrollmentReviewRequested& req = request.enrollment_review_requested();
  auto key = state.Get(kEnrollmentIds, req.enrollment_id());
  if (!key.ok()) return key.status();
  if (!key->has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("enrollment_id: unknown ", req.enrollment_id()));
  }
  auto held = Read<v1::HeldEnrollment>(state, kEnrollments, **key);
  if (!held.ok()) return held.status();
  if (!held->has_value() ||
      (*held)->enrollment().status() != v1::ENROLLMENT_STATUS_PENDING_REVIEW) {
    // Decided meanwhile (two reviewers at once): nothing to do. The second
    // reviewer's call times out and re-reads the enrollment.
    return absl::OkStatus();
  }
  v1::Envelope answer = Answer(request, "reviewed");
  answer.set_rule_set_version((*held)->decision().rule_set_version());
  v1::EnrollmentReviewDecided* x = answer.mutable_enrollment_review_decided();
  *x->mutable_enrollment() = (*held)->enrollment();
  x->mutable_enrollment()->set_status(req.approve() ? v1::ENROLLMENT_STATUS_ACCEPTED
                                                    : v1::ENROLLMENT_STATUS_REJECTED);
  x->set_approved(req.approve());
  x->set_reviewer(req.reviewer());
  x->set_reason(req.reason());
  *x->mutable_decided_at() = req.decided_at();
  *x->mutable_decision() = (*held)->decision();
  x->mutable_decision()->add_clauses("§二(二)");
  if (!req.approve()) x->mutable_decision()->add_reasons(v1::REASON_CODE_REVIEWER_REJECTED);
  x->mutable_decision()->set_detail(req.reason());
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status EnrollmentLogic::DecidePhoneChange(const processor::State& state,
                                                const v1::Envelope& request,
                                                std::vector<kafka::Record>* out) {
  const v1::ContactPhoneChangeRequested& req = request.contact_phone_change_requested();
  std::string new_phone = req.new_phone();
  if (req.has_sealed_new_phone()) {
    if (ring_ == nullptr) return absl::InternalError("sealed phone change and no key ring");
    absl::StatusOr<std::string> opened =
        crypto::OpenField(*ring_, request.worker_key(), crypto::kFieldPhone, req.sealed_new_phone());
    if (!opened.ok()) {
      if (Transient(opened.status())) return opened.status();
      return absl::InvalidArgumentError(
          absl::StrCat("sealed_new_phone: ", opened.status().message()));
    }
    new_phone = *std::move(opened);
  }
  absl::StatusOr<std::string> phone = plan::NormalizePhone(new_phone);
  if (!phone.ok()) return absl::InvalidArgumentError("new_phone: not a mainland mobile number");
  auto key = state.Get(kEnrollmentIds, req.enrollment_id());
  if (!key.ok()) return key.status();
  if (!key->has_value()) return absl::InvalidArgumentError("enrollment_id: unknown");
  auto held = Read<v1::HeldEnrollment>(state, kEnrollments, **key);
  if (!held.ok()) return held.status();
  if (!held->has_value() || (*held)->enrollment().platform_id() != req.platform_id()) {
    return absl::InvalidArgumentError("enrollment_id: not this platform's worker");
  }
  v1::Envelope answer = Answer(request, "phone");
  v1::ContactPhoneChanged* x = answer.mutable_contact_phone_changed();
  x->set_enrollment_id(req.enrollment_id());
  x->set_platform_id(req.platform_id());
  const v1::Enrollment& e = (*held)->enrollment();
  if (e.has_sealed_person()) {
    if (ring_ == nullptr) return absl::InternalError("sealed enrollment in state and no key ring");
    absl::StatusOr<v1::PersonalData> person =
        crypto::OpenPerson(*ring_, request.worker_key(), e.sealed_person());
    if (!person.ok()) {
      if (Transient(person.status())) return person.status();
      return absl::InvalidArgumentError(absl::StrCat("enrollment_id: ", person.status().message()));
    }
    person->set_phone(*phone);
    absl::StatusOr<v1::SealedPersonalData> sealed =
        crypto::SealPerson(*ring_, request.worker_key(), *person);
    if (!sealed.ok()) return sealed.status();
    *x->mutable_sealed_person() = *std::move(sealed);
    x->set_phone_key(req.phone_key());
  } else {
    *x->mutable_person() = e.person();
    x->mutable_person()->set_phone(*phone);
  }
  x->set_caller(req.caller());
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status EnrollmentLogic::DecidePlatform(const processor::State&, const v1::Envelope& request,
                                             std::vector<kafka::Record>* out) {
  const v1::PlatformRegistrationRequested& req = request.platform_registration_requested();
  if (std::string why = PlatformIdOk(req.platform().platform_id()); !why.empty()) {
    return absl::InvalidArgumentError(why);
  }
  v1::Envelope answer = Answer(request, "platform");
  v1::PlatformRegistered* x = answer.mutable_platform_registered();
  *x->mutable_platform() = req.platform();
  x->set_caller(req.caller());
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status EnrollmentLogic::Apply(processor::State& state, const kafka::Message& message) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(message);
  if (!env.ok()) return env.status();
  const std::string& wk = env->worker_key();

  // Holds a decided enrollment: the worker's record, the indexes, the answer.
  auto hold = [&](const v1::Enrollment& e, const v1::DecisionRecord& decision,
                  const std::string& approved_by) {
    v1::HeldEnrollment held;
    *held.mutable_enrollment() = e;
    *held.mutable_decision() = decision;
    held.set_approved_by(approved_by);
    const std::string key = EnrollmentKey(wk, e.plan_year());
    state.Put(kEnrollments, key, held.SerializeAsString());
    state.Put(kEnrollmentIds, e.enrollment_id(), key);
    state.Put(kByPlatform,
              store::KeyBuilder()
                  .Text(e.platform_id())
                  .Int64(MonthOf(e.application_date()))
                  .Text(e.enrollment_id())
                  .Build(),
              "");
  };
  auto count_phone = [&](const v1::Enrollment& e) -> absl::Status {
    const std::string key = PhoneUsageKey(e.plan_year(), e.phone_key(), e.person().phone());
    auto usage = Read<v1::PhoneUsageState>(state, kPhones, key);
    if (!usage.ok()) return usage.status();
    v1::PhoneUsageState u = usage->value_or(v1::PhoneUsageState());
    if (e.has_sealed_person()) {
      for (const std::string& k : u.worker_keys()) {
        if (k == wk) return absl::OkStatus();
      }
      u.add_worker_keys(wk);
      state.Put(kPhones, key, u.SerializeAsString());
      return absl::OkStatus();
    }
    for (const std::string& id : u.id_numbers()) {
      if (id == e.person().id_number()) return absl::OkStatus();
    }
    u.add_id_numbers(e.person().id_number());
    state.Put(kPhones, key, u.SerializeAsString());
    return absl::OkStatus();
  };
  auto bill = [&](const v1::Enrollment& e) -> absl::Status {
    const std::string key = store::KeyBuilder()
                                .Text(e.platform_id())
                                .Int64(MonthOf(e.application_date()))
                                .Int64(e.kind())
                                .Build();
    auto line = Read<v1::StatementLine>(state, kStatements, key);
    if (!line.ok()) return line.status();
    v1::StatementLine l = line->value_or(v1::StatementLine());
    l.set_kind(e.kind());
    l.set_approved_count(l.approved_count() + 1);
    l.set_fee_fen(l.fee_fen() + e.fee_fen());
    l.set_platform_fen(l.platform_fen() + e.fee_split().platform_fen());
    l.set_worker_fen(l.worker_fen() + e.fee_split().worker_fen());
    state.Put(kStatements, key, l.SerializeAsString());
    return absl::OkStatus();
  };
  auto answer = [&](const std::string& request_id, const v1::EnrollmentResult& result) {
    state.Put(kRequests, request_id, result.SerializeAsString());
  };

  switch (env->body_case()) {
    case v1::Envelope::kEnrollmentAccepted: {
      const auto& x = env->enrollment_accepted();
      hold(x.enrollment(), x.decision(), x.approved_by());
      if (absl::Status s = count_phone(x.enrollment()); !s.ok()) return s;
      if (absl::Status s = bill(x.enrollment()); !s.ok()) return s;
      answer(x.enrollment().request_id(), ResultOf(*env));
      return absl::OkStatus();
    }
    case v1::Envelope::kEnrollmentPendingReview: {
      const auto& x = env->enrollment_pending_review();
      hold(x.enrollment(), x.decision(), "");
      if (absl::Status s = count_phone(x.enrollment()); !s.ok()) return s;
      state.Put(kReview, x.enrollment().enrollment_id(), "");
      answer(x.enrollment().request_id(), ResultOf(*env));
      return absl::OkStatus();
    }
    case v1::Envelope::kEnrollmentRejected:
      answer(env->enrollment_rejected().request_id(), ResultOf(*env));
      return absl::OkStatus();
    case v1::Envelope::kEnrollmentRetryAnswered: {
      const auto& x = env->enrollment_retry_answered();
      auto key = state.Get(kEnrollmentIds, x.enrollment_id());
      if (!key.ok()) return key.status();
      std::optional<v1::HeldEnrollment> held;
      if (key->has_value()) {
        auto h = Read<v1::HeldEnrollment>(state, kEnrollments, **key);
        if (!h.ok()) return h.status();
        held = *h;
      }
      answer(x.request_id(), ResultOf(*env, held));
      return absl::OkStatus();
    }
    case v1::Envelope::kEnrollmentReviewDecided: {
      const auto& x = env->enrollment_review_decided();
      auto key = state.Get(kEnrollmentIds, x.enrollment().enrollment_id());
      if (!key.ok()) return key.status();
      // An enrollment this state does not hold reads as none (a default
      // StatusOr is an UNKNOWN error, which would stop the processor).
      absl::StatusOr<std::optional<v1::HeldEnrollment>> held = std::optional<v1::HeldEnrollment>();
      if (key->has_value()) held = Read<v1::HeldEnrollment>(state, kEnrollments, **key);
      if (!held.ok()) return held.status();
      v1::DecisionRecord first = held->has_value() ? (*held)->decision() : x.decision();
      hold(x.enrollment(), first, x.approved() ? x.reviewer() : "");
      state.Delete(kReview, x.enrollment().enrollment_id());
      if (x.approved()) {
        if (absl::Status s = bill(x.enrollment()); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case v1::Envelope::kContactPhoneChanged: {
      const auto& x = env->contact_phone_changed();
      auto key = state.Get(kEnrollmentIds, x.enrollment_id());
      if (!key.ok()) return key.status();
      if (!key->has_value()) return absl::InvalidArgumentError("phone change of an unknown enrollment");
      auto held = Read<v1::HeldEnrollment>(state, kEnrollments, **key);
      if (!held.ok()) return held.status();
      if (!held->has_value()) return absl::InvalidArgumentError("phone change of an unknown enrollment");
      v1::HeldEnrollment h = **held;
      if (x.has_sealed_person()) {
        *h.mutable_enrollment()->mutable_sealed_person() = x.sealed_person();
        h.mutable_enrollment()->clear_person();
        h.mutable_enrollment()->set_phone_key(x.phone_key());
      } else {
        h.mutable_enrollment()->mutable_person()->set_phone(x.person().phone());
      }
      state.Put(kEnrollments, **key, h.SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Envelope::kPlatformRegistered:
      state.Put(kPlatforms, env->platform_registered().platform().platform_id(),
                env->platform_registered().platform().SerializeAsString());
      return absl::OkStatus();
    case v1::Envelope::kClaimDecided:
    case v1::Envelope::kClaimInvestigationDecided: {
      // §5.7: an approved death claim ends the worker's enrolling.
      const v1::ClaimDecision& c = env->body_case() == v1::Envelope::kClaimDecided
                                       ? env->claim_decided().claim()
                                       : env->claim_investigation_decided().claim();
      const bool death = c.benefit() == v1::BENEFIT_ILLNESS_DEATH ||
                         c.benefit() == v1::BENEFIT_ACCIDENTAL_DEATH;
      if (death && c.status() == v1::CLAIM_STATUS_APPROVED) {
        v1::DeathState d;
        *d.mutable_died_on() = c.facts().died_on();
        d.set_claim_id(c.claim_id());
        state.Put(kDeaths, wk, d.SerializeAsString());
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();  // other services' events this one does not need
  }
}

}  // namespace mutualaid::enrollment

#include "mutualaid/events/claims_convert.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "mutualaid/events/convert.h"

namespace mutualaid::events {
namespace {

// The proto value named `prefix` + `name`, or the enum's 0 (UNSPECIFIED).
template <typename E>
E ByName(const std::string& prefix, std::string_view name) {
  const google::protobuf::EnumDescriptor* d = google::protobuf::GetEnumDescriptor<E>();
  const google::protobuf::EnumValueDescriptor* v = d->FindValueByName(prefix + std::string(name));
  return static_cast<E>(v == nullptr ? 0 : v->number());
}

// The suffix of a proto value's name after `prefix`, "" when unknown.
template <typename E>
std::string NameOf(const std::string& prefix, E value) {
  const google::protobuf::EnumDescriptor* d = google::protobuf::GetEnumDescriptor<E>();
  const google::protobuf::EnumValueDescriptor* v = d->FindValueByNumber(static_cast<int>(value));
  if (v == nullptr || !absl::StartsWith(v->name(), prefix)) return "";
  return std::string(v->name().substr(prefix.size()));
}

constexpr char kBenefit[] = "BENEFIT_";
constexpr char kCause[] = "CAUSE_";
constexpr char kHospital[] = "HOSPITAL_KIND_";
constexpr char kCategory[] = "CRITICAL_ILLNESS_CATEGORY_";
constexpr char kClaimant[] = "CLAIMANT_";
constexpr char kPayee[] = "PAYEE_KIND_";

// Reads a required date fact.
absl::Status NeedDate(const v1::Date& date, const char* field, absl::CivilDay* out) {
  if (!IsSet(date)) return absl::InvalidArgumentError(absl::StrCat("facts.", field, ": required"));
  absl::StatusOr<absl::CivilDay> day = FromProto(date, absl::StrCat("facts.", field));
  if (!day.ok()) return day.status();
  *out = *day;
  return absl::OkStatus();
}

absl::Status NeedBool(bool has, bool value, const char* field, bool* out) {
  if (!has) return absl::InvalidArgumentError(absl::StrCat("facts.", field, ": required (true or false)"));
  *out = value;
  return absl::OkStatus();
}

}  // namespace

v1::Benefit ToProto(plan::Benefit benefit) { return ByName<v1::Benefit>(kBenefit, plan::ToString(benefit)); }
std::optional<plan::Benefit> ToPlan(v1::Benefit benefit) {
  return plan::ParseBenefit(NameOf(kBenefit, benefit));
}
v1::Cause ToProto(plan::Cause cause) { return ByName<v1::Cause>(kCause, plan::ToString(cause)); }
std::optional<plan::Cause> ToPlan(v1::Cause cause) { return plan::ParseCause(NameOf(kCause, cause)); }
v1::HospitalKind ToProto(plan::Hospital hospital) {
  return ByName<v1::HospitalKind>(kHospital, plan::ToString(hospital));
}
std::optional<plan::Hospital> ToPlan(v1::HospitalKind hospital) {
  return plan::ParseHospital(NameOf(kHospital, hospital));
}
v1::CriticalIllnessCategory ToProto(plan::CriticalIllnessCategory category) {
  return ByName<v1::CriticalIllnessCategory>(kCategory, plan::ToString(category));
}
std::optional<plan::CriticalIllnessCategory> ToPlan(v1::CriticalIllnessCategory category) {
  return plan::ParseCriticalIllnessCategory(NameOf(kCategory, category));
}
v1::Claimant ToProto(plan::Claimant claimant) {
  return ByName<v1::Claimant>(kClaimant, plan::ToString(claimant));
}
std::optional<plan::Claimant> ToPlan(v1::Claimant claimant) {
  return plan::ParseClaimant(NameOf(kClaimant, claimant));
}
v1::PayeeKind ToProto(plan::Payee payee) { return ByName<v1::PayeeKind>(kPayee, plan::ToString(payee)); }

std::string BenefitName(v1::Benefit benefit) { return NameOf(kBenefit, benefit); }
std::string ClaimStatusName(v1::ClaimStatus status) { return NameOf("CLAIM_STATUS_", status); }

absl::StatusOr<plan::ClaimRequest> ToClaimRequest(const std::string& claim_id,
                                                  const v1::ClaimFacts& f,
                                                  absl::CivilDay received_on, plan::Site site) {
  plan::ClaimRequest r;
  r.claim_id = claim_id;
  r.received_on = received_on;
  r.site = site;
  std::optional<plan::Benefit> benefit = ToPlan(f.benefit());
  if (!benefit.has_value()) return absl::InvalidArgumentError("facts.benefit: required");
  r.benefit = *benefit;
  std::optional<plan::Claimant> claimant = ToPlan(f.claimant());
  if (!claimant.has_value()) {
    return absl::InvalidArgumentError("facts.claimant: required (WORKER or PLATFORM)");
  }
  r.claimant = *claimant;
  auto hospital = [&]() -> absl::Status {
    std::optional<plan::Hospital> h = ToPlan(f.hospital());
    if (!h.has_value()) return absl::InvalidArgumentError("facts.hospital: required");
    r.hospital = *h;
    return absl::OkStatus();
  };
  auto category = [&]() -> absl::Status {
    std::optional<plan::CriticalIllnessCategory> c = ToPlan(f.category());
    if (!c.has_value()) return absl::InvalidArgumentError("facts.category: required");
    r.category = *c;
    return absl::OkStatus();
  };
  auto accident = [&]() -> absl::Status {
    if (f.accident_id().empty() || f.accident_id().size() > 64) {
      return absl::InvalidArgumentError("facts.accident_id: required, 1-64 characters");
    }
    r.accident_id = f.accident_id();
    if (absl::Status s = NeedDate(f.accident_on(), "accident_on", &r.accident_on); !s.ok()) return s;
    return NeedBool(f.has_in_shanghai(), f.in_shanghai(), "in_shanghai", &r.in_shanghai);
  };
  absl::Status s = absl::OkStatus();
  auto step = [&s](absl::Status next) {
    if (s.ok()) s = std::move(next);
  };
  switch (r.benefit) {
    case plan::Benefit::kHospitalAllowance: {
      std::optional<plan::Cause> cause = ToPlan(f.cause());
      if (!cause.has_value()) return absl::InvalidArgumentError("facts.cause: required");
      r.cause = *cause;
      step(hospital());
      step(NeedDate(f.admission(), "admission", &r.admission));
      step(NeedDate(f.discharge(), "discharge", &r.discharge));
      break;
    }
    case plan::Benefit::kCriticalIllness:
      step(category());
      step(hospital());
      step(NeedDate(f.diagnosed_on(), "diagnosed_on", &r.diagnosed_on));
      step(NeedBool(f.has_hospitalized(), f.hospitalized(), "hospitalized", &r.hospitalized));
      break;
    case plan::Benefit::kCovid19:
      step(hospital());
      step(NeedDate(f.diagnosed_on(), "diagnosed_on", &r.diagnosed_on));
      break;
    case plan::Benefit::kCriticalIllnessSubsidy:
      step(category());
      step(hospital());
      step(NeedDate(f.admission(), "admission", &r.admission));
      step(NeedDate(f.discharge(), "discharge", &r.discharge));
      if (s.ok() && (!f.has_out_of_pocket_fen() || f.out_of_pocket_fen() < 0)) {
        s = absl::InvalidArgumentError("facts.out_of_pocket_fen: required, not negative");
      }
      r.out_of_pocket_fen = f.out_of_pocket_fen();
      break;
    case plan::Benefit::kIllnessDeath:
      step(NeedDate(f.died_on(), "died_on", &r.died_on));
      step(NeedBool(f.has_in_shanghai(), f.in_shanghai(), "in_shanghai", &r.in_shanghai));
      break;
    case plan::Benefit::kAccidentalDeath:
      step(accident());
      step(NeedDate(f.died_on(), "died_on", &r.died_on));
      break;
    case plan::Benefit::kAccidentalDisability:
      step(accident());
      step(NeedDate(f.assessed_on(), "assessed_on", &r.assessed_on));
      if (s.ok() && (f.grade() < 1 || f.grade() > 10)) {
        s = absl::InvalidArgumentError("facts.grade: a disability grade 1-10");
      }
      r.grade = f.grade();
      break;
    case plan::Benefit::kAccidentConsolation:
      step(accident());
      step(NeedBool(f.has_meets_criteria(), f.meets_criteria(), "meets_criteria",
                    &r.meets_criteria));
      break;
  }
  if (!s.ok()) return s;
  return r;
}

v1::ClaimFacts ToFacts(const plan::ClaimRequest& r) {
  v1::ClaimFacts f;
  f.set_benefit(ToProto(r.benefit));
  f.set_claimant(ToProto(r.claimant));
  auto accident = [&] {
    f.set_accident_id(r.accident_id);
    *f.mutable_accident_on() = ToProto(r.accident_on);
    f.set_in_shanghai(r.in_shanghai);
  };
  switch (r.benefit) {
    case plan::Benefit::kHospitalAllowance:
      f.set_cause(ToProto(r.cause));
      f.set_hospital(ToProto(r.hospital));
      *f.mutable_admission() = ToProto(r.admission);
      *f.mutable_discharge() = ToProto(r.discharge);
      break;
    case plan::Benefit::kCriticalIllness:
      f.set_category(ToProto(r.category));
      f.set_hospital(ToProto(r.hospital));
      *f.mutable_diagnosed_on() = ToProto(r.diagnosed_on);
      f.set_hospitalized(r.hospitalized);
      break;
    case plan::Benefit::kCovid19:
      f.set_hospital(ToProto(r.hospital));
      *f.mutable_diagnosed_on() = ToProto(r.diagnosed_on);
      break;
    case plan::Benefit::kCriticalIllnessSubsidy:
      f.set_category(ToProto(r.category));
      f.set_hospital(ToProto(r.hospital));
      *f.mutable_admission() = ToProto(r.admission);
      *f.mutable_discharge() = ToProto(r.discharge);
      f.set_out_of_pocket_fen(r.out_of_pocket_fen);
      break;
    case plan::Benefit::kIllnessDeath:
      *f.mutable_died_on() = ToProto(r.died_on);
      f.set_in_shanghai(r.in_shanghai);
      break;
    case plan::Benefit::kAccidentalDeath:
      accident();
      *f.mutable_died_on() = ToProto(r.died_on);
      break;
    case plan::Benefit::kAccidentalDisability:
      accident();
      *f.mutable_assessed_on() = ToProto(r.assessed_on);
      f.set_grade(r.grade);
      break;
    case plan::Benefit::kAccidentConsolation:
      accident();
      f.set_meets_criteria(r.meets_criteria);
      break;
  }
  return f;
}

v1::ClaimDecision ToClaimDecision(const plan::ClaimDecision& d, const plan::ClaimRequest& r) {
  v1::ClaimDecision c;
  const bool approved = d.outcome == plan::ClaimOutcome::kApproved;
  c.set_claim_id(d.claim_id);
  c.set_status(approved ? v1::CLAIM_STATUS_APPROVED : v1::CLAIM_STATUS_DENIED);
  c.set_benefit(ToProto(d.benefit));
  c.set_plan_year(d.plan_year);
  c.set_amount_fen(d.amount_fen);
  c.set_capped(d.capped);
  if (approved) c.set_payee(ToProto(d.payee));
  *c.mutable_received_on() = ToProto(r.received_on);
  *c.mutable_due_by() = ToProto(d.due_by);
  v1::DecisionRecord* rec = c.mutable_decision();
  rec->set_rule_set_version(d.rule_set_version);
  rec->set_amount_fen(d.amount_fen);
  rec->set_capped(d.capped);
  for (plan::Reason reason : d.reasons) rec->add_reasons(ToProto(reason));
  for (const std::string& clause : d.clauses) rec->add_clauses(clause);
  *c.mutable_facts() = ToFacts(r);
  c.set_site(std::string(plan::ToString(r.site)));
  c.set_hospital_days_paid(d.hospital_days_paid);
  for (const plan::DayRange& range : d.hospital_days) {
    v1::DayRange* out = c.add_hospital_days();
    *out->mutable_from() = ToProto(range.from);
    *out->mutable_until() = ToProto(range.until);
  }
  return c;
}

absl::StatusOr<plan::ClaimDecision> ToPlanDecision(const v1::ClaimDecision& c) {
  plan::ClaimDecision d;
  d.claim_id = c.claim_id();
  std::optional<plan::Benefit> benefit = ToPlan(c.benefit());
  if (!benefit.has_value()) return absl::InvalidArgumentError("claim.benefit: unknown");
  d.benefit = *benefit;
  // The rules' outcome: an approval stays one while investigated or paid; a
  // denial after investigation is a denial.
  d.outcome = c.status() == v1::CLAIM_STATUS_DENIED ? plan::ClaimOutcome::kDenied
                                                    : plan::ClaimOutcome::kApproved;
  d.amount_fen = c.amount_fen();
  d.plan_year = c.plan_year();
  d.capped = c.capped();
  d.payee = c.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT ? plan::Payee::kPlatformAccount
                                                         : plan::Payee::kWorkerCard;
  if (d.payee == plan::Payee::kPlatformAccount) d.payee_platform_id = c.platform_id();
  if (IsSet(c.due_by())) {
    absl::StatusOr<absl::CivilDay> due = FromProto(c.due_by(), "claim.due_by");
    if (!due.ok()) return due.status();
    d.due_by = *due;
  }
  for (int code : c.decision().reasons()) {
    if (auto reason = ToPlanReason(static_cast<v1::ReasonCode>(code))) d.reasons.push_back(*reason);
  }
  for (const std::string& clause : c.decision().clauses()) d.clauses.push_back(clause);
  d.rule_set_version = c.decision().rule_set_version();
  d.hospital_days_paid = c.hospital_days_paid();
  for (const v1::DayRange& range : c.hospital_days()) {
    absl::StatusOr<absl::CivilDay> from = FromProto(range.from(), "claim.hospital_days.from");
    absl::StatusOr<absl::CivilDay> until = FromProto(range.until(), "claim.hospital_days.until");
    if (!from.ok()) return from.status();
    if (!until.ok()) return until.status();
    d.hospital_days.push_back(plan::DayRange{*from, *until});
  }
  return d;
}

absl::StatusOr<plan::ClaimRecord> ToClaimRecord(const v1::ClaimDecision& c) {
  absl::StatusOr<absl::CivilDay> received = FromProto(c.received_on(), "claim.received_on");
  if (!received.ok()) return received.status();
  const plan::Site site = plan::ParseSite(c.site()).value_or(plan::Site::kHall);
  absl::StatusOr<plan::ClaimRequest> request = ToClaimRequest(c.claim_id(), c.facts(), *received, site);
  if (!request.ok()) return request.status();
  absl::StatusOr<plan::ClaimDecision> decision = ToPlanDecision(c);
  if (!decision.ok()) return decision.status();
  plan::ClaimRecord record;
  record.request = *std::move(request);
  record.decision = *std::move(decision);
  switch (c.status()) {
    case v1::CLAIM_STATUS_APPROVED:
    case v1::CLAIM_STATUS_PAID:
      record.status = plan::ClaimStatus::kApproved;
      break;
    case v1::CLAIM_STATUS_INVESTIGATING:
      record.status = plan::ClaimStatus::kAwaitingInvestigation;
      break;
    default:
      record.status = plan::ClaimStatus::kDenied;
  }
  return record;
}

absl::StatusOr<plan::EnrollmentRecord> ToPlanEnrollment(const v1::HeldEnrollment& held) {
  const v1::Enrollment& e = held.enrollment();
  plan::EnrollmentRecord r;
  plan::EnrollmentDecision& d = r.decision;
  d.outcome = e.status() == v1::ENROLLMENT_STATUS_PENDING_REVIEW
                  ? plan::EnrollmentOutcome::kPendingReview
                  : plan::EnrollmentOutcome::kAccepted;
  d.plan_year = e.plan_year();
  d.kind = ToPlan(e.kind());
  absl::StatusOr<absl::CivilDay> start = FromProto(e.coverage_start(), "coverage_start");
  absl::StatusOr<absl::CivilDay> end = FromProto(e.coverage_end(), "coverage_end");
  absl::StatusOr<absl::CivilDay> received = FromProto(e.application_date(), "application_date");
  if (!start.ok()) return start.status();
  if (!end.ok()) return end.status();
  if (!received.ok()) return received.status();
  d.coverage_start = *start;
  d.coverage_end = *end;
  d.received_on = *received;
  d.fee_fen = e.fee_fen();
  d.platform_share_fen = e.fee_split().platform_fen();
  d.worker_share_fen = e.fee_split().worker_fen();
  d.rule_set_version = held.decision().rule_set_version();
  d.platform_id = e.platform_id();
  d.id_number = e.person().id_number();
  d.name = e.person().name();
  d.phone = e.person().phone();
  d.industry = ToPlan(e.industry()).value_or(plan::Industry::kOther);
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

bool IsValidCardNumber(const std::string& number) {
  if (number.size() < 16 || number.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = number.rbegin(); it != number.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int digit = *it - '0';
    if (twice) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    twice = !twice;
  }
  return sum % 10 == 0;
}

}  // namespace mutualaid::events

#include "mutualaid/plan/enrollment.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/claims.h"
#include "mutualaid/plan/validation.h"

namespace mutualaid::plan {
namespace {

bool Contains(const std::vector<Industry>& industries, Industry industry) {
  return std::find(industries.begin(), industries.end(), industry) != industries.end();
}

// The clause a rejection rests on.
std::string_view ClauseOf(Reason reason) {
  switch (reason) {
    case Reason::kUnknownPlatform:
    case Reason::kInvalidIdNumber:
    case Reason::kInvalidName:
    case Reason::kInvalidPhone:
      return "§二(一)";
    case Reason::kAge60OrOver:
    case Reason::kAgeBelow16:
    case Reason::kUnsupportedIndustry:
      return "§一";
    case Reason::kDuplicateInPlanYear:
      return "§二(五)";
    case Reason::kWorkerDeceased:
      return "§五";
    default:
      return "§二";
  }
}

void AddClause(std::vector<std::string>& clauses, std::string_view clause) {
  if (std::find(clauses.begin(), clauses.end(), clause) == clauses.end()) {
    clauses.emplace_back(clause);
  }
}

}  // namespace

const EnrollmentRecord* HeldEnrollment(const WorkerFile& file, int plan_year) {
  for (const EnrollmentRecord& record : file.enrollments) {
    if (record.decision.plan_year == plan_year &&
        record.status != EnrollmentStatus::kRejectedInReview) {
      return &record;
    }
  }
  return nullptr;
}

EnrollmentDecision DecideEnrollment(const PlanBook& book, const EnrollmentRequest& request,
                                    const WorkerFile& file, const EnrollmentContext& context) {
  const CoverageTerms terms = CoverageFor(request.received_on);
  const PlanData& plan = book.ForPlanYear(terms.plan_year);

  const absl::StatusOr<IdNumber> id = ParseIdNumber(request.id_number, request.received_on);
  const EnrollmentRecord* held = id.ok() ? HeldEnrollment(file, terms.plan_year) : nullptr;

  // §二(五): the platform that holds the worker's enrollment this plan year
  // sent the record again — not a new enrollment; answer as before.
  if (held != nullptr && held->decision.platform_id == request.platform_id) {
    EnrollmentDecision original = held->decision;
    original.retry = true;
    return original;
  }

  EnrollmentDecision d;
  d.plan_year = terms.plan_year;
  d.kind = terms.kind;
  d.rule_set_version = plan.rule_set_version;
  d.platform_id = request.platform_id;
  d.id_number = id.ok() ? id->normalized : NormalizeIdNumberText(request.id_number);
  d.received_on = request.received_on;

  std::vector<std::pair<Reason, Field>> faults;
  if (!context.platform_registered) faults.emplace_back(Reason::kUnknownPlatform, Field::kPlatform);
  if (!id.ok()) faults.emplace_back(Reason::kInvalidIdNumber, Field::kIdNumber);

  const absl::StatusOr<std::string> name = NormalizeName(request.name);
  d.name = name.ok() ? *name : request.name;
  if (!name.ok()) faults.emplace_back(Reason::kInvalidName, Field::kName);

  const absl::StatusOr<std::string> phone = NormalizePhone(request.phone);
  d.phone = phone.ok() ? *phone : request.phone;
  if (!phone.ok()) faults.emplace_back(Reason::kInvalidPhone, Field::kPhone);

  if (id.ok()) {
    // §一 未满 60 周岁, and [reading] at least the minimum working age.
    const int age = AgeOn(id->birth_date, request.received_on);
    if (age >= plan.max_age_exclusive) faults.emplace_back(Reason::kAge60OrOver, Field::kIdNumber);
    if (age < plan.min_age) faults.emplace_back(Reason::kAgeBelow16, Field::kIdNumber);
  }

  const std::optional<Industry> industry = ParseIndustry(request.industry);
  if (industry.has_value()) d.industry = *industry;
  const bool industry_ok = industry.has_value() &&
                           (Contains(plan.auto_approved_industries, *industry) ||
                            Contains(plan.review_industries, *industry));
  if (!industry_ok) faults.emplace_back(Reason::kUnsupportedIndustry, Field::kIndustry);

  if (id.ok()) {
    if (DateOfDeath(file).has_value()) faults.emplace_back(Reason::kWorkerDeceased, Field::kIdNumber);
    // §二(五): the first platform to submit holds the plan year.
    if (held != nullptr) faults.emplace_back(Reason::kDuplicateInPlanYear, Field::kIdNumber);
  }

  if (!faults.empty()) {
    d.outcome = EnrollmentOutcome::kRejected;
    d.field = faults.front().second;
    for (const auto& [reason, field] : faults) {
      d.reasons.push_back(reason);
      AddClause(d.clauses, ClauseOf(reason));
    }
    return d;
  }

  // §二 review flags [reading].
  if (Contains(plan.review_industries, *industry)) {
    d.review_flags.push_back(ReviewFlag::kIndustryOther);
  }
  if (plan.review_name_change_across_years) {
    for (const EnrollmentRecord& record : file.enrollments) {
      if (record.status != EnrollmentStatus::kRejectedInReview &&
          record.decision.plan_year < terms.plan_year && record.decision.name != d.name) {
        d.review_flags.push_back(ReviewFlag::kNameDiffersFromEarlierYear);
        break;
      }
    }
  }
  if (context.phone_usage.plan_year == terms.plan_year && context.phone_usage.phone == d.phone) {
    const auto& ids = context.phone_usage.id_numbers;
    const int64_t others = static_cast<int64_t>(ids.size()) -
                           (std::find(ids.begin(), ids.end(), d.id_number) != ids.end() ? 1 : 0);
    if (others + 1 > plan.max_workers_per_phone) d.review_flags.push_back(ReviewFlag::kSharedPhone);
  }

  d.review = !d.review_flags.empty();
  d.outcome = d.review ? EnrollmentOutcome::kPendingReview : EnrollmentOutcome::kAccepted;
  d.coverage_start = terms.start;
  d.coverage_end = terms.end;
  d.fee_fen = FeeFor(plan, request.received_on);
  // §四(二): the platform pays what the worker does not.
  d.worker_share_fen = std::clamp<int64_t>(request.worker_share_fen, 0, d.fee_fen);
  d.platform_share_fen = d.fee_fen - d.worker_share_fen;
  AddClause(d.clauses, terms.kind == EnrollmentKind::kConcentrated ? "§三(一)" : "§三(二)");
  AddClause(d.clauses, "§四(一)");
  if (d.review) AddClause(d.clauses, "§二(二)");
  return d;
}

void ApplyEnrollment(WorkerFile& file, const EnrollmentDecision& decision) {
  if (decision.retry || decision.outcome == EnrollmentOutcome::kRejected) return;
  if (file.id_number.empty()) file.id_number = decision.id_number;
  file.enrollments.push_back(EnrollmentRecord{
      decision, decision.outcome == EnrollmentOutcome::kPendingReview
                    ? EnrollmentStatus::kPendingReview
                    : EnrollmentStatus::kActive});
}

void ApplyEnrollment(PhoneUsage& usage, const EnrollmentDecision& decision) {
  if (decision.retry || decision.outcome == EnrollmentOutcome::kRejected) return;
  if (usage.phone.empty()) {
    usage.plan_year = decision.plan_year;
    usage.phone = decision.phone;
  }
  if (usage.plan_year != decision.plan_year || usage.phone != decision.phone) return;
  auto& ids = usage.id_numbers;
  if (std::find(ids.begin(), ids.end(), decision.id_number) == ids.end()) {
    ids.push_back(decision.id_number);
  }
}

void ApplyEnrollment(PlatformMonthStatement& statement, const EnrollmentDecision& decision) {
  if (decision.retry || decision.outcome != EnrollmentOutcome::kAccepted) return;
  if (statement.platform_id.empty()) {
    statement.platform_id = decision.platform_id;
    statement.year = static_cast<int>(decision.received_on.year());
    statement.month = decision.received_on.month();
  }
  if (statement.platform_id != decision.platform_id ||
      statement.year != decision.received_on.year() ||
      statement.month != decision.received_on.month()) {
    return;
  }
  statement.approved_count += 1;
  statement.fee_total_fen += decision.fee_fen;
  statement.platform_share_fen += decision.platform_share_fen;
  statement.worker_share_fen += decision.worker_share_fen;
}

absl::Status ApplyReviewVerdict(WorkerFile& file, int plan_year, bool approve) {
  for (EnrollmentRecord& record : file.enrollments) {
    if (record.decision.plan_year == plan_year &&
        record.status == EnrollmentStatus::kPendingReview) {
      record.status = approve ? EnrollmentStatus::kActive : EnrollmentStatus::kRejectedInReview;
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("no enrollment pending review in plan year ", plan_year));
}

}  // namespace mutualaid::plan

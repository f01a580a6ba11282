#include "mutualaid/plan/claims.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mutualaid/plan/calendar.h"

namespace mutualaid::plan {
namespace {

// The clause a benefit rests on.
std::string_view BenefitClause(Benefit benefit) {
  switch (benefit) {
    case Benefit::kHospitalAllowance:
      return "§五(一)";
    case Benefit::kCriticalIllness:
    case Benefit::kCovid19:
      return "§五(二)1";
    case Benefit::kCriticalIllnessSubsidy:
      return "§五(二)2";
    case Benefit::kIllnessDeath:
      return "§五(三)";
    case Benefit::kAccidentalDeath:
      return "§五(四)1";
    case Benefit::kAccidentalDisability:
      return "§五(四)2";
    case Benefit::kAccidentConsolation:
      return "§五(四)3";
  }
  return "§五";
}

constexpr std::string_view kPerAccidentClause = "§五(四)4";

// The clause a denial reason rests on, beyond the benefit's own.
std::string_view ReasonClause(Reason reason, Benefit benefit) {
  switch (reason) {
    case Reason::kNotCovered:
      return "§三";
    case Reason::kWaitingPeriod:
      return "§三(三)";
    case Reason::kWorkerDeceased:
      return "§五";
    case Reason::kFilingDeadlinePassed:
      return "§六(二)";
    case Reason::kInvalidClaimant:
      return "§六(一)";
    case Reason::kDuplicateClaim:
      return "§六(三)";
    default:
      return BenefitClause(benefit);
  }
}

// Claims that count: approved, or approved and waiting for investigation.
bool Counts(const ClaimRecord& record) { return record.status != ClaimStatus::kDenied; }

// Sums amounts of counted claims of `benefit` in `plan_year`.
int64_t PaidInPlanYear(const WorkerFile& file, Benefit benefit, int plan_year) {
  int64_t total = 0;
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && record.request.benefit == benefit &&
        record.decision.plan_year == plan_year) {
      total += record.decision.amount_fen;
    }
  }
  return total;
}

int CountInPlanYear(const WorkerFile& file, Benefit benefit, int plan_year) {
  int count = 0;
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && record.request.benefit == benefit &&
        record.decision.plan_year == plan_year) {
      ++count;
    }
  }
  return count;
}

// What counted claims paid for one accident: all three accident benefits, or one.
int64_t PaidForAccident(const WorkerFile& file, std::string_view accident_id,
                        std::optional<Benefit> only = std::nullopt) {
  int64_t total = 0;
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && IsAccidentBenefit(record.request.benefit) &&
        record.request.accident_id == accident_id &&
        (!only.has_value() || record.request.benefit == *only)) {
      total += record.decision.amount_fen;
    }
  }
  return total;
}

bool HasCountedClaim(const WorkerFile& file, Benefit benefit, std::string_view accident_id) {
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && record.request.benefit == benefit &&
        record.request.accident_id == accident_id) {
      return true;
    }
  }
  return false;
}

// §五(四): an accident is identified by its id; a claim naming a known
// accident with another date contradicts the record [reading].
bool ContradictsKnownAccident(const WorkerFile& file, const ClaimRequest& request) {
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && IsAccidentBenefit(record.request.benefit) &&
        record.request.accident_id == request.accident_id &&
        record.request.accident_on != request.accident_on) {
      return true;
    }
  }
  return false;
}

bool HospitalAccepted(const HospitalRule& rule, Hospital hospital) {
  switch (hospital) {
    case Hospital::kDesignatedHospital:
      return rule.designated_hospital;
    case Hospital::kCommunityHealthCenter:
      return rule.community_health_center;
    case Hospital::kOtherHospital:
      return rule.other_hospital;
  }
  return false;
}

// The dates a claim states, each of which must lie on or before the filing date.
std::vector<absl::CivilDay> StatedDates(const ClaimRequest& r) {
  switch (r.benefit) {
    case Benefit::kHospitalAllowance:
    case Benefit::kCriticalIllnessSubsidy:
      return {r.admission, r.discharge};
    case Benefit::kCriticalIllness:
    case Benefit::kCovid19:
      return {r.diagnosed_on};
    case Benefit::kIllnessDeath:
      return {r.died_on};
    case Benefit::kAccidentalDeath:
      return {r.accident_on, r.died_on};
    case Benefit::kAccidentalDisability:
      return {r.accident_on, r.assessed_on};
    case Benefit::kAccidentConsolation:
      return {r.accident_on};
  }
  return {};
}

bool DatesInvalid(const ClaimRequest& r) {
  for (absl::CivilDay day : StatedDates(r)) {
    if (day > r.received_on) return true;  // filed before the event
  }
  switch (r.benefit) {
    case Benefit::kHospitalAllowance:
    case Benefit::kCriticalIllnessSubsidy:
      return r.discharge < r.admission;
    case Benefit::kAccidentalDeath:
      return r.died_on < r.accident_on;
    case Benefit::kAccidentalDisability:
      return r.assessed_on < r.accident_on;
    default:
      return false;
  }
}

// §五(一): the inpatient days a stay pays for before the per-year cap: dates d
// with admission ≤ d < discharge (a same-day stay is 1 day), not after the
// coverage end [reading], not after the date of death (§5.7), not already paid
// by another stay [reading].
std::vector<absl::CivilDay> PayableInpatientDays(const PlanData& plan, const WorkerFile& file,
                                                 const ClaimRequest& r,
                                                 absl::CivilDay coverage_end,
                                                 std::optional<absl::CivilDay> died_on) {
  absl::CivilDay until = r.discharge == r.admission ? r.admission + 1 : r.discharge;
  if (!plan.hospital_pays_days_after_coverage_end) until = std::min(until, coverage_end + 1);
  if (died_on.has_value()) until = std::min(until, *died_on + 1);
  std::vector<absl::CivilDay> days;
  for (absl::CivilDay d = r.admission; d < until; ++d) {
    bool paid = false;
    if (plan.hospital_pays_each_day_once) {
      for (const ClaimRecord& record : file.claims) {
        if (!Counts(record) || record.request.benefit != Benefit::kHospitalAllowance) continue;
        for (const DayRange& range : record.decision.hospital_days) {
          if (range.from <= d && d < range.until) paid = true;
        }
      }
    }
    if (!paid) days.push_back(d);
  }
  return days;
}

std::vector<DayRange> ToRanges(const std::vector<absl::CivilDay>& days) {
  std::vector<DayRange> ranges;
  for (absl::CivilDay d : days) {
    if (!ranges.empty() && ranges.back().until == d) {
      ranges.back().until = d + 1;
    } else {
      ranges.push_back(DayRange{d, d + 1});
    }
  }
  return ranges;
}

// §五(二)2 表一: what one stay's out-of-pocket amount pays (half-open bands).
int64_t SubsidyFor(const PlanData& plan, int64_t out_of_pocket_fen) {
  int64_t pays = 0;
  for (const SubsidyBand& band : plan.subsidy_bands) {
    if (out_of_pocket_fen >= band.from_fen) pays = band.pays_fen;
  }
  return pays;
}

// Builds a decision step by step; Deny/Approve finish it.
class Adjudication {
 public:
  Adjudication(const ClaimRequest& request, ClaimDecision& decision)
      : request_(request), d_(decision) {}

  void Fail(Reason reason) {
    if (std::find(d_.reasons.begin(), d_.reasons.end(), reason) == d_.reasons.end()) {
      d_.reasons.push_back(reason);
    }
  }
  bool failed() const { return !d_.reasons.empty(); }

  void Deny(bool per_accident_cap = false) {
    d_.outcome = ClaimOutcome::kDenied;
    d_.amount_fen = 0;
    d_.capped = false;
    d_.hospital_days_paid = 0;
    d_.hospital_days.clear();
    AddClause(BenefitClause(request_.benefit));
    for (Reason reason : d_.reasons) {
      if (reason == Reason::kBenefitExhausted && per_accident_cap) {
        AddClause(kPerAccidentClause);
      } else {
        AddClause(ReasonClause(reason, request_.benefit));
      }
    }
  }

  void Approve(int64_t amount_fen, bool capped, bool per_accident_cap_applied) {
    d_.outcome = ClaimOutcome::kApproved;
    d_.amount_fen = amount_fen;
    d_.capped = capped;
    AddClause(BenefitClause(request_.benefit));
    if (per_accident_cap_applied) AddClause(kPerAccidentClause);
  }

 private:
  void AddClause(std::string_view clause) {
    if (std::find(d_.clauses.begin(), d_.clauses.end(), clause) == d_.clauses.end()) {
      d_.clauses.emplace_back(clause);
    }
  }

  const ClaimRequest& request_;
  ClaimDecision& d_;
};

}  // namespace

absl::CivilDay EventDate(const ClaimRequest& r) {
  switch (r.benefit) {
    case Benefit::kHospitalAllowance:
    case Benefit::kCriticalIllnessSubsidy:
      return r.admission;
    case Benefit::kCriticalIllness:
    case Benefit::kCovid19:
      return r.diagnosed_on;
    case Benefit::kIllnessDeath:
      return r.died_on;
    case Benefit::kAccidentalDeath:
    case Benefit::kAccidentalDisability:
    case Benefit::kAccidentConsolation:
      return r.accident_on;
  }
  return r.received_on;
}

bool SameEventFacts(const ClaimRequest& a, const ClaimRequest& b) {
  if (a.benefit != b.benefit) return false;
  switch (a.benefit) {
    case Benefit::kHospitalAllowance:
      return a.cause == b.cause && a.hospital == b.hospital && a.admission == b.admission &&
             a.discharge == b.discharge;
    case Benefit::kCriticalIllness:
      return a.category == b.category && a.hospital == b.hospital &&
             a.diagnosed_on == b.diagnosed_on && a.hospitalized == b.hospitalized;
    case Benefit::kCovid19:
      return a.hospital == b.hospital && a.diagnosed_on == b.diagnosed_on;
    case Benefit::kCriticalIllnessSubsidy:
      return a.category == b.category && a.hospital == b.hospital &&
             a.admission == b.admission && a.discharge == b.discharge &&
             a.out_of_pocket_fen == b.out_of_pocket_fen;
    case Benefit::kIllnessDeath:
      return a.died_on == b.died_on && a.in_shanghai == b.in_shanghai;
    case Benefit::kAccidentalDeath:
      return a.accident_id == b.accident_id && a.accident_on == b.accident_on &&
             a.died_on == b.died_on && a.in_shanghai == b.in_shanghai;
    case Benefit::kAccidentalDisability:
      return a.accident_id == b.accident_id && a.accident_on == b.accident_on &&
             a.assessed_on == b.assessed_on && a.grade == b.grade &&
             a.in_shanghai == b.in_shanghai;
    case Benefit::kAccidentConsolation:
      return a.accident_id == b.accident_id && a.accident_on == b.accident_on &&
             a.meets_criteria == b.meets_criteria && a.in_shanghai == b.in_shanghai;
  }
  return false;
}

std::optional<absl::CivilDay> DateOfDeath(const WorkerFile& file) {
  std::optional<absl::CivilDay> died_on;
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && IsDeathBenefit(record.request.benefit) &&
        record.decision.outcome == ClaimOutcome::kApproved) {
      if (!died_on.has_value() || record.request.died_on < *died_on) {
        died_on = record.request.died_on;
      }
    }
  }
  return died_on;
}

const EnrollmentRecord* CoveringEnrollment(const WorkerFile& file, absl::CivilDay date) {
  for (const EnrollmentRecord& record : file.enrollments) {
    if (record.status != EnrollmentStatus::kRejectedInReview &&
        record.decision.coverage_start <= date && date <= record.decision.coverage_end) {
      return &record;
    }
  }
  return nullptr;
}

ClaimDecision DecideClaim(const PlanBook& book, const ClaimRequest& r, const WorkerFile& file) {
  // §七: a retry with the same claim id is not a new claim.
  for (const ClaimRecord& record : file.claims) {
    if (record.request.claim_id == r.claim_id) {
      ClaimDecision original = record.decision;
      original.retry = true;
      return original;
    }
  }

  const absl::CivilDay event = EventDate(r);
  const EnrollmentRecord* cover = CoveringEnrollment(file, event);

  ClaimDecision d;
  d.claim_id = r.claim_id;
  d.benefit = r.benefit;
  d.plan_year = cover != nullptr ? cover->decision.plan_year : PlanYearContaining(event);
  const PlanData& plan = book.ForPlanYear(d.plan_year);
  d.rule_set_version = plan.rule_set_version;
  d.due_by = PaymentDueBy(plan, r.received_on);
  Adjudication a(r, d);

  // §七: the same event already approved (or waiting for investigation).
  // [reading] §五(四)3 names its own answer to a second consolation for one
  // accident (ALREADY_PAID), and a consolation's facts are the accident's, so
  // the specific rule decides it rather than DUPLICATE_CLAIM.
  for (const ClaimRecord& record : file.claims) {
    if (Counts(record) && r.benefit != Benefit::kAccidentConsolation &&
        SameEventFacts(record.request, r)) {
      a.Fail(Reason::kDuplicateClaim);
      a.Deny();
      return d;
    }
  }

  // §六(一): the worker claims for the living, the platform (or employer) for a death.
  const bool death = IsDeathBenefit(r.benefit);
  if (death != (r.claimant == Claimant::kPlatform)) a.Fail(Reason::kInvalidClaimant);
  if (DatesInvalid(r) || (IsAccidentBenefit(r.benefit) && ContradictsKnownAccident(file, r))) {
    a.Fail(Reason::kInvalidDates);
    a.Deny();
    return d;
  }

  // §五(四)1, §5.7: an approved death ends every liability after it.
  const std::optional<absl::CivilDay> died_on = DateOfDeath(file);
  if (died_on.has_value() && event > *died_on) a.Fail(Reason::kWorkerDeceased);

  // §三, §三(三): covered, and past the waiting period.
  if (cover == nullptr) {
    a.Fail(Reason::kNotCovered);
  } else if (event < FirstCoveredDate(plan, r.benefit, cover->decision.kind,
                                      cover->decision.coverage_start)) {
    a.Fail(Reason::kWaitingPeriod);
  }

  // §六(二) filing deadlines.
  if (cover != nullptr || r.benefit == Benefit::kAccidentConsolation ||
      r.benefit == Benefit::kAccidentalDisability) {
    const absl::CivilDay coverage_end =
        cover != nullptr ? cover->decision.coverage_end : absl::CivilDay();
    if (r.received_on > FilingDeadline(plan, r.benefit, coverage_end, r.accident_on)) {
      a.Fail(Reason::kFilingDeadlinePassed);
    }
  }

  // The benefit's own conditions.
  switch (r.benefit) {
    case Benefit::kHospitalAllowance:
      if (r.cause != Cause::kIllness) a.Fail(Reason::kNotIllness);
      if (!HospitalAccepted(plan.hospital_allowance_hospitals, r.hospital)) {
        a.Fail(Reason::kIneligibleHospital);
      }
      break;
    case Benefit::kCriticalIllness:
      if (!HospitalAccepted(plan.critical_illness_hospitals, r.hospital)) {
        a.Fail(Reason::kIneligibleHospital);
      }
      if (!r.hospitalized) a.Fail(Reason::kNotHospitalized);
      break;
    case Benefit::kCovid19:
      if (r.diagnosed_on < plan.epidemic_start || r.diagnosed_on > plan.epidemic_end) {
        a.Fail(Reason::kOutsideEpidemicPeriod);
      }
      if (!HospitalAccepted(plan.covid19_hospitals, r.hospital)) {
        a.Fail(Reason::kIneligibleHospital);
      }
      break;
    case Benefit::kCriticalIllnessSubsidy: {
      if (!HospitalAccepted(plan.subsidy_hospitals, r.hospital)) {
        a.Fail(Reason::kIneligibleHospital);
      }
      bool benefit_approved = false;
      for (const ClaimRecord& record : file.claims) {
        if (Counts(record) && record.request.benefit == Benefit::kCriticalIllness &&
            record.request.category == r.category &&
            (!plan.subsidy_requires_benefit_in_same_plan_year ||
             record.decision.plan_year == d.plan_year)) {
          benefit_approved = true;
        }
      }
      if (!benefit_approved) a.Fail(Reason::kNoCriticalIllnessBenefit);
      if (SubsidyFor(plan, r.out_of_pocket_fen) == 0) a.Fail(Reason::kBelowThreshold);
      break;
    }
    case Benefit::kIllnessDeath:
      if (!r.in_shanghai) a.Fail(Reason::kOutsideShanghai);
      break;
    case Benefit::kAccidentalDeath:
      if (!r.in_shanghai) a.Fail(Reason::kOutsideShanghai);
      if (r.died_on > r.accident_on + plan.accident_window_days) {
        a.Fail(Reason::kDeathAfter180Days);
      }
      break;
    case Benefit::kAccidentalDisability:
      if (!r.in_shanghai) a.Fail(Reason::kOutsideShanghai);
      if (r.assessed_on > r.accident_on + plan.accident_window_days) {
        a.Fail(Reason::kAssessedAfter180Days);
      }
      if (r.grade < 1 || r.grade > 10) a.Fail(Reason::kCriteriaNotMet);
      break;
    case Benefit::kAccidentConsolation:
      if (!r.in_shanghai) a.Fail(Reason::kOutsideShanghai);
      // No disability grade: an accident with an approved disability does not qualify.
      if (!r.meets_criteria ||
          HasCountedClaim(file, Benefit::kAccidentalDisability, r.accident_id)) {
        a.Fail(Reason::kCriteriaNotMet);
      }
      break;
  }
  if (a.failed()) {
    a.Deny();
    return d;
  }

  // What the history leaves to pay.
  const int year = d.plan_year;
  switch (r.benefit) {
    case Benefit::kHospitalAllowance: {
      const std::vector<absl::CivilDay> days =
          PayableInpatientDays(plan, file, r, cover->decision.coverage_end, died_on);
      int used = 0;
      for (const ClaimRecord& record : file.claims) {
        if (Counts(record) && record.request.benefit == Benefit::kHospitalAllowance &&
            record.decision.plan_year == year) {
          used += record.decision.hospital_days_paid;
        }
      }
      const int remaining = plan.hospital_max_days_per_plan_year - used;
      if (days.empty()) {
        a.Fail(Reason::kAlreadyPaid);
      } else if (remaining <= 0) {
        a.Fail(Reason::kBenefitExhausted);
      }
      if (a.failed()) break;
      const int paid = std::min<int>(static_cast<int>(days.size()), remaining);
      d.hospital_days_paid = paid;
      d.hospital_days = ToRanges(std::vector<absl::CivilDay>(days.begin(), days.begin() + paid));
      a.Approve(plan.hospital_daily_fen * paid, paid < static_cast<int>(days.size()), false);
      return d;
    }
    case Benefit::kCriticalIllness: {
      if (CountInPlanYear(file, Benefit::kCriticalIllness, year) >=
          plan.critical_illness_per_plan_year) {
        a.Fail(Reason::kAlreadyPaid);
      }
      // 首次确诊: a category paid in another plan year is not a first diagnosis.
      for (const ClaimRecord& record : file.claims) {
        if (Counts(record) && record.request.benefit == Benefit::kCriticalIllness &&
            record.request.category == r.category && record.decision.plan_year != year) {
          a.Fail(Reason::kNotFirstDiagnosis);
        }
      }
      if (a.failed()) break;
      a.Approve(plan.critical_illness_fen, false, false);
      return d;
    }
    case Benefit::kCovid19:
      // Once per enrollment (one enrollment per plan year), then the liability ends.
      if (CountInPlanYear(file, Benefit::kCovid19, year) > 0) {
        a.Fail(Reason::kAlreadyPaid);
        break;
      }
      a.Approve(plan.covid19_fen, false, false);
      return d;
    case Benefit::kCriticalIllnessSubsidy: {
      const int64_t due = SubsidyFor(plan, r.out_of_pocket_fen);
      const int64_t remaining = plan.subsidy_cap_per_plan_year_fen -
                                PaidInPlanYear(file, Benefit::kCriticalIllnessSubsidy, year);
      if (remaining <= 0) {
        a.Fail(Reason::kBenefitExhausted);
        break;
      }
      a.Approve(std::min(due, remaining), due > remaining, false);
      return d;
    }
    case Benefit::kIllnessDeath:
      if (died_on.has_value()) {  // [reading] one death benefit per worker
        a.Fail(Reason::kAlreadyPaid);
        break;
      }
      a.Approve(plan.illness_death_fen, false, false);
      d.payee = Payee::kPlatformAccount;
      d.payee_platform_id = cover->decision.platform_id;
      return d;
    case Benefit::kAccidentalDeath: {
      if (died_on.has_value()) {  // [reading] one death benefit per worker
        a.Fail(Reason::kAlreadyPaid);
        break;
      }
      // §五(四)4: death, disability and consolation of one accident ≤ 15 万.
      const int64_t accident_left = plan.per_accident_cap_fen - PaidForAccident(file, r.accident_id);
      if (accident_left <= 0) {
        a.Fail(Reason::kBenefitExhausted);
        a.Deny(/*per_accident_cap=*/true);
        return d;
      }
      const int64_t amount = std::min(plan.accidental_death_fen, accident_left);
      a.Approve(amount, amount < plan.accidental_death_fen, amount < plan.accidental_death_fen);
      d.payee = Payee::kPlatformAccount;
      d.payee_platform_id = cover->decision.platform_id;
      return d;
    }
    case Benefit::kAccidentalDisability: {
      const int64_t target =
          plan.disability_full_fen * plan.disability_percent_by_grade[r.grade - 1] / 100;
      // A later assessment of the same accident pays only the difference.
      const int64_t difference =
          target - PaidForAccident(file, r.accident_id, Benefit::kAccidentalDisability);
      if (difference <= 0) {
        a.Fail(Reason::kAlreadyPaid);
        break;
      }
      const int64_t year_left = plan.disability_cap_per_plan_year_fen -
                                PaidInPlanYear(file, Benefit::kAccidentalDisability, year);
      const int64_t accident_left = plan.per_accident_cap_fen - PaidForAccident(file, r.accident_id);
      if (year_left <= 0) a.Fail(Reason::kBenefitExhausted);
      if (accident_left <= 0) {
        a.Fail(Reason::kBenefitExhausted);
        a.Deny(/*per_accident_cap=*/true);
        return d;
      }
      if (a.failed()) break;
      const int64_t amount = std::min({difference, year_left, accident_left});
      a.Approve(amount, amount < difference, accident_left < std::min(difference, year_left));
      return d;
    }
    case Benefit::kAccidentConsolation: {
      if (HasCountedClaim(file, Benefit::kAccidentConsolation, r.accident_id)) {
        a.Fail(Reason::kAlreadyPaid);
        break;
      }
      const int64_t year_left = plan.consolation_cap_per_plan_year_fen -
                                PaidInPlanYear(file, Benefit::kAccidentConsolation, year);
      const int64_t accident_left = plan.per_accident_cap_fen - PaidForAccident(file, r.accident_id);
      if (year_left <= 0) a.Fail(Reason::kBenefitExhausted);
      if (accident_left <= 0) {
        a.Fail(Reason::kBenefitExhausted);
        a.Deny(/*per_accident_cap=*/true);
        return d;
      }
      if (a.failed()) break;
      const int64_t amount = std::min({plan.consolation_fen, year_left, accident_left});
      a.Approve(amount, amount < plan.consolation_fen,
                accident_left < std::min(plan.consolation_fen, year_left));
      return d;
    }
  }
  a.Deny();
  return d;
}

void ApplyClaim(WorkerFile& file, const ClaimRequest& request, const ClaimDecision& decision,
                bool awaiting_investigation) {
  if (decision.retry) return;
  ClaimStatus status = ClaimStatus::kDenied;
  if (decision.outcome == ClaimOutcome::kApproved) {
    status = awaiting_investigation ? ClaimStatus::kAwaitingInvestigation : ClaimStatus::kApproved;
  }
  file.claims.push_back(ClaimRecord{request, decision, status});
}

bool MustInvestigate(const PlanData& plan, const ClaimDecision& decision) {
  if (decision.outcome != ClaimOutcome::kApproved) return false;
  return IsDeathBenefit(decision.benefit) || decision.benefit == Benefit::kAccidentalDisability ||
         decision.amount_fen > plan.investigation_threshold_fen;
}

absl::Status ConcludeInvestigation(WorkerFile& file, std::string_view claim_id, bool upheld) {
  for (ClaimRecord& record : file.claims) {
    if (record.request.claim_id != claim_id) continue;
    if (record.status != ClaimStatus::kAwaitingInvestigation) {
      return absl::FailedPreconditionError(
          absl::StrCat("claim ", std::string(claim_id), " is not awaiting investigation"));
    }
    record.status = upheld ? ClaimStatus::kApproved : ClaimStatus::kDenied;
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no claim ", std::string(claim_id)));
}

}  // namespace mutualaid::plan

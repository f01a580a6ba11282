// Claims: the plan library's requests and decisions <-> the wire contracts
// (claims.proto). Enums map by name, as in convert.h: BENEFIT_HOSPITAL_ALLOWANCE
// <-> Benefit::kHospitalAllowance ("HOSPITAL_ALLOWANCE").
#ifndef MUTUALAID_EVENTS_CLAIMS_CONVERT_H_
#define MUTUALAID_EVENTS_CLAIMS_CONVERT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "mutualaid/plan/codes.h"
#include "mutualaid/plan/worker_file.h"
#include "mutualaid/v1/claims.pb.h"
#include "mutualaid/v1/common.pb.h"
#include "mutualaid/v1/state.pb.h"

namespace mutualaid::events {

v1::Benefit ToProto(plan::Benefit benefit);
std::optional<plan::Benefit> ToPlan(v1::Benefit benefit);
v1::Cause ToProto(plan::Cause cause);
std::optional<plan::Cause> ToPlan(v1::Cause cause);
v1::HospitalKind ToProto(plan::Hospital hospital);
std::optional<plan::Hospital> ToPlan(v1::HospitalKind hospital);
v1::CriticalIllnessCategory ToProto(plan::CriticalIllnessCategory category);
std::optional<plan::CriticalIllnessCategory> ToPlan(v1::CriticalIllnessCategory category);
v1::Claimant ToProto(plan::Claimant claimant);
std::optional<plan::Claimant> ToPlan(v1::Claimant claimant);
v1::PayeeKind ToProto(plan::Payee payee);

// The plan's word for a proto code: "HOSPITAL_ALLOWANCE", "DESIGNATED_HOSPITAL"…
std::string BenefitName(v1::Benefit benefit);
std::string ClaimStatusName(v1::ClaimStatus status);  // "APPROVED", "INVESTIGATING"…

// A filed claim as the rules read it. InvalidArgument naming the field
// ("facts.admission: required") when a fact the benefit needs is missing or
// not a date; facts the benefit does not use are ignored.
absl::StatusOr<plan::ClaimRequest> ToClaimRequest(const std::string& claim_id,
                                                  const v1::ClaimFacts& facts,
                                                  absl::CivilDay received_on, plan::Site site);

// The facts the benefit uses, from a plan request (others left unset).
v1::ClaimFacts ToFacts(const plan::ClaimRequest& request);

// The rules' decision as the event's ClaimDecision: status APPROVED or DENIED
// (the caller turns an approval into INVESTIGATING), amount, cap, payee, due
// date, reasons and clauses (DecisionRecord), paid inpatient days, facts.
v1::ClaimDecision ToClaimDecision(const plan::ClaimDecision& decision,
                                  const plan::ClaimRequest& request);

// A recorded ClaimDecision back as the rules' decision (for the worker file).
absl::StatusOr<plan::ClaimDecision> ToPlanDecision(const v1::ClaimDecision& claim);

// A recorded claim as the worker file's ClaimRecord: request from the facts
// the rules used, decision, status (APPROVED and PAID count as approved,
// INVESTIGATING as awaiting investigation, DENIED as denied).
absl::StatusOr<plan::ClaimRecord> ToClaimRecord(const v1::ClaimDecision& claim);

// An enrollment held by the enrollment service (its events' Enrollment and
// DecisionRecord) as the rules' record: coverage, kind, plan year, platform,
// status (PENDING_REVIEW covers, REJECTED by a reviewer does not).
absl::StatusOr<plan::EnrollmentRecord> ToPlanEnrollment(const v1::HeldEnrollment& held);

// Payee card numbers: 16-19 digits with a valid Luhn check digit.
bool IsValidCardNumber(const std::string& number);

}  // namespace mutualaid::events

#endif  // MUTUALAID_EVENTS_CLAIMS_CONVERT_H_

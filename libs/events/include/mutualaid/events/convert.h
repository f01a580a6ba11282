// The plan library's vocabulary <-> the wire contracts. The plan's codes and
// the proto enums' suffixes are the same words, so each mapping goes by name.
#ifndef MUTUALAID_EVENTS_CONVERT_H_
#define MUTUALAID_EVENTS_CONVERT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "mutualaid/plan/codes.h"
#include "mutualaid/plan/worker_file.h"
#include "mutualaid/v1/common.pb.h"
#include "mutualaid/v1/enrollment.pb.h"

namespace mutualaid::events {

// Dates and instants.
v1::Date ToProto(absl::CivilDay day);
// InvalidArgument naming `field` unless `date` is a real calendar day.
absl::StatusOr<absl::CivilDay> FromProto(const v1::Date& date, const std::string& field);
bool IsSet(const v1::Date& date);
std::string FormatDate(const v1::Date& date);  // "2022-05-10", "" if unset
google::protobuf::Timestamp ToProto(absl::Time t);
absl::Time FromProto(const google::protobuf::Timestamp& t);

// Codes.
v1::ReasonCode ToProto(plan::Reason reason);
v1::ReasonCode ToProto(plan::ReviewFlag flag);
std::optional<plan::Reason> ToPlanReason(v1::ReasonCode code);
std::optional<plan::ReviewFlag> ToPlanReviewFlag(v1::ReasonCode code);
// The plan's word for a code: "WAITING_PERIOD", "REVIEW_SHARED_PHONE".
std::string ReasonName(v1::ReasonCode code);

v1::Industry ToProto(plan::Industry industry);
std::optional<plan::Industry> ToPlan(v1::Industry industry);
v1::EnrollmentKind ToProto(plan::EnrollmentKind kind);
plan::EnrollmentKind ToPlan(v1::EnrollmentKind kind);

// An enrollment decision as the event's DecisionRecord (reasons, review flags
// as REVIEW_* codes, clauses, field at fault, rule set).
v1::DecisionRecord ToDecisionRecord(const plan::EnrollmentDecision& decision);

}  // namespace mutualaid::events

#endif  // MUTUALAID_EVENTS_CONVERT_H_

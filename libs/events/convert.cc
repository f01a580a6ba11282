#include "mutualaid/events/convert.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/generated_enum_reflection.h"

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
  return v->name().substr(prefix.size());
}

constexpr char kReasonPrefix[] = "REASON_CODE_";
constexpr char kReviewPrefix[] = "REVIEW_";

}  // namespace

v1::Date ToProto(absl::CivilDay day) {
  v1::Date d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

absl::StatusOr<absl::CivilDay> FromProto(const v1::Date& date, const std::string& field) {
  absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 1900 || date.year() > 2200 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %d-%02d-%02d is not a calendar date", field, date.year(),
                        date.month(), date.day()));
  }
  return day;
}

bool IsSet(const v1::Date& date) { return date.year() != 0 || date.month() != 0 || date.day() != 0; }

std::string FormatDate(const v1::Date& date) {
  if (!IsSet(date)) return "";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1000000000;
  int64_t rem = nanos % 1000000000;
  if (rem < 0) {
    rem += 1000000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

v1::ReasonCode ToProto(plan::Reason reason) {
  return ByName<v1::ReasonCode>(kReasonPrefix, plan::ToString(reason));
}

v1::ReasonCode ToProto(plan::ReviewFlag flag) {
  return ByName<v1::ReasonCode>(kReasonPrefix, std::string(kReviewPrefix) + std::string(plan::ToString(flag)));
}

std::optional<plan::Reason> ToPlanReason(v1::ReasonCode code) {
  return plan::ParseReason(NameOf(kReasonPrefix, code));
}

std::optional<plan::ReviewFlag> ToPlanReviewFlag(v1::ReasonCode code) {
  std::string name = NameOf(kReasonPrefix, code);
  for (plan::ReviewFlag f : {plan::ReviewFlag::kIndustryOther,
                             plan::ReviewFlag::kNameDiffersFromEarlierYear,
                             plan::ReviewFlag::kSharedPhone}) {
    if (name == std::string(kReviewPrefix) + std::string(plan::ToString(f))) return f;
  }
  return std::nullopt;
}

std::string ReasonName(v1::ReasonCode code) { return NameOf(kReasonPrefix, code); }

v1::Industry ToProto(plan::Industry industry) {
  return ByName<v1::Industry>("INDUSTRY_", plan::ToString(industry));
}

std::optional<plan::Industry> ToPlan(v1::Industry industry) {
  return plan::ParseIndustry(NameOf("INDUSTRY_", industry));
}

v1::EnrollmentKind ToProto(plan::EnrollmentKind kind) {
  return ByName<v1::EnrollmentKind>("ENROLLMENT_KIND_", plan::ToString(kind));
}

plan::EnrollmentKind ToPlan(v1::EnrollmentKind kind) {
  return kind == v1::ENROLLMENT_KIND_CONCENTRATED ? plan::EnrollmentKind::kConcentrated
                                                  : plan::EnrollmentKind::kInstant;
}

v1::DecisionRecord ToDecisionRecord(const plan::EnrollmentDecision& decision) {
  v1::DecisionRecord r;
  r.set_rule_set_version(decision.rule_set_version);
  for (plan::Reason reason : decision.reasons) r.add_reasons(ToProto(reason));
  for (plan::ReviewFlag flag : decision.review_flags) r.add_reasons(ToProto(flag));
  for (const std::string& clause : decision.clauses) r.add_clauses(clause);
  r.set_field(std::string(plan::ToString(decision.field)));
  return r;
}

}  // namespace mutualaid::events

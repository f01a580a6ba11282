// Fuzzes the event envelope every record of every mutualaid.* topic travels in
// (libs/events): the first byte picks the topic the record arrives on, the rest
// is the record's value. Runs ParseEnvelope (parse, schema version, body
// dispatch), BodyType and OutcomeOf, the conversions to the plan's structs
// (dates, a filed claim's facts, a decided claim, a held enrollment), and then
// what the four services' processors do with such a record: each Logic's
// Decide and Apply over an empty state (fuzz_support.h). The payout and
// notification request topics carry PayoutCommand / SmsCommand, so those
// decoders are fuzzed through the same path.
//
// Invariants: a refused envelope is InvalidArgument; an accepted one has a
// body, a schema version this build knows, a type named after the body, and
// reads back the same after a round trip; a date that converts converts back
// to itself; a claim's facts the rules accept are accepted again from the
// facts they give back; Decide is deterministic, refuses only with
// InvalidArgument, and makes events its own Apply accepts; Apply refuses only
// with InvalidArgument.
#include <cstddef>
#include <cstdint>

#include "mutualaid/events/claims_convert.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/events/outcome.h"
#include "mutualaid/v1/envelope.pb.h"
#include "mutualaid/v1/state.pb.h"
#include "services/claims/claims_logic.h"
#include "services/enrollment/enrollment_logic.h"
#include "services/notification/notification_logic.h"
#include "services/payout/payout_logic.h"
#include "tests/fuzz/fuzz_support.h"

namespace mutualaid::fuzz {
namespace {

constexpr const char* kTopics[] = {
    "mutualaid.enrollment.requests",   "mutualaid.enrollment.events",
    "mutualaid.claims.requests",       "mutualaid.claims.events",
    "mutualaid.payout.requests",       "mutualaid.payout.events",
    "mutualaid.notification.requests", "mutualaid.notification.events",
};

struct Service {
  std::unique_ptr<processor::Logic> logic;
  std::unique_ptr<EmptyStore> store;
};

std::vector<Service>& Services() {
  static auto* services = [] {
    auto* s = new std::vector<Service>();
    std::vector<std::unique_ptr<processor::Logic>> logics;
    auto enrollment = std::make_unique<enrollment::EnrollmentLogic>("enrollment-fuzz");
    UseKeyRing(*enrollment);
    auto notification =
        std::make_unique<notification::NotificationLogic>(notification::LogicOptions{}, nullptr);
    UseKeyRing(*notification);
    logics.push_back(std::move(enrollment));
    logics.push_back(std::make_unique<claims::ClaimsLogic>(claims::LogicOptions{}));
    logics.push_back(std::make_unique<payout::PayoutLogic>(payout::PayoutOptions{}));
    logics.push_back(std::move(notification));
    for (auto& logic : logics) {
      auto store = std::make_unique<EmptyStore>(*logic);
      s->push_back(Service{std::move(logic), std::move(store)});
    }
    return s;
  }();
  return *services;
}

void CheckDate(const v1::Date& date) {
  absl::StatusOr<absl::CivilDay> day = events::FromProto(date, "occurred_on");
  if (!day.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(day.status()), day.status().ToString());
    FUZZ_CHECK(NamesField(day.status().message()), day.status().message());
    return;
  }
  const v1::Date back = events::ToProto(*day);
  FUZZ_CHECK(back.year() == date.year() && back.month() == date.month() && back.day() == date.day(),
             events::FormatDate(date));
}

void CheckConversions(const v1::Envelope& env) {
  CheckDate(env.occurred_on());
  (void)events::FromProto(env.recorded_at());
  if (env.has_claim_filed()) {
    const v1::ClaimFiled& filed = env.claim_filed();
    absl::StatusOr<absl::CivilDay> received = events::FromProto(filed.received_on(), "received_on");
    std::optional<plan::Site> site = plan::ParseSite(filed.application().site());
    if (received.ok() && site.has_value()) {
      absl::StatusOr<plan::ClaimRequest> request = events::ToClaimRequest(
          filed.application().claim_id(), filed.application().facts(), *received, *site);
      if (request.ok()) {
        const v1::ClaimFacts facts = events::ToFacts(*request);
        absl::StatusOr<plan::ClaimRequest> again =
            events::ToClaimRequest(request->claim_id, facts, *received, *site);
        FUZZ_CHECK(again.ok(), again.status().ToString());
        FUZZ_CHECK(again->benefit == request->benefit, "benefit");
        FUZZ_CHECK(events::ToFacts(*again).SerializeAsString() == facts.SerializeAsString(),
                   "facts the rules read back");
      } else {
        FUZZ_CHECK(absl::IsInvalidArgument(request.status()), request.status().ToString());
        FUZZ_CHECK(NamesField(request.status().message()), request.status().message());
      }
    }
  }
  if (env.has_claim_decided()) {
    (void)events::ToPlanDecision(env.claim_decided().claim());
    (void)events::ToClaimRecord(env.claim_decided().claim());
  }
  if (env.has_claim_investigation_decided()) {
    (void)events::ToClaimRecord(env.claim_investigation_decided().claim());
  }
  if (env.has_enrollment_accepted() || env.has_enrollment_pending_review()) {
    v1::HeldEnrollment held;
    if (env.has_enrollment_accepted()) {
      *held.mutable_enrollment() = env.enrollment_accepted().enrollment();
      *held.mutable_decision() = env.enrollment_accepted().decision();
    } else {
      *held.mutable_enrollment() = env.enrollment_pending_review().enrollment();
      *held.mutable_decision() = env.enrollment_pending_review().decision();
    }
    (void)events::ToPlanEnrollment(held);
  }
}

}  // namespace
}  // namespace mutualaid::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mutualaid;
  using namespace mutualaid::fuzz;
  if (size < 1 || size > 65536) return 0;
  kafka::Message message;
  message.topic = kTopics[data[0] % 8];
  message.value.assign(reinterpret_cast<const char*>(data + 1), size - 1);

  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(message);
  if (!env.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(env.status()), env.status().ToString());
  } else {
    FUZZ_CHECK(env->body_case() != v1::Envelope::BODY_NOT_SET, "body");
    FUZZ_CHECK(env->schema_version() <= events::kSchemaVersion, "schema version");
    const std::string type = events::BodyType(*env);
    FUZZ_CHECK(!type.empty(), "type");
    FUZZ_CHECK(events::OutcomeOf(*env).type == type, type);
    // What ToRecord writes reads back as the same envelope, its type set.
    kafka::Record record = events::ToRecord(message.topic, *env);
    FUZZ_CHECK(record.key == env->worker_key(), "key");
    absl::StatusOr<v1::Envelope> again = events::ParseEnvelope(AsMessage(record));
    FUZZ_CHECK(again.ok(), again.status().ToString());
    FUZZ_CHECK(again->type() == type && events::BodyType(*again) == type, again->type());
    v1::Envelope expected = *env;
    expected.set_type(type);
    FUZZ_CHECK(again->SerializeAsString() == expected.SerializeAsString(), "round trip");
    CheckConversions(*env);
    // Processors key records by the worker key; a record keyed otherwise is
    // tried too (odd length, so never a real worker key).
    message.key = (data[0] & 0x80) ? "mismatched-key" : env->worker_key();
  }

  for (Service& s : Services()) {
    DecideChecked(*s.logic, s.store->get(), message);
    ApplyChecked(*s.logic, s.store->get(), message);
  }
  return 0;
}

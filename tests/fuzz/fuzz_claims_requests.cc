// Fuzzes every request of the claims service's gRPC API: the first byte picks
// the message (and the second the caller or the claim a verdict is about), the
// rest is parsed as it (libprotobuf), then the edge's checks run
// (services/claims/claims_api.h: CheckFiling, CheckVerdict) and an accepted
// command goes, as the envelope the edge appends to mutualaid.claims.requests,
// through ClaimsLogic::Decide over an empty state (fuzz_support.h).
//
// Invariants: a message round-trips; a refusal is InvalidArgument naming the
// field, or PermissionDenied; an accepted filing is recorded normalised (its
// site and ID number parse again to themselves) and the rules' request keeps
// the claim id and benefit; every filing that reaches the rules is answered by
// a ClaimDecided whose decision has a status, and a denial a reason code.
#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "mutualaid/events/claims_convert.h"
#include "mutualaid/plan/codes.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/v1/claims.pb.h"
#include "services/claims/claims_api.h"
#include "services/claims/claims_logic.h"
#include "tests/fuzz/fuzz_support.h"

namespace mutualaid::fuzz {
namespace {

constexpr char kTopic[] = "mutualaid.claims.requests";

claims::ClaimsLogic& Logic() {
  static auto* logic = new claims::ClaimsLogic(claims::LogicOptions{});
  return *logic;
}
const store::StateStore& Store() {
  static auto* s = new EmptyStore(Logic());
  return s->get();
}

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(absl::IsInvalidArgument(status) || absl::IsPermissionDenied(status),
             status.ToString());
  if (absl::IsInvalidArgument(status)) FUZZ_CHECK(NamesField(status.message()), status.message());
}

server::Principal Caller(uint8_t byte) {
  switch (byte % 4) {
    case 0:
      return {server::Role::kHall, "wang"};
    case 1:
      return {server::Role::kDistrictCentre, "浦东新区"};
    case 2:
      return {server::Role::kPlatform, "P01"};
    default:
      return {server::Role::kDistrictCentre, "徐汇区"};
  }
}

void File(const v1::FileClaimRequest& req, const server::Principal& who) {
  absl::StatusOr<claims::CheckedFiling> checked =
      claims::CheckFiling(req.application(), who, Today());
  if (!checked.ok()) {
    CheckRefusal(checked.status());
    return;
  }
  const v1::ClaimApplication& app = checked->application;
  FUZZ_CHECK(app.claim_id() == req.application().claim_id(), "claim id kept");
  FUZZ_CHECK(checked->request.claim_id == app.claim_id(), "request claim id");
  FUZZ_CHECK(events::ToProto(checked->request.benefit) == app.facts().benefit(), "benefit kept");
  std::optional<plan::Site> site = plan::ParseSite(app.site());
  FUZZ_CHECK(site.has_value() && plan::ToString(*site) == app.site(), app.site());
  absl::StatusOr<plan::IdNumber> id = plan::ParseIdNumber(app.id_number(), Today());
  FUZZ_CHECK(id.ok() && id->normalized == app.id_number(), app.id_number());
  if (who.role == server::Role::kPlatform) FUZZ_CHECK(app.platform_id() == who.subject, "platform");
  // Filing the recorded application again is accepted the same way.
  absl::StatusOr<claims::CheckedFiling> again = claims::CheckFiling(app, who, Today());
  FUZZ_CHECK(again.ok() && again->application.SerializeAsString() == app.SerializeAsString(),
             "a recorded application passes the checks unchanged");

  // What ClaimsApi::FileClaim appends.
  const std::string wk = Keyer().KeyFor(app.id_number());
  const std::string causation = claims::FilingCausation(app.claim_id());
  v1::Envelope env = RequestEnvelope("claim-request/fuzz", wk, causation, "claims");
  v1::ClaimFiled* filed = env.mutable_claim_filed();
  *filed->mutable_application() = app;
  *filed->mutable_received_on() = events::ToProto(Today());
  *filed->mutable_received_at() = events::ToProto(Now());
  filed->set_caller(who.ToString());
  filed->set_filed_by_platform(who.role == server::Role::kPlatform);
  Decided d = DecideChecked(Logic(), Store(), AsMessage(events::ToRecord(kTopic, std::move(env))));
  FUZZ_CHECK(d.status.ok(), d.status.ToString());
  bool answered = false;
  for (const kafka::Record& e : d.events) {
    v1::Envelope event;
    FUZZ_CHECK(event.ParseFromString(e.value), "event");
    if (!event.has_claim_decided()) continue;
    answered = true;
    FUZZ_CHECK(event.causation_id() == causation, event.causation_id());
    const v1::ClaimDecision& c = event.claim_decided().claim();
    FUZZ_CHECK(c.claim_id() == app.claim_id(), c.claim_id());
    FUZZ_CHECK(c.status() == v1::CLAIM_STATUS_APPROVED || c.status() == v1::CLAIM_STATUS_DENIED ||
                   c.status() == v1::CLAIM_STATUS_INVESTIGATING,
               v1::ClaimStatus_Name(c.status()));
    if (c.status() == v1::CLAIM_STATUS_DENIED) {
      FUZZ_CHECK(c.decision().reasons_size() > 0, "a denial has a reason code");
    }
    FUZZ_CHECK(c.decision().amount_fen() >= 0, "amount");
  }
  FUZZ_CHECK(answered, "a filing is answered by a ClaimDecided");
}

// A verdict on an investigating claim of the benefit the second byte picks.
void Verdict(const v1::DecideInvestigationRequest& req, uint8_t byte) {
  v1::ClaimDecision claim;
  claim.set_claim_id(req.claim_id());
  claim.set_status(v1::CLAIM_STATUS_INVESTIGATING);
  claim.mutable_facts()->set_benefit(static_cast<v1::Benefit>(byte % 9));
  *claim.mutable_received_on() = events::ToProto(Today() - 3);
  const absl::Status checked = claims::CheckVerdict(req, claim);
  if (!checked.ok()) {
    CheckRefusal(checked);
    return;
  }
  v1::Envelope env = RequestEnvelope("claim-request/fuzz", "wk", "investigation/fuzz", "claims");
  v1::InvestigationDecisionRequested* x = env.mutable_investigation_decision_requested();
  x->set_claim_id(req.claim_id());
  x->set_approve(req.approve());
  x->set_reason(req.reason());
  if (req.has_corrected_facts()) *x->mutable_corrected_facts() = req.corrected_facts();
  x->set_investigator("investigator:zhao");
  *x->mutable_decided_at() = events::ToProto(Now());
  *x->mutable_decided_on() = events::ToProto(Today());
  DecideChecked(Logic(), Store(), AsMessage(events::ToRecord(kTopic, std::move(env))));
}

template <typename M>
bool Parse(M& m, const uint8_t* data, size_t size) {
  if (!m.ParseFromArray(data, static_cast<int>(size))) return false;
  CheckRoundTrip(m);
  return true;
}

}  // namespace
}  // namespace mutualaid::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mutualaid;
  using namespace mutualaid::fuzz;
  if (size < 2 || size > 65536) return 0;
  const uint8_t which = data[0] % 7;
  const uint8_t detail = data[1];
  data += 2;
  size -= 2;
  switch (which) {
    case 0: {
      v1::FileClaimRequest m;
      if (Parse(m, data, size)) File(m, Caller(detail));
      break;
    }
    case 1: {
      v1::DecideInvestigationRequest m;
      if (Parse(m, data, size)) Verdict(m, detail);
      break;
    }
    // The reads: no command, no pure checks beyond the wire format.
    case 2: {
      v1::GetClaimRequest m;
      Parse(m, data, size);
      break;
    }
    case 3: {
      v1::ListClaimsRequest m;
      Parse(m, data, size);
      break;
    }
    case 4: {
      v1::GetEntitlementsRequest m;
      Parse(m, data, size);
      break;
    }
    case 5: {
      v1::ListInvestigationsRequest m;
      Parse(m, data, size);
      break;
    }
    case 6: {
      v1::ListDueClaimsRequest m;
      Parse(m, data, size);
      break;
    }
  }
  return 0;
}

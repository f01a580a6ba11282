#include "mutualaid/events/outcome.h"

#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"

namespace mutualaid::events {
namespace {

std::string StatusName(v1::ClaimStatus s) {
  // A status this build has no name for (a newer writer, a damaged record)
  // gives "" from ClaimStatus_Name: say UNKNOWN rather than cut a prefix off it.
  const std::string name = v1::ClaimStatus_Name(s);
  constexpr size_t kPrefix = sizeof("CLAIM_STATUS_") - 1;
  if (name.size() <= kPrefix) return "UNKNOWN";
  return name.substr(kPrefix);
}

void AddReasons(const v1::DecisionRecord& d, Outcome* o) {
  for (int r : d.reasons()) o->reasons.push_back(ReasonName(static_cast<v1::ReasonCode>(r)));
}

}  // namespace

Outcome OutcomeOf(const v1::Envelope& e) {
  Outcome o;
  o.type = BodyType(e);
  switch (e.body_case()) {
    case v1::Envelope::kEnrollmentAccepted:
      o.outcome = "ACCEPTED";
      break;
    case v1::Envelope::kEnrollmentRejected:
      o.outcome = "REJECTED";
      AddReasons(e.enrollment_rejected().decision(), &o);
      break;
    case v1::Envelope::kEnrollmentPendingReview:
      o.outcome = "PENDING_REVIEW";
      AddReasons(e.enrollment_pending_review().decision(), &o);
      break;
    case v1::Envelope::kEnrollmentReviewDecided:
      o.outcome = e.enrollment_review_decided().approved() ? "ACCEPTED" : "REJECTED";
      break;
    case v1::Envelope::kEnrollmentRetryAnswered:
      o.outcome = "RETRY";
      break;
    case v1::Envelope::kClaimDecided:
      o.outcome = StatusName(e.claim_decided().claim().status());
      AddReasons(e.claim_decided().claim().decision(), &o);
      o.amount_fen = e.claim_decided().claim().amount_fen();
      break;
    case v1::Envelope::kClaimInvestigationDecided:
      o.outcome = StatusName(e.claim_investigation_decided().claim().status());
      AddReasons(e.claim_investigation_decided().claim().decision(), &o);
      o.amount_fen = e.claim_investigation_decided().claim().amount_fen();
      break;
    case v1::Envelope::kClaimPaid:
      o.outcome = "PAID";
      o.amount_fen = e.claim_paid().amount_fen();
      break;
    case v1::Envelope::kPayoutConfirmed:
      o.outcome = "CONFIRMED";
      o.amount_fen = e.payout_confirmed().payout().amount_fen();
      break;
    case v1::Envelope::kPayoutFailed:
      o.outcome = "FAILED";
      o.reasons.push_back(e.payout_failed().bank_code());
      break;
    case v1::Envelope::kSmsDelivered:
      o.outcome = "DELIVERED";
      break;
    case v1::Envelope::kSmsFailed:
      o.outcome = "FAILED";
      break;
    default:
      break;
  }
  return o;
}

}  // namespace mutualaid::events

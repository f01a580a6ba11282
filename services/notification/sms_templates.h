// The SMS texts the plan promises (§二: cover in force; §六 / plan-rules §7:
// payment made; a claim refused), rendered in Chinese. Pure functions: no
// clock, no I/O.
//
// Every text starts with the association's signature, names the worker only
// masked (张*), never carries an ID number, and says amounts in yuan computed
// from fen with integer arithmetic.
#ifndef MUTUALAID_SERVICES_NOTIFICATION_SMS_TEMPLATES_H_
#define MUTUALAID_SERVICES_NOTIFICATION_SMS_TEMPLATES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "mutualaid/v1/common.pb.h"
#include "mutualaid/v1/notification.pb.h"

namespace mutualaid::notification {

inline constexpr char kSignature[] = "【上海市职工保障互助会】";

// "COVER_STARTED", "PAYOUT_CONFIRMED", "CLAIM_DENIED": the suffix of the
// template's enum name, the second half of a message id.
std::string TemplateName(v1::SmsTemplate t);

// The message id (the gateway's dedupe key): source event id + ":" + template.
std::string MessageIdFor(absl::string_view source_event_id, v1::SmsTemplate t);

// 150000 fen -> "1500.00"; -5 -> "-0.05". Integer arithmetic only.
std::string YuanFromFen(int64_t fen);

// The benefit's Chinese name (住院补助金 …), "保障金" when unknown.
std::string BenefitName(v1::Benefit benefit);

// A plain-Chinese summary of a denial's reason codes, in their order, without
// repeats, joined by "；" (unknown codes: 不符合给付条件).
std::string DenialSummary(const std::vector<v1::ReasonCode>& reasons);

// Unicode code points of UTF-8 `text` (a malformed byte counts as one).
int64_t CodePoints(absl::string_view text);

// SMS segments of `text`: up to 70 characters is one; longer texts go in
// 67-character parts (the rest of each part is the concatenation header).
int32_t Segments(absl::string_view text);

// 2022-06-01 -> "2022年6月1日".
std::string ChineseDate(const v1::Date& date);

struct CoverStarted {
  std::string name;  // in clear; the text masks it
  int32_t plan_year = 0;
  v1::Date coverage_start;
  v1::Date coverage_end;
};
std::string RenderCoverStarted(const CoverStarted& c);

struct PayoutConfirmed {
  std::string name;          // the worker's name, in clear; masked in the text
  v1::Benefit benefit = v1::BENEFIT_UNSPECIFIED;
  int64_t amount_fen = 0;
  v1::PayeeKind payee = v1::PAYEE_KIND_UNSPECIFIED;
  std::string account_last4;
};
// To the worker; for a death benefit (paid to the platform's account) the text
// addresses the platform's contact about its worker.
std::string RenderPayoutConfirmed(const PayoutConfirmed& p);

struct ClaimDenied {
  std::string name;
  v1::Benefit benefit = v1::BENEFIT_UNSPECIFIED;
  std::vector<v1::ReasonCode> reasons;
  bool to_platform = false;  // a death claim: the platform filed it (§六)
};
std::string RenderClaimDenied(const ClaimDenied& d);

// True for the benefits paid on a worker's death (§六: to the platform).
bool IsDeathBenefit(v1::Benefit benefit);

}  // namespace mutualaid::notification

#endif  // MUTUALAID_SERVICES_NOTIFICATION_SMS_TEMPLATES_H_

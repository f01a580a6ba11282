#include "services/notification/sms_templates.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mutualaid/core/log.h"

namespace mutualaid::notification {

std::string TemplateName(v1::SmsTemplate t) {
  const std::string& full = v1::SmsTemplate_Name(t);
  constexpr std::string_view kPrefix = "SMS_TEMPLATE_";
  return full.rfind(kPrefix, 0) == 0 ? full.substr(kPrefix.size()) : full;
}

std::string MessageIdFor(absl::string_view source_event_id, v1::SmsTemplate t) {
  return absl::StrCat(source_event_id, ":", TemplateName(t));
}

std::string YuanFromFen(int64_t fen) {
  const bool negative = fen < 0;
  // Magnitude as unsigned so INT64_MIN does not overflow.
  const uint64_t abs = negative ? uint64_t{0} - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  const uint64_t cents = abs % 100;
  return absl::StrCat(negative ? "-" : "", abs / 100, ".", cents < 10 ? "0" : "", cents);
}

std::string BenefitName(v1::Benefit benefit) {
  switch (benefit) {
    case v1::BENEFIT_HOSPITAL_ALLOWANCE:
      return "住院补助金";
    case v1::BENEFIT_CRITICAL_ILLNESS:
      return "重大疾病保障金";
    case v1::BENEFIT_COVID19:
      return "新冠肺炎保障金";
    case v1::BENEFIT_CRITICAL_ILLNESS_SUBSIDY:
      return "重大疾病住院医疗补助金";
    case v1::BENEFIT_ILLNESS_DEATH:
      return "疾病身故保障金";
    case v1::BENEFIT_ACCIDENTAL_DEATH:
      return "意外身故保障金";
    case v1::BENEFIT_ACCIDENTAL_DISABILITY:
      return "意外伤残保障金";
    case v1::BENEFIT_ACCIDENT_CONSOLATION:
      return "意外伤害慰问金";
    default:
      return "保障金";
  }
}

bool IsDeathBenefit(v1::Benefit benefit) {
  return benefit == v1::BENEFIT_ILLNESS_DEATH || benefit == v1::BENEFIT_ACCIDENTAL_DEATH;
}

namespace {

// What a worker reads for each code (plan-rules §5-§7), in plain words.
std::string ReasonText(v1::ReasonCode code) {
  switch (code) {
    case v1::REASON_CODE_NOT_COVERED:
      return "事件发生日不在保障期间内";
    case v1::REASON_CODE_WAITING_PERIOD:
      return "事件发生在免责期（等待期）内";
    case v1::REASON_CODE_NOT_ILLNESS:
      return "住院原因不是疾病";
    case v1::REASON_CODE_INELIGIBLE_HOSPITAL:
      return "就诊医院不在规定范围内";
    case v1::REASON_CODE_BENEFIT_EXHAUSTED:
      return "本计划年度该项保障额度已用完";
    case v1::REASON_CODE_INVALID_DATES:
      return "申请材料中的日期有误";
    case v1::REASON_CODE_NOT_HOSPITALIZED:
      return "未住院治疗";
    case v1::REASON_CODE_ALREADY_PAID:
      return "该项保障金已给付过";
    case v1::REASON_CODE_NOT_FIRST_DIAGNOSIS:
      return "不属于首次确诊";
    case v1::REASON_CODE_OUTSIDE_EPIDEMIC_PERIOD:
      return "确诊日期不在疫情保障期内";
    case v1::REASON_CODE_NO_CRITICAL_ILLNESS_BENEFIT:
      return "未获得该病种的重大疾病保障金";
    case v1::REASON_CODE_BELOW_THRESHOLD:
      return "个人实际支出未达到补助标准";
    case v1::REASON_CODE_OUTSIDE_SHANGHAI:
      return "事件不是在本市发生";
    case v1::REASON_CODE_DEATH_AFTER_180_DAYS:
      return "身故距意外发生超过180天";
    case v1::REASON_CODE_ASSESSED_AFTER_180_DAYS:
      return "伤残评定距意外发生超过180天";
    case v1::REASON_CODE_CRITERIA_NOT_MET:
      return "不符合慰问金发放条件";
    case v1::REASON_CODE_FILING_DEADLINE_PASSED:
      return "已超过申请期限";
    case v1::REASON_CODE_INVALID_CLAIMANT:
      return "申请人不符合规定";
    case v1::REASON_CODE_DUPLICATE_CLAIM:
      return "与已受理的申请重复";
    case v1::REASON_CODE_WORKER_DECEASED:
      return "事件发生在身故之后";
    case v1::REASON_CODE_INVESTIGATION_DENIED:
      return "经调查核实不符合给付条件";
    default:
      return "不符合给付条件";
  }
}

}  // namespace

std::string DenialSummary(const std::vector<v1::ReasonCode>& reasons) {
  std::vector<std::string> parts;
  std::set<std::string> seen;
  for (v1::ReasonCode code : reasons) {
    std::string text = ReasonText(code);
    if (seen.insert(text).second) parts.push_back(std::move(text));
  }
  if (parts.empty()) parts.push_back(ReasonText(v1::REASON_CODE_UNSPECIFIED));
  return absl::StrJoin(parts, "；");
}

int64_t CodePoints(absl::string_view text) {
  int64_t n = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > text.size()) len = 1;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        len = 1;  // malformed: count the lead byte alone
        break;
      }
    }
    i += len;
    ++n;
  }
  return n;
}

int32_t Segments(absl::string_view text) {
  const int64_t chars = CodePoints(text);
  if (chars <= 70) return 1;
  return static_cast<int32_t>((chars + 66) / 67);
}

std::string ChineseDate(const v1::Date& date) {
  return absl::StrCat(date.year(), "年", date.month(), "月", date.day(), "日");
}

std::string RenderCoverStarted(const CoverStarted& c) {
  // §二: on approval the worker is told the cover is in force.
  return absl::StrCat(kSignature, MaskName(c.name), "您好，您已参加", c.plan_year,
                      "年度新就业形态劳动者互助保障计划，保障期间", ChineseDate(c.coverage_start),
                      "至", ChineseDate(c.coverage_end), "。");
}

std::string RenderPayoutConfirmed(const PayoutConfirmed& p) {
  const std::string amount = absl::StrCat(YuanFromFen(p.amount_fen), "元");
  if (p.payee == v1::PAYEE_KIND_PLATFORM_ACCOUNT || IsDeathBenefit(p.benefit)) {
    // §六: a death benefit goes to the platform's account; its contact is told.
    return absl::StrCat(kSignature, "贵平台参保人员", MaskName(p.name), "的",
                        BenefitName(p.benefit), amount, "已支付至平台账户，请查收。");
  }
  const std::string to = p.account_last4.empty()
                             ? std::string("您的银行卡")
                             : absl::StrCat("您尾号", p.account_last4, "的银行卡");
  return absl::StrCat(kSignature, MaskName(p.name), "您好，您申请的", BenefitName(p.benefit),
                      amount, "已支付至", to, "，请查收。");
}

std::string RenderClaimDenied(const ClaimDenied& d) {
  if (d.to_platform) {
    return absl::StrCat(kSignature, "贵平台为参保人员", MaskName(d.name), "申请的",
                        BenefitName(d.benefit), "经审核不予给付，原因：", DenialSummary(d.reasons),
                        "。如有疑问请咨询互助会服务大厅。");
  }
  return absl::StrCat(kSignature, MaskName(d.name), "您好，您申请的", BenefitName(d.benefit),
                      "经审核不予给付，原因：", DenialSummary(d.reasons),
                      "。如有疑问请咨询互助会服务大厅。");
}

}  // namespace mutualaid::notification

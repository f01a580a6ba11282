// mutualctl report: the plan year from the events (not from the services):
// enrollments, fees, claims, amounts, the 90-day promise. Table, CSV or a
// self-contained HTML page (inline CSS and SVG).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common.h"
#include "mutualaid/events/envelope.h"
#include "ops.h"
#include "report.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl report --plan-year Y [--format table|csv|html|summary] [--out FILE]\n"
    "                        [--as-of YYYY-MM-DD] [--bootstrap HOST:PORT] [--topic-prefix P]\n"
    "Reads the four events topics and reports the plan year: enrollments by platform,\n"
    "month and kind; fees billed; claims by benefit, site and decision with denial\n"
    "reasons; amounts approved, paid, pending; the 90-day promise (paid by the due date,\n"
    "late, overdue, at risk as of --as-of, default the last day recorded in the log).\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl report: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

constexpr int kAtRiskDays = 15;

struct Section {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  // Bar chart: label -> value (fen values are shown in yuan).
  std::vector<std::pair<std::string, int64_t>> chart;
  bool chart_fen = false;
  std::string chart_title;
};

Section NewSection(std::string title, std::vector<std::string> columns) {
  Section s;
  s.title = std::move(title);
  s.columns = std::move(columns);
  return s;
}

struct Kpi {
  std::string label;
  std::string value;
  std::string note;
};

struct EnrollmentFact {
  std::string platform;
  std::string month;  // "2022-03" of the application date
  int kind = 0;
  int64_t fee_fen = 0;
  int64_t platform_fen = 0;
  int64_t worker_fen = 0;
  std::string status;  // ACCEPTED, PENDING_REVIEW, REJECTED
};

struct ClaimFact {
  v1::ClaimDecision decision;
  bool paid = false;
  int64_t paid_fen = 0;
  v1::Date paid_on;
};

}  // namespace

namespace ops {
struct ReportData {
  int plan_year = 0;
  std::map<std::string, EnrollmentFact> enrollments;  // by enrollment id
  std::map<std::string, int64_t> rejected_by_reason;
  std::map<std::string, int64_t> rejected_by_platform;
  int64_t rejected = 0;
  std::map<std::string, ClaimFact> claims;  // by claim id
  std::map<std::string, std::pair<int64_t, v1::Date>> paid;  // claim id -> paid (any year)
  absl::CivilDay last_day = absl::CivilDay(1970, 1, 1);
  int64_t events = 0;
  int64_t sms = 0, sms_delivered = 0, sms_failed = 0;
  int64_t payouts_failed = 0;
};
}  // namespace ops

namespace {
using Data = ops::ReportData;

void Note(Data& d, const v1::Enrollment& e, const std::string& status) {
  if (e.plan_year() != d.plan_year) return;
  EnrollmentFact& f = d.enrollments[e.enrollment_id()];
  f.platform = e.platform_id();
  f.month = absl::StrFormat("%04d-%02d", e.application_date().year(), e.application_date().month());
  f.kind = e.kind();
  f.fee_fen = e.fee_fen();
  if (e.has_fee_split()) {
    f.platform_fen = e.fee_split().platform_fen();
    f.worker_fen = e.fee_split().worker_fen();
  } else {
    f.platform_fen = e.fee_fen();
  }
  f.status = status;
}

void Fold(Data& d, const v1::Envelope& env) {
  ++d.events;
  d.last_day = std::max(d.last_day, ops::RecordedDay(env));
  switch (env.body_case()) {
    case v1::Envelope::kEnrollmentAccepted:
      Note(d, env.enrollment_accepted().enrollment(), "ACCEPTED");
      break;
    case v1::Envelope::kEnrollmentPendingReview:
      Note(d, env.enrollment_pending_review().enrollment(), "PENDING_REVIEW");
      break;
    case v1::Envelope::kEnrollmentReviewDecided: {
      const auto& r = env.enrollment_review_decided();
      Note(d, r.enrollment(), r.approved() ? "ACCEPTED" : "REJECTED_IN_REVIEW");
      break;
    }
    case v1::Envelope::kEnrollmentRejected: {
      const auto& r = env.enrollment_rejected();
      if (r.plan_year() != d.plan_year) break;
      ++d.rejected;
      ++d.rejected_by_platform[r.platform_id()];
      for (int code : r.decision().reasons()) ++d.rejected_by_reason[ops::ReasonName(code)];
      break;
    }
    case v1::Envelope::kClaimDecided:
      if (env.claim_decided().claim().plan_year() == d.plan_year) {
        d.claims[env.claim_decided().claim().claim_id()].decision = env.claim_decided().claim();
      }
      break;
    case v1::Envelope::kClaimInvestigationDecided:
      if (env.claim_investigation_decided().claim().plan_year() == d.plan_year) {
        d.claims[env.claim_investigation_decided().claim().claim_id()].decision =
            env.claim_investigation_decided().claim();
      }
      break;
    case v1::Envelope::kClaimPaid: {
      const auto& p = env.claim_paid();
      d.paid[p.claim_id()] = {p.amount_fen(), p.paid_on()};
      break;
    }
    case v1::Envelope::kPayoutFailed: ++d.payouts_failed; break;
    case v1::Envelope::kSmsQueued:
      ++d.sms;
      // Queued already failed: nobody to send to (no phone, or erased).
      if (env.sms_queued().message().status() == v1::SMS_STATUS_FAILED) ++d.sms_failed;
      break;
    case v1::Envelope::kSmsDelivered: ++d.sms_delivered; break;
    case v1::Envelope::kSmsFailed:
      if (!env.sms_failed().retriable()) ++d.sms_failed;
      break;
    default: break;
  }
}

std::string Count(int64_t n) { return absl::StrCat(n); }

void Build(Data& d, absl::CivilDay as_of, std::vector<Kpi>* kpis, std::vector<Section>* sections) {
  for (auto& [id, c] : d.claims) {
    auto it = d.paid.find(id);
    if (it != d.paid.end()) {
      c.paid = true;
      c.paid_fen = it->second.first;
      c.paid_on = it->second.second;
    }
  }
  // ---- enrollments
  int64_t accepted = 0, pending = 0, rejected_review = 0, fee = 0, fee_platform = 0, fee_worker = 0;
  std::map<std::string, std::map<std::string, int64_t>> by_platform;  // platform -> status -> n
  std::map<std::string, int64_t> fee_by_platform;
  std::map<std::string, std::map<int, std::pair<int64_t, int64_t>>> by_month;  // month -> kind -> (n, fee)
  for (const auto& [id, e] : d.enrollments) {
    ++by_platform[e.platform][e.status];
    if (e.status == "ACCEPTED") {
      ++accepted;
      fee += e.fee_fen;
      fee_platform += e.platform_fen;
      fee_worker += e.worker_fen;
      fee_by_platform[e.platform] += e.fee_fen;
      auto& m = by_month[e.month][e.kind];
      ++m.first;
      m.second += e.fee_fen;
    } else if (e.status == "PENDING_REVIEW") {
      ++pending;
    } else {
      ++rejected_review;
    }
  }
  for (const auto& [p, n] : d.rejected_by_platform) by_platform[p]["REJECTED"] += n;
  {
    Section s = NewSection("参保 Enrollments by platform", {"platform", "accepted", "pending review", "rejected", "rejected in review",
                          "fees billed (yuan)"});
    for (const auto& [p, st] : by_platform) {
      auto get = [&st](const char* k) {
        auto it = st.find(k);
        return it == st.end() ? int64_t{0} : it->second;
      };
      s.rows.push_back({p, Count(get("ACCEPTED")), Count(get("PENDING_REVIEW")), Count(get("REJECTED")),
                        Count(get("REJECTED_IN_REVIEW")), ops::Yuan(fee_by_platform[p])});
      s.chart.push_back({p, get("ACCEPTED")});
    }
    s.rows.push_back({"total", Count(accepted), Count(pending), Count(d.rejected), Count(rejected_review),
                      ops::Yuan(fee)});
    s.chart_title = "已参保人数（按平台）";
    sections->push_back(std::move(s));
  }
  {
    Section s = NewSection("参保 Enrollments by application month and kind", {"month", "kind", "accepted", "fees billed (yuan)"});
    for (const auto& [month, kinds] : by_month) {
      int64_t month_n = 0;
      for (const auto& [kind, nf] : kinds) {
        s.rows.push_back({month, ops::KindLabel(kind), Count(nf.first), ops::Yuan(nf.second)});
        month_n += nf.first;
      }
      s.chart.push_back({month, month_n});
    }
    s.chart_title = "每月新参保人数";
    sections->push_back(std::move(s));
  }
  if (!d.rejected_by_reason.empty()) {
    Section s = NewSection("Enrollment rejections by reason", {"reason", "records"});
    for (const auto& [r, n] : d.rejected_by_reason) {
      s.rows.push_back({r, Count(n)});
      s.chart.push_back({r, n});
    }
    s.chart_title = "拒绝原因";
    sections->push_back(std::move(s));
  }
  // ---- claims
  std::map<int, std::map<std::string, int64_t>> by_benefit;  // benefit -> status -> n
  std::map<int, int64_t> approved_by_benefit;
  std::map<std::string, std::map<std::string, int64_t>> by_site;
  std::map<std::string, int64_t> denial_reasons;
  int64_t approved_fen = 0, paid_fen = 0, pending_fen = 0, investigating_fen = 0;
  int64_t on_time = 0, late = 0, overdue = 0, at_risk = 0, in_window = 0;
  std::vector<std::vector<std::string>> risk_rows;
  for (const auto& [id, c] : d.claims) {
    const v1::ClaimDecision& k = c.decision;
    std::string status = c.paid ? "PAID" : ops::ClaimStatusName(k.status());
    ++by_benefit[k.benefit()][status];
    ++by_site[k.site().empty() ? "?" : k.site()][status];
    if (k.status() == v1::CLAIM_STATUS_DENIED) {
      for (int code : k.decision().reasons()) ++denial_reasons[ops::ReasonName(code)];
      continue;
    }
    if (k.status() == v1::CLAIM_STATUS_INVESTIGATING) {
      investigating_fen += k.amount_fen();
      continue;
    }
    approved_fen += k.amount_fen();
    approved_by_benefit[k.benefit()] += k.amount_fen();
    const bool has_due = ops::IsSet(k.due_by());
    const absl::CivilDay due = has_due ? ops::DayOf(k.due_by()) : absl::CivilDay::max();
    if (c.paid) {
      paid_fen += c.paid_fen;
      if (!ops::IsSet(c.paid_on) || ops::DayOf(c.paid_on) <= due) {
        ++on_time;
      } else {
        ++late;
        risk_rows.push_back({id, ops::BenefitLabel(k.benefit()), ops::DateText(k.due_by()),
                             "paid late " + ops::DateText(c.paid_on), ops::Yuan(k.amount_fen())});
      }
    } else {
      pending_fen += k.amount_fen();
      if (due < as_of) {
        ++overdue;
        risk_rows.push_back({id, ops::BenefitLabel(k.benefit()), ops::DateText(k.due_by()),
                             "OVERDUE (unpaid)", ops::Yuan(k.amount_fen())});
      } else if (due - as_of <= kAtRiskDays) {
        ++at_risk;
        risk_rows.push_back({id, ops::BenefitLabel(k.benefit()), ops::DateText(k.due_by()),
                             absl::StrCat("at risk: ", due - as_of, " days left"),
                             ops::Yuan(k.amount_fen())});
      } else {
        ++in_window;
      }
    }
  }
  {
    Section s = NewSection("理赔 Claims by benefit and decision", {"benefit", "", "approved", "paid", "investigating", "denied",
                          "approved (yuan)"});
    for (const auto& [b, st] : by_benefit) {
      auto get = [&st](const char* k) {
        auto it = st.find(k);
        return it == st.end() ? int64_t{0} : it->second;
      };
      s.rows.push_back({ops::BenefitName(b), ops::BenefitLabel(b), Count(get("APPROVED")),
                        Count(get("PAID")), Count(get("INVESTIGATING")), Count(get("DENIED")),
                        ops::Yuan(approved_by_benefit[b])});
      s.chart.push_back({ops::BenefitLabel(b), approved_by_benefit[b]});
    }
    s.chart_fen = true;
    s.chart_title = "核定金额（按保障项目，元）";
    sections->push_back(std::move(s));
  }
  {
    Section s = NewSection("理赔 Claims by site", {"site", "claims", "approved or paid", "denied", "investigating"});
    for (const auto& [site, st] : by_site) {
      int64_t n = 0;
      for (const auto& [k, v] : st) n += v;
      auto get = [&st](const char* k) {
        auto it = st.find(k);
        return it == st.end() ? int64_t{0} : it->second;
      };
      s.rows.push_back({site, Count(n), Count(get("APPROVED") + get("PAID")), Count(get("DENIED")),
                        Count(get("INVESTIGATING"))});
      s.chart.push_back({site, n});
    }
    s.chart_title = "受理点理赔件数";
    sections->push_back(std::move(s));
  }
  if (!denial_reasons.empty()) {
    Section s = NewSection("Claim denials by reason", {"reason", "claims"});
    for (const auto& [r, n] : denial_reasons) {
      s.rows.push_back({r, Count(n)});
      s.chart.push_back({r, n});
    }
    s.chart_title = "拒赔原因";
    sections->push_back(std::move(s));
  }
  {
    Section s = NewSection("金额 Amounts (yuan)", {"", "yuan"});
    s.rows = {{"approved", ops::Yuan(approved_fen)},
              {"paid", ops::Yuan(paid_fen)},
              {"pending payment", ops::Yuan(pending_fen)},
              {"awaiting investigation", ops::Yuan(investigating_fen)}};
    s.chart = {{"核定 approved", approved_fen}, {"已付 paid", paid_fen}, {"待付 pending", pending_fen},
               {"调查中 investigating", investigating_fen}};
    s.chart_fen = true;
    s.chart_title = "金额（元）";
    sections->push_back(std::move(s));
  }
  {
    Section s = NewSection(absl::StrCat("90日 Payment within 90 days (as of ", absl::FormatCivilTime(as_of), ")"), {"", "claims"});
    s.rows = {{"paid by the due date", Count(on_time)},
              {"paid late", Count(late)},
              {"unpaid, overdue", Count(overdue)},
              {absl::StrCat("unpaid, due within ", kAtRiskDays, " days (at risk)"), Count(at_risk)},
              {"unpaid, within the window", Count(in_window)}};
    s.chart = {{"按期支付", on_time}, {"逾期支付", late}, {"已逾期未付", overdue}, {"临期", at_risk},
               {"期限内待付", in_window}};
    s.chart_title = "90日支付承诺";
    sections->push_back(std::move(s));
  }
  if (!risk_rows.empty()) {
    Section s = NewSection("Claims late, overdue or at risk", {"claim", "benefit", "due by", "state", "yuan"});
    s.rows = std::move(risk_rows);
    sections->push_back(std::move(s));
  }
  const int64_t compliance_base = on_time + late + overdue;
  *kpis = {
      {"参保人数 enrolled", Count(accepted), absl::StrCat(pending, " pending review, ", d.rejected, " rejected")},
      {"应收会费 fees billed", ops::Yuan(fee), absl::StrCat("platforms ", ops::Yuan(fee_platform), " / workers ", ops::Yuan(fee_worker))},
      {"理赔件数 claims", Count(static_cast<int64_t>(d.claims.size())), absl::StrCat(on_time + late + overdue + at_risk + in_window, " approved")},
      {"核定金额 approved", ops::Yuan(approved_fen), absl::StrCat("paid ", ops::Yuan(paid_fen), ", pending ", ops::Yuan(pending_fen))},
      {"90日按期率 on time", compliance_base == 0 ? "-" : absl::StrFormat("%.1f%%", 100.0 * on_time / compliance_base),
       absl::StrCat(overdue, " overdue, ", at_risk, " at risk")},
      {"短信 SMS sent", Count(d.sms_delivered),
       absl::StrCat(d.sms, " queued, ", d.sms_failed, " failed for good")},
  };
}

// ------------------------------------------------------------------ output

size_t Width(const std::string& s) {
  // Display width: CJK characters take two columns.
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++w; ++i; }
    else if ((c >> 5) == 6) { ++w; i += 2; }
    else if ((c >> 4) == 14) { w += 2; i += 3; }
    else { w += 2; i += 4; }
  }
  return w;
}

std::string Pad(const std::string& s, size_t width, bool right) {
  size_t w = Width(s);
  std::string pad(width > w ? width - w : 0, ' ');
  return right ? pad + s : s + pad;
}

bool Numeric(const std::string& s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-') &&
         s.find_first_not_of("0123456789.,-%") == std::string::npos;
}

void WriteSection(std::ostream& out, const Section& s) {
  out << "\n" << s.title << "\n";
  std::vector<size_t> w(s.columns.size(), 0);
  for (size_t i = 0; i < s.columns.size(); ++i) w[i] = Width(s.columns[i]);
  for (const auto& r : s.rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], Width(r[i]));
  for (size_t i = 0; i < s.columns.size(); ++i) out << "  " << Pad(s.columns[i], w[i], i > 0);
  out << '\n';
  for (size_t i = 0; i < s.columns.size(); ++i) out << "  " << std::string(w[i], '-');
  out << '\n';
  for (const auto& r : s.rows) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) out << "  " << Pad(r[i], w[i], Numeric(r[i]));
    out << '\n';
  }
}

// `summary`: only the sections a person reads first.
bool InSummary(const Section& s) {
  for (const char* prefix : {"Enrollment rejections", "理赔 Claims by benefit", "理赔 Claims by site",
                             "Claim denials", "90日", "Claims late"}) {
    if (s.title.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

void WriteTable(std::ostream& out, const Data& d, absl::CivilDay as_of, const std::vector<Kpi>& kpis,
                const std::vector<Section>& sections, bool summary) {
  out << "新就业形态劳动者互助保障计划 — plan year " << d.plan_year << " (" << d.events
      << " events read, as of " << absl::FormatCivilTime(as_of) << ")\n\n";
  for (const Kpi& k : kpis) out << "  " << Pad(k.label, 28, false) << Pad(k.value, 16, true) << "   " << k.note << '\n';
  for (const Section& s : sections) {
    if (!summary || InSummary(s)) WriteSection(out, s);
  }
}

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  return "\"" + absl::StrReplaceAll(s, {{"\"", "\"\""}}) + "\"";
}

void WriteCsv(std::ostream& out, const Data& d, const std::vector<Kpi>& kpis,
              const std::vector<Section>& sections) {
  out << "section,plan_year,c1,c2,c3,c4,c5,c6,c7\n";
  for (const Kpi& k : kpis) out << "summary," << d.plan_year << "," << Csv(k.label) << "," << Csv(k.value) << "," << Csv(k.note) << "\n";
  for (const Section& s : sections) {
    out << Csv(s.title) << ",header";
    for (const std::string& c : s.columns) out << "," << Csv(c);
    out << "\n";
    for (const auto& r : s.rows) {
      out << Csv(s.title) << "," << d.plan_year;
      for (const std::string& c : r) out << "," << Csv(absl::StrReplaceAll(c, {{",", ""}}));
      out << "\n";
    }
  }
}

std::string Html(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

std::string Chart(const Section& s) {
  if (s.chart.empty()) return "";
  int64_t max = 1;
  for (const auto& [l, v] : s.chart) max = std::max(max, v);
  const int bar_h = 22, gap = 8, label_w = 190, bar_w = 380;
  const int height = static_cast<int>(s.chart.size()) * (bar_h + gap) + 10;
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' role='img' aria-label='%s'>",
      label_w + bar_w + 130, height, Html(s.chart_title));
  static const char* kColours[] = {"#2f6db5", "#3f9c6d", "#d08a2c", "#b5473f", "#7a5bb0", "#3a9bb3"};
  int y = 5, i = 0;
  for (const auto& [label, value] : s.chart) {
    const int w = value <= 0 ? 0 : std::max(2, static_cast<int>(bar_w * static_cast<double>(value) / max));
    absl::StrAppendFormat(&svg,
                          "<text x='%d' y='%d' text-anchor='end' class='l'>%s</text>"
                          "<rect x='%d' y='%d' width='%d' height='%d' rx='3' fill='%s'/>"
                          "<text x='%d' y='%d' class='v'>%s</text>",
                          label_w - 8, y + 16, Html(label), label_w, y, w, bar_h,
                          kColours[i++ % 6], label_w + w + 6, y + 16,
                          s.chart_fen ? "¥" + ops::Yuan(value) : absl::StrCat(value));
    y += bar_h + gap;
  }
  return svg + "</svg>";
}

void WriteHtml(std::ostream& out, const Data& d, absl::CivilDay as_of, const std::vector<Kpi>& kpis,
               const std::vector<Section>& sections) {
  out << "<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
         "<meta name='viewport' content='width=device-width, initial-scale=1'>"
      << "<title>互助保障计划 " << d.plan_year << " 年度报告</title><style>"
      << "body{font-family:-apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
         "margin:0;background:#f3f5f8;color:#1d2733}"
         "header{background:linear-gradient(120deg,#b5473f,#d0643a);color:#fff;padding:28px 40px}"
         "header h1{margin:0;font-size:26px}header p{margin:6px 0 0;opacity:.9}"
         "main{padding:24px 40px;max-width:1200px}"
         ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:14px;margin-bottom:22px}"
         ".kpi{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}"
         ".kpi .n{font-size:26px;font-weight:600;margin:6px 0}.kpi .t{color:#56616f;font-size:13px}"
         ".kpi .s{color:#7b8592;font-size:12px}"
         "section{background:#fff;border-radius:10px;padding:18px 22px;margin-bottom:18px;"
         "box-shadow:0 1px 3px rgba(0,0,0,.08)}"
         "section h2{font-size:17px;margin:0 0 12px}.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}"
         "table{border-collapse:collapse;font-size:13px}th,td{padding:5px 10px;border-bottom:1px solid #e6e9ee}"
         "th{text-align:left;color:#56616f;font-weight:600;background:#f8f9fb}td.n{text-align:right;font-variant-numeric:tabular-nums}"
         "tr:last-child td{border-bottom:none}"
         "svg .l{font-size:12px;fill:#39434f}svg .v{font-size:12px;fill:#1d2733;font-weight:600}"
         ".ct{font-size:12px;color:#7b8592;margin:0 0 4px}"
         "footer{color:#7b8592;font-size:12px;padding:0 40px 30px}"
      << "</style></head><body>\n<header><h1>新就业形态劳动者互助保障计划 · " << d.plan_year
      << " 保障年度报告</h1><p>数据来自事件日志（" << d.events << " 条事件），统计截至 "
      << absl::FormatCivilTime(as_of) << "</p></header>\n<main>\n<div class='kpis'>";
  for (const Kpi& k : kpis) {
    out << "<div class='kpi'><div class='t'>" << Html(k.label) << "</div><div class='n'>" << Html(k.value)
        << "</div><div class='s'>" << Html(k.note) << "</div></div>";
  }
  out << "</div>\n";
  for (const Section& s : sections) {
    out << "<section><h2>" << Html(s.title) << "</h2><div class='grid'><table><tr>";
    for (const std::string& c : s.columns) out << "<th>" << Html(c) << "</th>";
    out << "</tr>";
    for (const auto& r : s.rows) {
      out << "<tr>";
      for (const std::string& c : r) out << (Numeric(c) ? "<td class='n'>" : "<td>") << Html(c) << "</td>";
      out << "</tr>";
    }
    out << "</table>";
    if (!s.chart.empty()) out << "<div><p class='ct'>" << Html(s.chart_title) << "</p>" << Chart(s) << "</div>";
    out << "</div></section>\n";
  }
  out << "</main><footer>mutualctl report · 金额单位：元 · 每一项决定都可由 mutualctl audit verify 复核</footer></body></html>\n";
}

}  // namespace

namespace ops {

PlanYearReport::PlanYearReport(int plan_year) : data_(std::make_unique<ReportData>()) {
  data_->plan_year = plan_year;
}
PlanYearReport::~PlanYearReport() = default;

void PlanYearReport::Add(const v1::Envelope& event) { Fold(*data_, event); }

absl::Status PlanYearReport::ReadLog(const kafka::ClientConfig& client, const std::string& prefix) {
  for (const std::string& topic : EventsTopics(prefix)) {
    absl::Status s = ReadTopic(client, topic, [this](const kafka::Message& m) {
      absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(m);
      if (env.ok()) Fold(*data_, *env);
      return true;
    });
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat(topic, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::CivilDay PlanYearReport::last_day() const { return data_->last_day; }
int64_t PlanYearReport::events() const { return data_->events; }

PlanYearReport::Counts PlanYearReport::counts() const {
  Counts c;
  c.claims = static_cast<int64_t>(data_->claims.size());
  for (const auto& [id, claim] : data_->claims) {
    const bool paid = data_->paid.count(id) > 0;
    if (paid) {
      ++c.claims_paid;
    } else if (claim.decision.status() == v1::CLAIM_STATUS_APPROVED) {
      ++c.claims_approved_unpaid;
    } else if (claim.decision.status() == v1::CLAIM_STATUS_INVESTIGATING) {
      ++c.claims_investigating;
    }
  }
  c.sms_queued = data_->sms;
  c.sms_delivered = data_->sms_delivered;
  c.sms_failed = data_->sms_failed;
  return c;
}

absl::Status PlanYearReport::Write(std::ostream& out, const std::string& format,
                                   absl::CivilDay as_of) const {
  if (format != "table" && format != "csv" && format != "html" && format != "summary") {
    return absl::InvalidArgumentError("format: table, csv, html or summary");
  }
  Data d = *data_;  // Build marks the paid claims
  std::vector<Kpi> kpis;
  std::vector<Section> sections;
  Build(d, as_of, &kpis, &sections);
  if (format == "table" || format == "summary") WriteTable(out, d, as_of, kpis, sections, format == "summary");
  if (format == "csv") WriteCsv(out, d, kpis, sections);
  if (format == "html") WriteHtml(out, d, as_of, kpis, sections);
  return absl::OkStatus();
}

}  // namespace ops

int RunReportCommand(int argc, char** argv) {
  absl::StatusOr<ops::Args> args = ops::ParseArgs(argc, argv, {"help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->On("help")) {
    std::cout << kUsage;
    return 0;
  }
  int plan_year = 0;
  if (!absl::SimpleAtoi(args->Get("plan-year"), &plan_year)) return Usage("--plan-year Y is required");
  const std::string format = args->Get("format", nullptr, "table");
  if (format != "table" && format != "csv" && format != "html" && format != "summary") {
    return Usage("--format table|csv|html|summary");
  }
  ops::PlanYearReport report(plan_year);
  if (absl::Status s = report.ReadLog(ops::ClientFrom(*args), ops::PrefixFrom(*args)); !s.ok()) {
    std::cerr << "mutualctl report: " << s << '\n';
    return 2;
  }
  absl::CivilDay as_of = report.last_day();
  if (args->Has("as-of") && !ops::ParseDay(args->Get("as-of"), &as_of)) return Usage("--as-of YYYY-MM-DD");

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (args->Has("out")) {
    file.open(args->Get("out"), std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "mutualctl report: cannot write " << args->Get("out") << '\n';
      return 2;
    }
    out = &file;
  }
  if (absl::Status s = report.Write(*out, format, as_of); !s.ok()) return Usage(std::string(s.message()));
  out->flush();
  if (!*out) {
    std::cerr << "mutualctl report: write failed\n";
    return 2;
  }
  if (args->Has("out")) std::cerr << "wrote " << args->Get("out") << '\n';
  return 0;
}

}  // namespace mutualaid::mutualctl

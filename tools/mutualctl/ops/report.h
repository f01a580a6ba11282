// The plan-year report (mutualctl report) as a library: fold events, then
// write a table, CSV, a self-contained HTML page, or the short summary
// `mutualctl demo` prints. Everything it says comes from the events.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_OPS_REPORT_H_
#define MUTUALAID_TOOLS_MUTUALCTL_OPS_REPORT_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/v1/envelope.pb.h"

namespace mutualaid::mutualctl::ops {

struct ReportData;

class PlanYearReport {
 public:
  explicit PlanYearReport(int plan_year);
  ~PlanYearReport();
  PlanYearReport(const PlanYearReport&) = delete;
  PlanYearReport& operator=(const PlanYearReport&) = delete;

  // Folds one event (any topic; other plan years are ignored).
  void Add(const v1::Envelope& event);
  // Folds every event of the four events topics.
  absl::Status ReadLog(const kafka::ClientConfig& client, const std::string& topic_prefix);

  // The last day an event was recorded on: the default "as of" day.
  absl::CivilDay last_day() const;
  int64_t events() const;

  // What the demo waits for.
  struct Counts {
    int64_t claims = 0;
    int64_t claims_approved_unpaid = 0;  // approved, payment not yet confirmed
    int64_t claims_investigating = 0;
    int64_t claims_paid = 0;
    int64_t sms_queued = 0;
    int64_t sms_delivered = 0;
    int64_t sms_failed = 0;  // failed for good
  };
  Counts counts() const;

  // format: "table", "csv", "html" or "summary" (the headline figures,
  // rejections by reason, claims by benefit and decision, denials, the 90
  // days). InvalidArgument for another format.
  absl::Status Write(std::ostream& out, const std::string& format, absl::CivilDay as_of) const;

 private:
  std::unique_ptr<ReportData> data_;
};

}  // namespace mutualaid::mutualctl::ops

#endif  // MUTUALAID_TOOLS_MUTUALCTL_OPS_REPORT_H_

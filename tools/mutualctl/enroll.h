// `mutualctl enroll`: sends a platform's monthly enrollment CSV (§二: platforms
// push new enrollees monthly) through EnrollmentService.StreamEnrollments and
// writes one result row per input row.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_ENROLL_H_
#define MUTUALAID_TOOLS_MUTUALCTL_ENROLL_H_

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mutualaid/csv/encoding.h"
#include "mutualaid/v1/enrollment.pb.h"

namespace mutualaid::mutualctl {

// Exit codes of `mutualctl enroll`.
inline constexpr int kEnrollAllAccepted = 0;  // every row accepted or pending review
inline constexpr int kEnrollSomeRefused = 1;  // some row rejected, or unreadable
inline constexpr int kEnrollFailed = 2;       // usage, input file, auth or connection failure

// One data row of the input file.
struct EnrollmentRow {
  int row = 0;   // 1-based among the data rows (header and blank lines not counted)
  int line = 0;  // the line of the file the row starts on
  v1::EnrollmentRecord record;
  // Set when the CLI could not read the row; such a row is not sent.
  std::string unreadable;         // a code for the result CSV, e.g. "UNTERMINATED_QUOTE"
  std::string unreadable_field;   // the column at fault, when there is one
  std::string unreadable_detail;  // a sentence for stderr, never the row's personal data
  bool readable() const { return unreadable.empty(); }
};

struct EnrollmentFile {
  csv::Encoding encoding = csv::Encoding::kUtf8;  // what the bytes were read as
  std::vector<EnrollmentRow> rows;
};

// Reads a platform's enrollment CSV: a header row (English or Chinese column
// names), then one worker per row. InvalidArgument for what makes the whole
// file unusable (encoding, no header, a required column missing or repeated);
// a row it cannot read is returned with `unreadable` set.
absl::StatusOr<EnrollmentFile> ReadEnrollmentCsv(std::string_view bytes, csv::Encoding encoding);

// The Industry code for what a platform wrote: 网约送餐 → FOOD_DELIVERY,
// food_delivery → FOOD_DELIVERY. Anything else comes back unchanged, for the
// service to refuse with UNSUPPORTED_INDUSTRY.
std::string IndustryCode(std::string_view text);

// "march.csv" → "march.result.csv"; "march.txt" → "march.txt.result.csv".
std::string DefaultResultPath(std::string_view input);

struct EnrollOptions {
  std::string server;      // host:port
  std::string token_file;  // holds the platform's bearer token
  std::string ca_file;     // TLS when set
  csv::Encoding encoding = csv::Encoding::kAuto;
  std::string input;
  std::string out;  // empty: DefaultResultPath(input)
  int batch = 100;  // records in flight at most
  bool progress_bar = false;  // stderr is a terminal: redraw one line

  // Reconnecting after the stream breaks (not on the command line).
  int max_attempts_without_progress = 6;
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{8000};
  // No result (nor room to send) for this long: the stream is cancelled and retried.
  std::chrono::milliseconds idle_timeout{120000};
  std::chrono::milliseconds progress_interval{2000};  // plain progress lines
};

// The command line after `enroll`; InvalidArgument explains a usage error.
absl::StatusOr<EnrollOptions> ParseEnrollArgs(int argc, char** argv);

// Runs the upload: the summary on `out`, progress and errors on `err`; returns
// the exit code.
int Enroll(const EnrollOptions& options, std::ostream& out, std::ostream& err);

// The subcommand: `mutualctl enroll --server HOST:PORT --token-file FILE ... INPUT.csv`.
int RunEnrollCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_ENROLL_H_

// Fuzzes every request of the payout service's gRPC API: the first byte picks
// the message (and the second the payee of the payout a re-issue is about), the
// rest is parsed as it (libprotobuf), then the edge's checks run
// (services/payout/payout_api.h: CheckReissue, CheckImport, and the bank
// result file reader ParseResultFile on imported content) and each accepted
// command goes, as the PayoutCommand the edge appends to
// mutualaid.payout.requests, through PayoutLogic::Decide over an empty state
// (fuzz_support.h).
//
// Invariants: a message round-trips; a refusal is InvalidArgument naming the
// field (or what to send); a result file either is refused as a whole
// (InvalidArgument) or gives rows in line order after the header plus
// "line L: …" errors, never more rows and errors than lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "mutualaid/v1/payout.pb.h"
#include "services/payout/bank_gateway.h"
#include "services/payout/payout_api.h"
#include "services/payout/payout_logic.h"
#include "tests/fuzz/fuzz_support.h"

namespace mutualaid::fuzz {
namespace {

constexpr char kTopic[] = "mutualaid.payout.requests";

payout::PayoutLogic& Logic() {
  static auto* logic = new payout::PayoutLogic(payout::PayoutOptions{});
  return *logic;
}
const store::StateStore& Store() {
  static auto* s = new EmptyStore(Logic());
  return s->get();
}

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(absl::IsInvalidArgument(status), status.ToString());
  FUZZ_CHECK(NamesField(status.message()) ||
                 absl::StartsWith(status.message(), "content, or file_name"),
             status.message());
}

Decided DecideCommand(v1::PayoutCommand command) {
  command.set_worker_key("wk-fuzz");
  *command.mutable_recorded_at() = events::ToProto(Now());
  *command.mutable_recorded_on() = events::ToProto(Today());
  command.set_caller("finance:qian");
  kafka::Message m;
  m.topic = kTopic;
  m.key = command.worker_key();
  m.value = command.SerializeAsString();
  return DecideChecked(Logic(), Store(), m);
}

void Reissue(const v1::ReissuePayoutRequest& req, uint8_t byte) {
  const v1::PayeeKind payee = static_cast<v1::PayeeKind>(byte % 3);
  const absl::Status checked = payout::CheckReissue(req, payee);
  if (!checked.ok()) {
    CheckRefusal(checked);
    return;
  }
  FUZZ_CHECK(!req.reason().empty(), "a re-issue says why");
  v1::PayoutCommand command;
  command.set_request_id(absl::StrCat("reissue/", req.claim_id(), "/fuzz"));
  v1::PayoutReissueRequested* x = command.mutable_reissue();
  x->set_claim_id(req.claim_id());
  *x->mutable_corrected_card() = req.corrected_card();
  x->set_reason(req.reason());
  DecideCommand(std::move(command));
}

void Import(const v1::ImportBankResultsRequest& req) {
  const absl::Status checked = payout::CheckImport(req);
  if (!checked.ok()) {
    CheckRefusal(checked);
    return;
  }
  // By file name the edge reads the import directory: I/O, not fuzzed.
  if (req.content().empty()) return;
  std::vector<std::string> errors;
  absl::StatusOr<std::vector<payout::ResultRow>> rows =
      payout::ParseResultFile(req.content(), &errors);
  if (!rows.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(rows.status()), rows.status().ToString());
    return;
  }
  // CRLF, LF and a lone CR each end a line: at most one line per break plus one.
  const std::string& text = req.content();
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n') +
                                           std::count(text.begin(), text.end(), '\r')) +
                       1;
  FUZZ_CHECK(rows->size() + errors.size() <= lines, "more rows than lines");
  for (const std::string& e : errors) FUZZ_CHECK(absl::StartsWith(e, "line "), e);
  int last = 1;  // the header
  for (const payout::ResultRow& row : *rows) {
    FUZZ_CHECK(row.line > last, "rows in line order after the header");
    last = row.line;
  }
  // Each row as the command the edge appends (a few: the state is empty, so
  // every key is unmatched at the edge; Decide must still refuse cleanly).
  for (size_t i = 0; i < rows->size() && i < 4; ++i) {
    const payout::ResultRow& row = (*rows)[i];
    v1::PayoutCommand command;
    command.set_request_id(absl::StrCat("import/fuzz/", row.line));
    v1::BankResultRow* x = command.mutable_bank_result();
    x->set_idempotency_key(row.idempotency_key);
    x->set_status(row.status);
    x->set_transfer_id(row.transfer_id);
    x->set_reason(row.reason);
    x->set_file_name(req.file_name());
    x->set_line(row.line);
    DecideCommand(std::move(command));
  }
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
  const uint8_t which = data[0] % 6;
  const uint8_t detail = data[1];
  data += 2;
  size -= 2;
  switch (which) {
    case 0: {
      v1::ReissuePayoutRequest m;
      if (Parse(m, data, size)) Reissue(m, detail);
      break;
    }
    case 1: {
      v1::ImportBankResultsRequest m;
      if (Parse(m, data, size)) Import(m);
      break;
    }
    // The reads: no command, no pure checks beyond the wire format.
    case 2: {
      v1::GetPayoutRequest m;
      Parse(m, data, size);
      break;
    }
    case 3: {
      v1::ListPayoutsRequest m;
      Parse(m, data, size);
      break;
    }
    case 4: {
      v1::GetReconciliationReportRequest m;
      Parse(m, data, size);
      break;
    }
    case 5: {
      v1::ListAtRiskRequest m;
      Parse(m, data, size);
      break;
    }
  }
  return 0;
}

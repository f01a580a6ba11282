// fakebank — a bank transfer gateway for tests and demos (see README.md).
//
//   fakebank [flags]                       serve HTTP/JSON on 127.0.0.1
//   fakebank process-file IN.csv OUT.csv   pay a batch file, write the result file
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "bank.h"
#include "common/fake_gateway.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/http/server.h"

namespace mutualaid::fakebank {
namespace {

int Usage(const fakes::FlagParser& flags, std::string_view error) {
  if (!error.empty()) std::cerr << "fakebank: " << error << "\n";
  std::cerr << "usage: fakebank [flags]\n"
               "       fakebank process-file IN.csv OUT.csv [--ledger FILE] [--today YYYY-MM-DD]\n"
               "flags:\n"
            << flags.Help();
  return 2;
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

json::Value ClockJson(const BusinessClock& clock) {
  return json::Value::Object({{"today", fakes::FormatDay(clock.Today())},
                              {"simulated", clock.simulated()}});
}

void AddRoutes(http::Server& server, fakes::Faults& faults, Bank& bank, BusinessClock& clock) {
  // The bank's business day: credits are dated with it. A demo or test that
  // runs the services on a simulated clock moves the bank's day with them.
  server.Handle("GET", "/v1/clock", [&clock](const http::Request& r) {
    if (!r.path_rest.empty()) return fakes::JsonError(404, "NOT_FOUND", "GET /v1/clock");
    return fakes::JsonOk(ClockJson(clock));
  });
  server.Handle("POST", "/v1/clock", [&clock, &bank](const http::Request& r) {
    if (!r.path_rest.empty()) return fakes::JsonError(404, "NOT_FOUND", "POST /v1/clock");
    absl::StatusOr<json::Value> body = json::Parse(r.body);
    if (!body.ok() || !body->is_object()) {
      return fakes::JsonError(400, "INVALID_REQUEST", "body: a JSON object {\"today\": \"YYYY-MM-DD\"}");
    }
    const json::Value* today = body->Find("today");
    if (today == nullptr || !today->is_string()) {
      return fakes::JsonError(400, "INVALID_REQUEST", "today: required, a string YYYY-MM-DD");
    }
    absl::StatusOr<absl::CivilDay> day = fakes::ParseDay(today->string_value());
    if (!day.ok()) return fakes::JsonError(400, "INVALID_REQUEST", "today: not a date (YYYY-MM-DD)");
    // Journaled first: a restarted bank is on this day.
    if (absl::Status s = bank.SetDay(*day); !s.ok()) {
      return fakes::JsonError(500, "INTERNAL", std::string(s.message()));
    }
    return fakes::JsonOk(ClockJson(clock));
  });
  server.Handle("POST", "/v1/transfers", faults.Wrap(true, [&bank](const http::Request& r) {
    if (!r.path_rest.empty()) return fakes::JsonError(404, "NOT_FOUND", "POST /v1/transfers");
    absl::StatusOr<json::Value> body = json::Parse(r.body);
    if (!body.ok()) {
      return fakes::JsonError(400, "INVALID_REQUEST",
                              absl::StrCat("body: not JSON: ", std::string(body.status().message())));
    }
    absl::StatusOr<TransferRequest> request = RequestFromJson(*body);
    if (!request.ok()) {
      return fakes::JsonError(400, "INVALID_REQUEST", std::string(request.status().message()));
    }
    absl::StatusOr<Bank::Result> result = bank.Submit(*request);
    if (!result.ok()) {
      return fakes::JsonError(500, "INTERNAL", std::string(result.status().message()));
    }
    if (result->outcome == Bank::Outcome::kConflict) {
      return fakes::JsonError(409, "IDEMPOTENCY_CONFLICT", result->reason);
    }
    return fakes::JsonOk(TransferJson(result->transfer));
  }));
  server.Handle("GET", "/v1/transfers/", faults.Wrap(false, [&bank](const http::Request& r) {
    absl::StatusOr<std::string> key = http::PercentDecode(r.path_rest);
    if (!key.ok() || key->empty()) {
      return fakes::JsonError(400, "INVALID_REQUEST", "GET /v1/transfers/{idempotency_key}");
    }
    absl::StatusOr<Transfer> t = bank.Query(*key);
    if (absl::IsNotFound(t.status())) {
      return fakes::JsonError(404, "NOT_FOUND", absl::StrCat("no transfer with key ", *key));
    }
    if (!t.ok()) return fakes::JsonError(500, "INTERNAL", std::string(t.status().message()));
    return fakes::JsonOk(TransferJson(*t));
  }));
  server.Handle("GET", "/v1/ledger", faults.Wrap(false, [&bank](const http::Request& r) {
    const std::string day = r.QueryParam("day").value_or("");
    if (!day.empty() && !fakes::ParseDay(day).ok()) {
      return fakes::JsonError(400, "INVALID_REQUEST", "day: not a date (YYYY-MM-DD)");
    }
    return fakes::JsonOk(bank.Ledger(day));
  }));
  server.Handle("POST", "/v1/batch-files", faults.Wrap(true, [&bank](const http::Request& r) {
    absl::StatusOr<std::string> result = ProcessBatch(bank, r.body);
    if (absl::IsInvalidArgument(result.status())) {
      return fakes::JsonError(400, "INVALID_FILE", std::string(result.status().message()));
    }
    if (!result.ok()) return fakes::JsonError(500, "INTERNAL", std::string(result.status().message()));
    http::Response response = http::Response::Text(200, *std::move(result));
    response.headers = {{"Content-Type", "text/csv; charset=utf-8"}};
    return response;
  }));
}

int Main(int argc, char** argv) {
  fakes::BlockStopSignals();
  fakes::FlagParser flags;
  fakes::CommonOptions common;
  fakes::RegisterCommonFlags(flags, common);
  std::string ledger;
  std::string today;
  int64_t confirm_after_queries = 0;
  flags.String("ledger", &ledger, "JSON-lines file of every transfer (fsync'd; reloaded at start)");
  flags.String("today", &today,
               "the bank's first business day YYYY-MM-DD (default: the system clock; POST /v1/clock "
               "moves it; a day already in the --ledger journal wins)");
  flags.Int("confirm-after-queries", &confirm_after_queries,
            "N: a new transfer stays PENDING for N status queries, CONFIRMED on the next");
  absl::StatusOr<std::vector<std::string>> args = flags.Parse(argc - 1, argv + 1);
  if (!args.ok()) return Usage(flags, std::string(args.status().message()));
  if (absl::Status s = fakes::CheckCommonOptions(common); !s.ok()) return Usage(flags, std::string(s.message()));
  if (confirm_after_queries < 0) return Usage(flags, "--confirm-after-queries: must be >= 0");

  BusinessClock clock(SystemClock::Default());
  std::optional<absl::CivilDay> start_day;
  if (!today.empty()) {
    absl::StatusOr<absl::CivilDay> day = fakes::ParseDay(today);
    if (!day.ok()) return Usage(flags, absl::StrCat("--today: ", std::string(day.status().message())));
    start_day = *day;
  }
  // The day the ledger's journal holds wins over --today: a restart keeps it.
  absl::StatusOr<std::unique_ptr<Bank>> bank =
      Bank::Open(ledger, clock, confirm_after_queries, start_day);
  if (!bank.ok()) {
    std::cerr << "fakebank: " << bank.status().message() << "\n";
    return 1;
  }

  if (!args->empty()) {
    if ((*args)[0] != "process-file" || args->size() != 3) {
      return Usage(flags, "unexpected arguments");
    }
    std::ifstream in((*args)[1], std::ios::binary);
    if (!in) {
      std::cerr << "fakebank: cannot read " << (*args)[1] << "\n";
      return 2;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    absl::StatusOr<std::string> result = ProcessBatch(**bank, bytes);
    if (!result.ok()) {
      std::cerr << "fakebank: " << (*args)[1] << ": " << result.status().message() << "\n";
      return absl::IsInvalidArgument(result.status()) ? 2 : 1;
    }
    if (absl::Status s = WriteFileAtomically((*args)[2], *result); !s.ok()) {
      std::cerr << "fakebank: " << s.message() << "\n";
      return 1;
    }
    return 0;
  }

  http::Server server({.host = common.host,
                       .port = static_cast<int>(common.port),
                       .threads = static_cast<int>(common.threads),
                       .max_body_bytes = 16 * 1024 * 1024});
  fakes::Faults faults(common);
  AddRoutes(server, faults, **bank, clock);
  if (absl::Status s = server.Start(); !s.ok()) {
    std::cerr << "fakebank: " << s.message() << "\n";
    return 1;
  }
  fakes::ServeUntilSignalled(server, faults, common.host);
  return 0;
}

}  // namespace
}  // namespace mutualaid::fakebank

int main(int argc, char** argv) { return mutualaid::fakebank::Main(argc, argv); }

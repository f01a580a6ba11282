// mutualctl replay: rebuild one service's state from the log into a fresh
// store and compare its digest with the live service's.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/processor/replay.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "channel.h"
#include "ops.h"
#include "services/claims/claims_logic.h"
#include "services/enrollment/enrollment_logic.h"
#include "services/notification/notification_logic.h"
#include "services/payout/payout_logic.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl replay --service enrollment|claims|payout|notification\n"
    "                        [--until YYYY-MM-DD] [--dir DIR] [--keep]\n"
    "                        [--server HOST:PORT --token-file FILE]\n"
    "                        [--bootstrap HOST:PORT] [--topic-prefix P]\n"
    "Rebuilds the service's state from its topics into a fresh store (a temporary\n"
    "directory unless --dir) and prints events applied, events/s and the digest.\n"
    "With --server (and no --until) compares with the live service's digest\n"
    "(AdminService.GetStateDigest, operations token). --until D: the state as of\n"
    "day D (each partition stops at its first event recorded after D).\n"
    "Exit: 0 equal (or no comparison), 1 differs, 2 error.\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl replay: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

int Error(const std::string& what) {
  std::cerr << "mutualctl replay: " << what << '\n';
  return 2;
}

struct ServiceLogic {
  std::unique_ptr<processor::Logic> logic;
  std::vector<std::string> topics;  // events topic first, then input event topics
};

// The logic and applied topics of a service, as its main.cc sets them up
// (Apply needs no gateway, bank or clock).
std::optional<ServiceLogic> LogicFor(const std::string& service, const std::string& prefix) {
  auto t = [&prefix](absl::string_view name) { return prefix + std::string(name); };
  ServiceLogic s;
  if (service == "enrollment") {
    s.logic = std::make_unique<enrollment::EnrollmentLogic>("mutualctl-replay");
    s.topics = {t(kafka::kEnrollmentEvents), t(kafka::kClaimsEvents)};
  } else if (service == "claims") {
    claims::LogicOptions lo;
    lo.producer = "mutualctl-replay";
    s.logic = std::make_unique<claims::ClaimsLogic>(lo);
    s.topics = {t(kafka::kClaimsEvents), t(kafka::kEnrollmentEvents)};
  } else if (service == "payout") {
    payout::PayoutOptions lo;
    lo.producer = "mutualctl-replay";
    lo.commands_topic = t(kafka::kPayoutRequests);
    s.logic = std::make_unique<payout::PayoutLogic>(lo);
    s.topics = {t(kafka::kPayoutEvents), t(kafka::kEnrollmentEvents), t(kafka::kClaimsEvents)};
  } else if (service == "notification") {
    notification::LogicOptions lo;
    lo.producer = "mutualctl-replay";
    lo.requests_topic = t(kafka::kNotificationRequests);
    s.logic = std::make_unique<notification::NotificationLogic>(lo, nullptr);
    s.topics = {t(kafka::kNotificationEvents), t(kafka::kEnrollmentEvents)};
  } else {
    return std::nullopt;
  }
  return s;
}

void DrawProgress(int64_t done, int64_t total, double seconds) {
  constexpr int kWidth = 30;
  const double frac = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0.0;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r[%s] %3d%% %lld/%lld events  %.0f/s ", bar.c_str(),
               static_cast<int>(frac * 100), static_cast<long long>(done),
               static_cast<long long>(total), seconds > 0 ? done / seconds : 0.0);
  std::fflush(stderr);
}

}  // namespace

int RunReplayCommand(int argc, char** argv) {
  absl::StatusOr<ops::Args> args = ops::ParseArgs(argc, argv, {"keep", "help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->On("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args->positional.empty()) return Usage("unexpected argument " + args->positional[0]);
  const std::string service = args->Get("service");
  if (service.empty()) return Usage("--service is required");
  const std::string prefix = ops::PrefixFrom(*args);
  std::optional<ServiceLogic> s = LogicFor(service, prefix);
  if (!s) return Usage("unknown service \"" + service + "\"");

  std::optional<absl::CivilDay> until;
  if (args->Has("until")) {
    absl::CivilDay d;
    if (!ops::ParseDay(args->Get("until"), &d)) return Usage("--until: YYYY-MM-DD");
    until = d;
  }
  const std::string server = args->Get("server", "MUTUALAID_SERVER");
  const bool compare = args->Has("server") && !until;
  std::string token;
  if (compare) {
    absl::StatusOr<std::string> t =
        ops::ReadTokenFile(args->Get("token-file", "MUTUALAID_TOKEN_FILE"));
    if (!t.ok()) return Usage(std::string(t.status().message()));
    token = *t;
  }

  // The store: --dir (must be empty or absent) or a temporary directory.
  namespace fs = std::filesystem;
  fs::path dir;
  bool temporary = false;
  if (args->Has("dir")) {
    dir = args->Get("dir");
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
      return Error(absl::StrCat(dir.string(), " is not empty: replay needs a fresh store"));
    }
  } else {
    std::random_device rd;
    dir = fs::temp_directory_path() /
          absl::StrFormat("mutualctl-replay-%s-%d-%08x", service, getpid(), rd());
    temporary = true;
  }

  processor::ReplayOptions ro;
  ro.client = ops::ClientFrom(*args);
  ro.topics = s->topics;
  if (until) {
    const absl::CivilDay last = *until;
    ro.stop_at = [last](const kafka::Message& m) {
      absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(m);
      if (!env.ok()) return false;  // malformed: Apply skips it
      return ops::RecordedDay(*env) > last;
    };
  }
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&started] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  const bool tty = isatty(STDERR_FILENO) == 1;
  int64_t total = 0;
  if (tty) {
    absl::StatusOr<int64_t> n = ops::RecordCount(ro.client, ro.topics);
    if (n.ok()) total = *n;
    ro.progress_every = 500;
    ro.progress = [&](int64_t events) { DrawProgress(events, total, elapsed()); };
  }

  absl::StatusOr<processor::ReplayResult> result;
  {
    store::StateStore::Options so;
    so.column_families = processor::ColumnFamiliesFor(*s->logic);
    absl::StatusOr<std::unique_ptr<store::StateStore>> store =
        store::StateStore::Open(dir.string(), so);
    if (!store.ok()) return Error(absl::StrCat("store ", dir.string(), ": ", store.status().ToString()));
    result = processor::Replay(ro, *s->logic, **store);
    (void)(*store)->Close();
  }
  if (temporary && !args->On("keep")) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  if (tty) {
    if (result.ok()) DrawProgress(result->events, std::max(total, result->events), elapsed());
    std::fputc('\n', stderr);
  }
  if (!result.ok()) return Error(result.status().ToString());
  const double secs = elapsed();

  std::cout << absl::StrFormat("service        %s\n", service);
  std::cout << absl::StrFormat("topics         %s\n", absl::StrJoin(s->topics, ", "));
  if (until) std::cout << absl::StrFormat("until          %s\n", absl::FormatCivilTime(*until));
  std::cout << absl::StrFormat("events applied %d\n", result->events);
  if (result->skipped > 0) std::cout << absl::StrFormat("skipped        %d (malformed)\n", result->skipped);
  std::cout << absl::StrFormat("events/s       %.0f\n", secs > 0 ? result->events / secs : 0.0);
  std::cout << absl::StrFormat("digest         %s\n", result->digest);
  if (!temporary || args->On("keep")) std::cout << absl::StrFormat("store          %s\n", dir.string());
  if (args->Has("server") && until) {
    std::cout << "live           not compared (--until gives a past state)\n";
  }
  if (!compare) return 0;

  auto stub = v1::AdminService::NewStub(OpenChannel(server));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::GetStateDigestResponse live;
  grpc::Status gs = stub->GetStateDigest(&ctx, v1::GetStateDigestRequest(), &live);
  if (!gs.ok()) {
    return Error(absl::StrCat(server, ": GetStateDigest: ", gs.error_message(), " (code ",
                              static_cast<int>(gs.error_code()), ")"));
  }
  std::cout << absl::StrFormat("live digest    %s\n", live.digest());
  if (live.digest() == result->digest) {
    std::cout << "result         EQUAL: the replay rebuilt the live state\n";
    return 0;
  }
  std::cout << "result         DIFFERS from the live service";
  std::cout << " (a service still catching up or with events not yet applied differs too;\n"
               "               its applied offsets:";
  for (const v1::PartitionOffset& o : live.applied()) {
    std::cout << ' ' << o.topic() << '/' << o.partition() << '@' << o.next_offset();
  }
  std::cout << ")\n";
  return 1;
}

}  // namespace mutualaid::mutualctl

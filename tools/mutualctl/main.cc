// mutualctl — the operations CLI: `mutualctl <subcommand> [args…]`.
#include <iostream>
#include <span>
#include <string_view>

#include "admin.h"
#include "channel.h"
#include "claim.h"
#include "demo.h"
#include "enroll.h"
#include "erase.h"
#include "generate.h"
#include "ops/ops.h"
#include "payout.h"
#include "simulate.h"
#include "sms.h"
#include "subcommand.h"

namespace mutualaid::mutualctl {
namespace {

int RunHelp(int argc, char** argv);

// One row per subcommand.
constexpr Subcommand kSubcommands[] = {
    {"simulate", &RunSimulateCommand, "simulate FILE|-",
     "run a scenario through the plan rules; one JSON decision per step"},
    {"enroll", &RunEnrollCommand, "enroll [opts] INPUT.csv",
     "send a platform's enrollment CSV to the enrollment service; --help for options"},
    {"platform", &RunPlatformCommand, "platform register|list",
     "register a gig platform (id, name, payout account) or list them"},
    {"clock", &RunClockCommand, "clock get|set|advance",
     "read or move the services' simulated clock (--server A,B,…)"},
    {"generate", &RunGenerateCommand, "generate workers --count N",
     "write a platform's enrollment CSV of made-up workers (demos, load)"},
    {"claim", &RunClaimCommand, "claim [opts] | get ID",
     "file a claim with the claims service and show the decision; --help for options"},
    {"payout", &RunPayoutCommand, "payout get|list|reissue|…",
     "payouts: show, list, re-issue, reconcile with the bank, at-risk, import a result file"},
    {"replay", &RunReplayCommand, "replay --service S",
     "rebuild a service's state from the log; compare its digest with the live one"},
    {"sms", &RunSmsCommand, "sms list|resend",
     "a worker's SMS (--id-number, masked) or resend a failed one (MESSAGE_ID)"},
    {"audit", &RunAuditCommand, "audit verify|what-if",
     "check the events' audit chain and re-run recorded decisions; what-if under other plan data"},
    {"report", &RunReportCommand, "report --plan-year Y",
     "the plan year from the events: enrollments, fees, claims, amounts, 90 days (table|csv|html)"},
    {"history", &RunHistoryCommand, "history --worker ID",
     "one worker's timeline across the topics, personal data masked"},
    {"demo", &RunDemoCommand, "demo",
     "plan year 2022 on the running local stack: enrollments, claims, payouts, SMS, summary"},
    {"erase", &RunEraseCommand, "erase --id-number ID",
     "PIPL erasure: the worker's personal data can no longer be opened (operations)"},
    {"help", &RunHelp, "help", "list the subcommands"},
};

void PrintUsage(std::ostream& out) {
  out << "usage: mutualctl [--ca-cert FILE [--client-cert FILE --client-key FILE]] <subcommand> "
         "[args...]\n\n"
         "  --ca-cert FILE      talk TLS to the services, trusting this CA certificate\n"
         "                      (or MUTUALAID_CA_CERT=FILE; local stack: var/local/certs/ca.pem)\n"
         "  --client-cert FILE  over TLS, present this client certificate (services with\n"
         "  --client-key FILE   grpc.tls_client_ca require one; or MUTUALAID_CLIENT_CERT and\n"
         "                      MUTUALAID_CLIENT_KEY; local stack: var/local/certs/mutualctl.pem/.key)\n\n"
         "subcommands:\n";
  for (const Subcommand& command : kSubcommands) {
    out << "  " << command.usage;
    for (size_t i = command.usage.size(); i < 24; ++i) out << ' ';
    out << "  " << command.summary << '\n';
  }
}

int RunHelp(int /*argc*/, char** /*argv*/) {
  PrintUsage(std::cout);
  return 0;
}

}  // namespace
}  // namespace mutualaid::mutualctl

int main(int argc, char** argv) {
  using mutualaid::mutualctl::kSubcommands;
  if (argc < 2) {
    mutualaid::mutualctl::PrintUsage(std::cerr);
    return 2;
  }
  // Options before the subcommand: --ca-cert FILE (TLS to the services),
  // --client-cert FILE and --client-key FILE (the certificate it presents).
  auto starts = [](std::string_view arg, std::string_view flag) {
    return arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
                           arg[flag.size()] == '=');
  };
  while (argc >= 2) {
    const std::string_view arg = argv[1];
    std::string_view flag;
    for (std::string_view f : {"--ca-cert", "--client-cert", "--client-key"}) {
      if (starts(arg, f)) flag = f;
    }
    if (flag.empty()) break;
    std::string file;
    if (arg == flag && argc >= 3) {
      file = argv[2];
      argc -= 2;
      argv += 2;
    } else if (arg != flag) {
      file = std::string(arg.substr(flag.size() + 1));
      argc -= 1;
      argv += 1;
    } else {
      file.clear();
      argc -= 1;
      argv += 1;
    }
    if (file.empty()) {
      std::cerr << "mutualctl: " << flag << " needs a file\n";
      return 2;
    }
    if (flag == "--ca-cert") {
      if (absl::Status s = mutualaid::mutualctl::SetCaCertFile(file); !s.ok()) {
        std::cerr << "mutualctl: " << s.message() << '\n';
        return 2;
      }
    } else if (flag == "--client-cert") {
      mutualaid::mutualctl::SetClientCertFile(file);
    } else {
      mutualaid::mutualctl::SetClientKeyFile(file);
    }
  }
  if (absl::Status s = mutualaid::mutualctl::CheckCaCertFile(); !s.ok()) {
    std::cerr << "mutualctl: " << s.message() << '\n';
    return 2;
  }
  if (absl::Status s = mutualaid::mutualctl::CheckClientCert(); !s.ok()) {
    std::cerr << "mutualctl: " << s.message() << '\n';
    return 2;
  }
  if (argc < 2) {
    mutualaid::mutualctl::PrintUsage(std::cerr);
    return 2;
  }
  const std::string_view name = argv[1];
  for (const auto& command : kSubcommands) {
    if (command.name == name) return command.run(argc - 2, argv + 2);
  }
  std::cerr << "mutualctl: unknown subcommand \"" << name << "\"\n";
  mutualaid::mutualctl::PrintUsage(std::cerr);
  return 2;
}

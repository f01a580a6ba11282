#include "erase.h"
#include "channel.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl erase (--id-number ID | --worker-key KEY) --server HOST:PORT --token-file FILE\n"
    "Erases the worker's data keys (EnrollmentService.EraseWorkerData, operations token):\n"
    "their name, ID number, phone sealed in every topic and store can no longer be opened;\n"
    "decisions, amounts, dates and reason codes stay, and the year still replays.\n"
    "--server / --token-file default to $MUTUALAID_SERVER / $MUTUALAID_TOKEN_FILE (the\n"
    "enrollment service). Exit: 0 erased (or already erased), 1 refused, 2 usage.\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl erase: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

}  // namespace

int RunEraseCommand(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") return Usage("");
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) return Usage("unexpected argument " + a);
    flags[a.substr(2)] = argv[++i];
  }
  auto flag = [&](const std::string& name, const char* env) {
    auto it = flags.find(name);
    if (it != flags.end()) return it->second;
    const char* v = env != nullptr ? std::getenv(env) : nullptr;
    return std::string(v != nullptr ? v : "");
  };
  for (const auto& [name, value] : flags) {
    if (name != "id-number" && name != "worker-key" && name != "server" && name != "token-file") {
      return Usage("unknown option --" + name);
    }
  }
  v1::EraseWorkerDataRequest req;
  req.set_id_number(flag("id-number", nullptr));
  req.set_worker_key(flag("worker-key", nullptr));
  if (req.id_number().empty() == req.worker_key().empty()) {
    return Usage("give --id-number or --worker-key (one of them)");
  }
  const std::string server = flag("server", "MUTUALAID_SERVER");
  const std::string token_file = flag("token-file", "MUTUALAID_TOKEN_FILE");
  if (server.empty() || token_file.empty()) return Usage("--server and --token-file are required");
  std::ifstream in(token_file);
  if (!in) return Usage("cannot read token file " + token_file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) return Usage(token_file + " holds no token");

  auto stub = v1::EnrollmentService::NewStub(OpenChannel(server));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::EraseWorkerDataResponse resp;
  grpc::Status s = stub->EraseWorkerData(&ctx, req, &resp);
  if (!s.ok()) {
    std::cerr << "mutualctl erase: " << server << ": " << s.error_message() << " (code "
              << static_cast<int>(s.error_code()) << ")\n";
    return 1;
  }
  std::cout << "worker key     " << resp.worker_key() << "\n"
            << "keys erased    " << resp.keys_erased() << "\n"
            << "result         "
            << (resp.keys_erased() > 0 ? "ERASED: the worker's personal data can no longer be opened"
                                       : "ALREADY ERASED")
            << "\n";
  return 0;
}

}  // namespace mutualaid::mutualctl

#include "admin.h"
#include "channel.h"

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mutualaid/v1/admin.grpc.pb.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl platform register --id ID --name NAME --account ACCOUNT [--bank BANK]\n"
    "                                   [--contact-name NAME] [--contact-phone PHONE] [conn]\n"
    "       mutualctl platform list [conn]\n"
    "       mutualctl clock get [conn]\n"
    "       mutualctl clock set YYYY-MM-DD [conn]\n"
    "       mutualctl clock advance DAYS [conn]\n"
    "conn:  --server HOST:PORT[,HOST:PORT…]  (default $MUTUALAID_SERVER)\n"
    "       --token-file FILE                (default $MUTUALAID_TOKEN_FILE)\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

// --name value pairs after the positional words.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

bool Parse(int argc, char** argv, Args* out, std::string* error) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        *error = a + " needs a value";
        return false;
      }
      out->flags[a.substr(2)] = argv[++i];
    } else {
      out->positional.push_back(a);
    }
  }
  return true;
}

std::string Flag(const Args& a, const std::string& name, const char* env = nullptr) {
  auto it = a.flags.find(name);
  if (it != a.flags.end()) return it->second;
  const char* v = env != nullptr ? std::getenv(env) : nullptr;
  return v != nullptr ? v : "";
}

bool ReadToken(const std::string& path, std::string* token, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read token file " + path;
    return false;
  }
  std::stringstream s;
  s << in.rdbuf();
  *token = std::string(absl::StripAsciiWhitespace(s.str()));
  if (token->empty()) {
    *error = path + " holds no token";
    return false;
  }
  return true;
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

int Failed(const std::string& server, const grpc::Status& s) {
  std::cerr << "mutualctl: " << server << ": " << s.error_message() << " (code "
            << static_cast<int>(s.error_code()) << ")\n";
  return 1;
}

// Resolves --server/--token-file; false with a message on error.
bool Connection(const Args& a, std::vector<std::string>* servers, std::string* token,
                std::string* error) {
  std::string list = Flag(a, "server", "MUTUALAID_SERVER");
  std::string token_file = Flag(a, "token-file", "MUTUALAID_TOKEN_FILE");
  if (list.empty() || token_file.empty()) {
    *error = "--server and --token-file are required";
    return false;
  }
  *servers = absl::StrSplit(list, ',', absl::SkipEmpty());
  return ReadToken(token_file, token, error);
}

void PrintClock(const std::string& server, const v1::ClockState& c) {
  std::cout << absl::StrFormat("%-22s %04d-%02d-%02d %s\n", server, c.today().year(),
                               c.today().month(), c.today().day(),
                               c.simulated() ? "(simulated)" : "(system)");
}

}  // namespace

int RunPlatformCommand(int argc, char** argv) {
  Args a;
  std::string error;
  if (!Parse(argc, argv, &a, &error)) return Usage(error);
  if (a.positional.size() != 1) return Usage("platform: register or list");
  std::vector<std::string> servers;
  std::string token;
  if (!Connection(a, &servers, &token, &error)) return Usage(error);
  auto stub = v1::AdminService::NewStub(
      OpenChannel(servers.front()));
  if (a.positional[0] == "register") {
    v1::RegisterPlatformRequest req;
    v1::Platform* p = req.mutable_platform();
    p->set_platform_id(Flag(a, "id"));
    p->set_name(Flag(a, "name"));
    p->set_payout_account(Flag(a, "account"));
    p->set_payout_bank(Flag(a, "bank"));
    p->set_contact_name(Flag(a, "contact-name"));
    p->set_contact_phone(Flag(a, "contact-phone"));
    if (p->platform_id().empty() || p->name().empty() || p->payout_account().empty()) {
      return Usage("platform register: --id, --name and --account are required");
    }
    v1::RegisterPlatformResponse resp;
    grpc::Status s = stub->RegisterPlatform(Context(token).get(), req, &resp);
    if (!s.ok()) return Failed(servers.front(), s);
    std::cout << "platform " << resp.platform().platform_id()
              << (resp.already_registered() ? " was already registered\n" : " registered\n");
    return 0;
  }
  if (a.positional[0] == "list") {
    v1::ListPlatformsResponse resp;
    grpc::Status s = stub->ListPlatforms(Context(token).get(), {}, &resp);
    if (!s.ok()) return Failed(servers.front(), s);
    for (const v1::Platform& p : resp.platforms()) {
      std::cout << absl::StrFormat("%-8s %-20s %s\n", p.platform_id(), p.name(),
                                   p.payout_account());
    }
    return 0;
  }
  return Usage("platform: register or list");
}

int RunClockCommand(int argc, char** argv) {
  Args a;
  std::string error;
  if (!Parse(argc, argv, &a, &error)) return Usage(error);
  if (a.positional.empty()) return Usage("clock: get, set or advance");
  std::vector<std::string> servers;
  std::string token;
  if (!Connection(a, &servers, &token, &error)) return Usage(error);
  const std::string& verb = a.positional[0];
  int failures = 0;
  for (const std::string& server : servers) {
    auto stub =
        v1::AdminService::NewStub(OpenChannel(server));
    v1::ClockState state;
    grpc::Status s;
    if (verb == "get" && a.positional.size() == 1) {
      s = stub->GetClock(Context(token).get(), {}, &state);
    } else if (verb == "set" && a.positional.size() == 2) {
      std::vector<std::string> ymd = absl::StrSplit(a.positional[1], '-');
      int y = 0, m = 0, d = 0;
      if (ymd.size() != 3 || !absl::SimpleAtoi(ymd[0], &y) || !absl::SimpleAtoi(ymd[1], &m) ||
          !absl::SimpleAtoi(ymd[2], &d)) {
        return Usage("clock set: YYYY-MM-DD");
      }
      v1::SetClockRequest req;
      req.mutable_today()->set_year(y);
      req.mutable_today()->set_month(m);
      req.mutable_today()->set_day(d);
      s = stub->SetClock(Context(token).get(), req, &state);
    } else if (verb == "advance" && a.positional.size() == 2) {
      int days = 0;
      if (!absl::SimpleAtoi(a.positional[1], &days) || days < 0) {
        return Usage("clock advance: a whole number of days");
      }
      v1::AdvanceClockRequest req;
      req.set_days(days);
      s = stub->AdvanceClock(Context(token).get(), req, &state);
    } else {
      return Usage("clock: get | set YYYY-MM-DD | advance DAYS");
    }
    if (!s.ok()) {
      Failed(server, s);
      ++failures;
      continue;
    }
    PrintClock(server, state);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace mutualaid::mutualctl

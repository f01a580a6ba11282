#include "sms.h"
#include "channel.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "mutualaid/v1/notification.grpc.pb.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl sms list --id-number ID_NUMBER [--json] [conn]\n"
    "       mutualctl sms resend MESSAGE_ID [--json] [conn]   (operations; failed messages only)\n"
    "conn:  --server HOST:PORT  (the notification service; default $MUTUALAID_SERVER)\n"
    "       --token-file FILE   (default $MUTUALAID_TOKEN_FILE)\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl sms: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
  bool json = false;
};

bool Parse(int argc, char** argv, Args* out, std::string* error) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      out->json = true;
    } else if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        *error = a + " needs a value";
        return false;
      }
      out->flags[a.substr(2)] = argv[++i];
    } else {
      out->positional.push_back(a);
    }
  }
  for (const auto& [name, value] : out->flags) {
    if (name != "id-number" && name != "server" && name != "token-file") {
      *error = "unknown flag --" + name;
      return false;
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

std::string Status(v1::SmsStatus s) {
  const std::string& n = v1::SmsStatus_Name(s);
  return n.rfind("SMS_STATUS_", 0) == 0 ? n.substr(11) : n;
}

std::string Template(v1::SmsTemplate t) {
  const std::string& n = v1::SmsTemplate_Name(t);
  return n.rfind("SMS_TEMPLATE_", 0) == 0 ? n.substr(13) : n;
}

void PrintJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  std::cout << out << '\n';
}

void PrintMessage(const v1::SmsMessage& m) {
  std::cout << absl::StrFormat("%-9s %-16s %-11s attempts=%d segments=%d%s\n  id:   %s\n  text: %s\n",
                               Status(m.status()), Template(m.template_()), m.phone_masked(),
                               m.attempts(), m.segments(),
                               m.failure_reason().empty() ? "" : "  reason=" + m.failure_reason(),
                               m.message_id(), m.text());
}

int Failed(const grpc::Status& s) {
  std::cerr << "mutualctl sms: " << s.error_message() << " (code " << static_cast<int>(s.error_code())
            << ")\n";
  return 1;
}

}  // namespace

int RunSmsCommand(int argc, char** argv) {
  Args a;
  std::string error;
  if (!Parse(argc, argv, &a, &error)) return Usage(error);
  if (a.positional.empty()) return Usage("list or resend");
  const std::string server = Flag(a, "server", "MUTUALAID_SERVER");
  const std::string token_file = Flag(a, "token-file", "MUTUALAID_TOKEN_FILE");
  if (server.empty() || token_file.empty()) return Usage("--server and --token-file are required");
  std::ifstream in(token_file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (!in || token.empty()) return Usage("cannot read a token from " + token_file);

  auto stub = v1::NotificationService::NewStub(
      OpenChannel(server));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));

  if (a.positional[0] == "list") {
    if (a.positional.size() != 1) return Usage("list takes no arguments besides flags");
    v1::ListMessagesRequest req;
    req.set_id_number(Flag(a, "id-number"));
    if (req.id_number().empty()) return Usage("list: --id-number is required");
    req.mutable_page()->set_page_size(1000);
    v1::ListMessagesResponse resp;
    grpc::Status s = stub->ListMessages(&ctx, req, &resp);
    if (!s.ok()) return Failed(s);
    if (a.json) {
      PrintJson(resp);
      return 0;
    }
    if (resp.messages().empty()) std::cout << "no messages\n";
    for (const v1::SmsMessage& m : resp.messages()) PrintMessage(m);
    return 0;
  }
  if (a.positional[0] == "resend") {
    if (a.positional.size() != 2) return Usage("resend MESSAGE_ID");
    v1::ResendMessageRequest req;
    req.set_message_id(a.positional[1]);
    v1::ResendMessageResponse resp;
    grpc::Status s = stub->ResendMessage(&ctx, req, &resp);
    if (!s.ok()) return Failed(s);
    if (a.json) {
      PrintJson(resp);
    } else {
      PrintMessage(resp.message());
    }
    return 0;
  }
  return Usage("unknown sms command " + a.positional[0]);
}

}  // namespace mutualaid::mutualctl

#include "services/notification/notification_api.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/server/server.h"
#include "mutualaid/store/keys.h"
#include "services/notification/notification_logic.h"

namespace mutualaid::notification {
namespace {

using server::Role;
using server::ToGrpcStatus;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

std::string NewId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&a), 8)) +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&b), 8));
}

// What a caller may see of a message: never the clear phone (the record's
// SmsMessage holds only the masked one and the masked-name text).
v1::SmsMessage Shown(const v1::SmsRecord& r) {
  v1::SmsMessage m = r.message();
  m.clear_sealed_phone();
  return m;
}

}  // namespace

absl::Status CheckResend(const v1::ResendMessageRequest& req) {
  if (req.message_id().empty()) return absl::InvalidArgumentError("message_id: required");
  return absl::OkStatus();
}

NotificationApi::NotificationApi(ApiOptions options, const server::TokenAuthenticator& auth,
                                 const Clock& clock, const WorkerKeyer& keyer,
                                 kafka::Producer& producer, const store::StateStore& store,
                                 server::Answers& answers)
    : o_(std::move(options)),
      auth_(auth),
      clock_(clock),
      keyer_(keyer),
      producer_(producer),
      store_(store),
      answers_(answers) {}

grpc::Status NotificationApi::ListMessages(grpc::ServerContext* ctx,
                                           const v1::ListMessagesRequest* req,
                                           v1::ListMessagesResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListMessages",
                               {Role::kOperations, Role::kHall, Role::kDistrictCentre});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->id_number().empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "id_number: required");
  const std::string prefix = store::KeyBuilder().Text(keyer_.KeyFor(req->id_number())).Prefix();
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = req->page().page_size() <= 0 ? kDefaultPage
                                                 : std::min(req->page().page_size(), kMaxPage);
  std::string last;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_.ScanPrefix(kByWorker, prefix, [&](absl::string_view key, absl::string_view) {
    if (!after.empty() && key <= after) return true;
    // worker_key/seq/message_id: the id is what follows the 8-byte seq.
    const std::string message_id(key.substr(prefix.size() + 9));
    auto r = ReadMessage(store_, message_id);
    if (!r.ok()) {
      bad = r.status();
      return false;
    }
    if (!r->has_value()) return true;
    if (resp->messages_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    *resp->add_messages() = Shown(**r);
    last = std::string(key);
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!bad.ok()) return ToGrpcStatus(bad);
  return grpc::Status::OK;
}

grpc::Status NotificationApi::ResendMessage(grpc::ServerContext* ctx,
                                            const v1::ResendMessageRequest* req,
                                            v1::ResendMessageResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ResendMessage", {Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (absl::Status checked = CheckResend(*req); !checked.ok()) return ToGrpcStatus(checked);
  auto r = ReadMessage(store_, req->message_id());
  if (!r.ok()) return ToGrpcStatus(r.status());
  if (!r->has_value()) return Error(grpc::StatusCode::NOT_FOUND, "no message with that id");
  if ((*r)->message().status() != v1::SMS_STATUS_FAILED) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION,
                 absl::StrCat("only a failed message is resent; this one is ",
                              v1::SmsStatus_Name((*r)->message().status())));
  }
  const std::string request_id = absl::StrCat("sms-resend/", NewId());
  const absl::Time now = clock_.Now();
  v1::SmsCommand command;
  command.set_request_id(request_id);
  command.set_worker_key((*r)->message().worker_key());
  *command.mutable_recorded_at() = events::ToProto(now);
  *command.mutable_recorded_on() = events::ToProto(ShanghaiDay(now));
  command.set_caller(who->ToString());
  command.mutable_resend()->set_message_id(req->message_id());
  auto ticket = answers_.Expect(request_id);
  if (auto a = producer_.Append(o_.requests_topic, command.worker_key(),
                                command.SerializeAsString());
      !a.ok()) {
    answers_.Forget(request_id, ticket);
    return ToGrpcStatus(a.status());
  }
  auto got = ticket->Wait(o_.decision_timeout);
  if (!got.ok()) {
    answers_.Forget(request_id, ticket);
    // Decided otherwise meanwhile (another operator resent it): say how it stands.
    auto now_r = ReadMessage(store_, req->message_id());
    if (now_r.ok() && now_r->has_value() &&
        (*now_r)->message().status() != v1::SMS_STATUS_FAILED) {
      *resp->mutable_message() = Shown(**now_r);
      return grpc::Status::OK;
    }
    return ToGrpcStatus(got.status());
  }
  *resp->mutable_message() = got->front().sms_queued().message();
  return grpc::Status::OK;
}

}  // namespace mutualaid::notification

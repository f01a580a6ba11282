#include "services/notification/sms_gateway.h"

#include "absl/strings/str_cat.h"
#include "mutualaid/http/message.h"
#include "mutualaid/json/json.h"

namespace mutualaid::notification {
namespace {

using Outcome = GatewayReport::Outcome;

GatewayReport Transient(std::string reason) {
  return {Outcome::kTransient, "", std::move(reason)};
}

// The error code of a 4xx/5xx JSON body, or "HTTP <status>".
std::string ErrorOf(const http::Response& r) {
  absl::StatusOr<json::Value> body = json::Parse(r.body);
  if (body.ok() && body->is_object()) {
    if (const json::Value* e = body->Find("error"); e != nullptr && e->is_string()) {
      return e->string_value();
    }
  }
  return absl::StrCat("HTTP ", r.status);
}

// A status body: {"message_id","gateway_id","status","reason"}.
GatewayReport FromStatus(const http::Response& r) {
  absl::StatusOr<json::Value> body = json::Parse(r.body);
  if (!body.ok() || !body->is_object()) return Transient("unreadable gateway answer");
  GatewayReport out;
  out.gateway_id = json::GetOptionalString(*body, "gateway_id").value_or("");
  out.reason = json::GetOptionalString(*body, "reason").value_or("");
  const std::string status = json::GetOptionalString(*body, "status").value_or("");
  if (status == "ACCEPTED") {
    out.outcome = Outcome::kAccepted;
  } else if (status == "DELIVERED") {
    out.outcome = Outcome::kDelivered;
  } else if (status == "FAILED") {
    out.outcome = Outcome::kFailed;
    if (out.reason.empty()) out.reason = "FAILED";
  } else {
    return Transient(absl::StrCat("unknown gateway status ", status));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpSmsGateway>> HttpSmsGateway::Create(
    HttpSmsGatewayOptions options) {
  http::ClientOptions co;
  co.connect_timeout = options.connect_timeout;
  co.timeout = options.timeout;
  absl::StatusOr<http::Client> client = http::Client::ForUrl(options.url, co);
  if (!client.ok()) return client.status();
  return std::unique_ptr<HttpSmsGateway>(new HttpSmsGateway(*std::move(client)));
}

GatewayReport HttpSmsGateway::Submit(const std::string& message_id, const std::string& phone,
                                     const std::string& text, const std::string& callback_url) {
  json::Value body =
      json::Value::Object({{"message_id", message_id}, {"phone", phone}, {"text", text}});
  if (!callback_url.empty()) body.Set("callback_url", callback_url);
  absl::StatusOr<http::Response> r = client_.Post("/v1/messages", json::Write(body));
  if (!r.ok()) {
    // Unavailable: not sent. DeadlineExceeded/Unknown: maybe taken; the next
    // attempt asks for the status first.
    return Transient(absl::StrCat(absl::StatusCodeToString(r.status().code()), ": ",
                                  r.status().message()));
  }
  if (r->status == 200) {
    GatewayReport out = FromStatus(*r);
    if (out.outcome == Outcome::kAccepted && out.gateway_id.empty()) {
      return Transient("gateway accepted without an id");
    }
    return out;
  }
  if (r->status == 429) return {Outcome::kRateLimited, "", "RATE_LIMITED"};
  if (r->status >= 400 && r->status < 500) {
    // INVALID_PHONE, INVALID_REQUEST, TEXT_TOO_LONG, IDEMPOTENCY_CONFLICT:
    // sending the same again cannot help.
    return {Outcome::kFailed, "", ErrorOf(*r)};
  }
  return Transient(ErrorOf(*r));
}

GatewayReport HttpSmsGateway::Query(const std::string& message_id) {
  absl::StatusOr<http::Response> r =
      client_.Get(absl::StrCat("/v1/messages/", http::PercentEncode(message_id)));
  if (!r.ok()) {
    return Transient(absl::StrCat(absl::StatusCodeToString(r.status().code()), ": ",
                                  r.status().message()));
  }
  if (r->status == 200) return FromStatus(*r);
  if (r->status == 404) return {Outcome::kNotFound, "", "NOT_FOUND"};
  return Transient(ErrorOf(*r));
}

}  // namespace mutualaid::notification

// The SMS gateway as the outbox sees it, and its adapter for the gateway's
// HTTP/JSON API (tools/fakesms/README.md): POST /v1/messages with the
// message id the gateway dedupes on, GET /v1/messages/{id} for the delivery
// status. Every answer says whether the message may have been accepted, so
// the outbox never sends blindly twice.
#ifndef MUTUALAID_SERVICES_NOTIFICATION_SMS_GATEWAY_H_
#define MUTUALAID_SERVICES_NOTIFICATION_SMS_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mutualaid/http/client.h"

namespace mutualaid::notification {

// What the gateway answered about one message.
struct GatewayReport {
  enum class Outcome {
    kAccepted,    // taken (now or before): gateway_id set; delivery pending or final
    kDelivered,   // final: delivered
    kFailed,      // final: the gateway refused it or could not deliver (reason)
    kNotFound,    // status query: the gateway has no such message
    kRateLimited, // 429: nothing recorded; try later
    kTransient,   // 5xx, refused connection, timeout: may or may not be taken
  };
  Outcome outcome = Outcome::kTransient;
  std::string gateway_id;
  std::string reason;  // e.g. INVALID_PHONE, UNREACHABLE, HTTP 503, DEADLINE_EXCEEDED
};

class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  // Submits a message under `message_id` (a repeat sends nothing). An empty
  // `callback_url` asks for no delivery report.
  virtual GatewayReport Submit(const std::string& message_id, const std::string& phone,
                               const std::string& text, const std::string& callback_url) = 0;
  // The message's status: kAccepted (not final yet), kDelivered, kFailed,
  // kNotFound, or kTransient.
  virtual GatewayReport Query(const std::string& message_id) = 0;
};

struct HttpSmsGatewayOptions {
  std::string url;  // http://127.0.0.1:7202
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration timeout = absl::Seconds(3);
};

// Not thread-safe beyond http::Client's (one request at a time); the outbox
// calls it from the processor's thread only.
class HttpSmsGateway final : public SmsGateway {
 public:
  static absl::StatusOr<std::unique_ptr<HttpSmsGateway>> Create(HttpSmsGatewayOptions options);

  GatewayReport Submit(const std::string& message_id, const std::string& phone,
                       const std::string& text, const std::string& callback_url) override;
  GatewayReport Query(const std::string& message_id) override;

 private:
  explicit HttpSmsGateway(http::Client client) : client_(std::move(client)) {}
  http::Client client_;
};

}  // namespace mutualaid::notification

#endif  // MUTUALAID_SERVICES_NOTIFICATION_SMS_GATEWAY_H_

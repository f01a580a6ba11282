// The notification service's gRPC edge: a worker's messages for the hall and
// operations (ID number in, texts and phones masked out), and an operator's
// resend of a failed message (appended to mutualaid.notification.requests,
// answered with the processor's committed decision).
#ifndef MUTUALAID_SERVICES_NOTIFICATION_NOTIFICATION_API_H_
#define MUTUALAID_SERVICES_NOTIFICATION_NOTIFICATION_API_H_

#include <string>

#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/notification.grpc.pb.h"

namespace mutualaid::notification {

struct ApiOptions {
  absl::Duration decision_timeout = absl::Seconds(30);
  std::string producer = "notification-0";
  std::string requests_topic = "mutualaid.notification.requests";
};

// ResendMessage's check before it reads the state (pure: the fuzz targets in
// tests/fuzz run it). Errors name the field.
absl::Status CheckResend(const v1::ResendMessageRequest& req);

class NotificationApi final : public v1::NotificationService::Service {
 public:
  NotificationApi(ApiOptions options, const server::TokenAuthenticator& auth, const Clock& clock,
                  const WorkerKeyer& keyer, kafka::Producer& producer,
                  const store::StateStore& store, server::Answers& answers);

  // Roles: operations, hall, district centre.
  grpc::Status ListMessages(grpc::ServerContext* ctx, const v1::ListMessagesRequest* req,
                            v1::ListMessagesResponse* resp) override;
  // Role: operations. FailedPrecondition unless the message is FAILED.
  grpc::Status ResendMessage(grpc::ServerContext* ctx, const v1::ResendMessageRequest* req,
                             v1::ResendMessageResponse* resp) override;

 private:
  ApiOptions o_;
  const server::TokenAuthenticator& auth_;
  const Clock& clock_;
  const WorkerKeyer& keyer_;
  kafka::Producer& producer_;
  const store::StateStore& store_;
  server::Answers& answers_;
};

}  // namespace mutualaid::notification

#endif  // MUTUALAID_SERVICES_NOTIFICATION_NOTIFICATION_API_H_

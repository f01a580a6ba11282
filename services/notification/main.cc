// The notification service: SMS for cover start, payment made and claim
// refused, each sent once through the SMS gateway.
//   notification --config deploy/local/config/notification.conf
//
// Its own keys (besides the runtime's, see libs/server/runtime.h):
//   sms.gateway_url      = http://127.0.0.1:7202
//   sms.gateway_timeout  = 3s          # one request to the gateway
//   sms.rate             = 20          # messages per second to the gateway
//   sms.daily_cap        = 10          # per phone number per Shanghai day (0: none)
//   sms.quiet_hours      = 22:00-08:00 # Shanghai time; none: send around the clock
//   sms.retry_initial    = 2s          # backoff after a failed attempt, doubling
//   sms.retry_max        = 10m
//   sms.max_attempts     = 8
//   sms.tick_interval    = 200ms       # how often the outbox runs
//   sms.callback_listen  =             # host:port for delivery reports (empty: poll only)
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/http/server.h"
#include "mutualaid/json/json.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/server/admin.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/runtime.h"
#include "services/notification/notification_api.h"
#include "services/notification/notification_logic.h"
#include "services/notification/sms_gateway.h"
#include "services/key_ring_setup.h"

namespace {

using namespace mutualaid;

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "notification: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

absl::Status LoadPolicy(const Config& c, notification::OutboxPolicy* p) {
  auto i64 = [&](const char* key, int64_t* out) -> absl::Status {
    absl::StatusOr<int64_t> v = c.GetInt64(key, *out);
    if (!v.ok()) return v.status();
    if (*v < 0) return absl::InvalidArgumentError(absl::StrCat(key, ": must be >= 0"));
    *out = *v;
    return absl::OkStatus();
  };
  auto dur = [&](const char* key, absl::Duration* out) -> absl::Status {
    absl::StatusOr<absl::Duration> v = c.GetDuration(key, *out);
    if (!v.ok()) return v.status();
    *out = *v;
    return absl::OkStatus();
  };
  if (absl::Status s = i64("sms.rate", &p->rate_per_second); !s.ok()) return s;
  if (absl::Status s = i64("sms.daily_cap", &p->daily_cap); !s.ok()) return s;
  int64_t attempts = p->max_attempts;
  if (absl::Status s = i64("sms.max_attempts", &attempts); !s.ok()) return s;
  p->max_attempts = static_cast<int32_t>(std::max<int64_t>(1, attempts));
  if (absl::Status s = dur("sms.retry_initial", &p->retry_initial); !s.ok()) return s;
  if (absl::Status s = dur("sms.retry_max", &p->retry_max); !s.ok()) return s;
  absl::StatusOr<std::string> quiet = c.GetString("sms.quiet_hours", "22:00-08:00");
  if (!quiet.ok()) return quiet.status();
  return notification::ParseQuietHours(*quiet, p);
}

int Main(int argc, char** argv) {
  server::Runtime::BlockShutdownSignals();
  auto rt = server::Runtime::Load("notification", argc, argv);
  if (!rt.ok()) return Fail("config", rt.status());
  server::Runtime& r = **rt;
  const Config& c = r.config();

  notification::LogicOptions lo;
  lo.producer = r.instance();
  lo.requests_topic = r.topic(kafka::kNotificationRequests);
  if (absl::Status s = LoadPolicy(c, &lo.policy); !s.ok()) return Fail("config", s);
  notification::HttpSmsGatewayOptions go;
  auto url = c.GetString("sms.gateway_url", "http://127.0.0.1:7202");
  if (!url.ok()) return Fail("config", url.status());
  go.url = *url;
  auto gateway_timeout = c.GetDuration("sms.gateway_timeout", go.timeout);
  if (!gateway_timeout.ok()) return Fail("config", gateway_timeout.status());
  go.timeout = *gateway_timeout;
  auto tick = c.GetDuration("sms.tick_interval", absl::Milliseconds(200));
  if (!tick.ok()) return Fail("config", tick.status());
  auto callback_listen = c.GetString("sms.callback_listen", "");
  if (!callback_listen.ok()) return Fail("config", callback_listen.status());

  auto gateway = notification::HttpSmsGateway::Create(go);
  if (!gateway.ok()) return Fail("sms.gateway_url", gateway.status());

  // Delivery reports POSTed by the gateway, handed to the outbox's next tick.
  notification::DeliveryReports reports;
  std::unique_ptr<http::Server> callbacks;
  if (!callback_listen->empty()) {
    const size_t colon = callback_listen->rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(callback_listen->substr(colon + 1), &port)) {
      return Fail("config", absl::InvalidArgumentError("sms.callback_listen: host:port"));
    }
    callbacks = std::make_unique<http::Server>(
        http::ServerOptions{.host = callback_listen->substr(0, colon), .port = port, .threads = 2});
    callbacks->Handle("POST", "/sms/reports", [&reports](const http::Request& req) {
      absl::StatusOr<json::Value> body = json::Parse(req.body);
      if (!body.ok() || !body->is_object()) return http::Response::Json(400, R"({"error":"INVALID_REQUEST"})");
      const std::string id = json::GetOptionalString(*body, "message_id").value_or("");
      const std::string status = json::GetOptionalString(*body, "status").value_or("");
      notification::GatewayReport g;
      g.reason = json::GetOptionalString(*body, "reason").value_or("");
      if (status == "DELIVERED") {
        g.outcome = notification::GatewayReport::Outcome::kDelivered;
      } else if (status == "FAILED") {
        g.outcome = notification::GatewayReport::Outcome::kFailed;
      } else {
        return http::Response::Json(400, R"({"error":"INVALID_REQUEST"})");
      }
      if (!id.empty()) reports.Add(id, std::move(g));  // a duplicate report replaces the first
      return http::Response::Json(200, "{}");
    });
    if (absl::Status s = callbacks->Start(); !s.ok()) return Fail("sms.callback_listen", s);
    lo.policy.callback_url = absl::StrCat("http://", callbacks->address(), "/sms/reports");
  }

  if (absl::Status s = r.EnsureTopics(); !s.ok()) return Fail("topics", s);
  auto ring = services::OpenKeyRing(r);
  if (!ring.ok()) return Fail("master key / key ring", ring.status());
  notification::NotificationLogic logic(lo, gateway->get(), &reports, &r.log());
  logic.SetKeyRing(ring->get());
  logic.SetKeyer(&r.keyer());
  auto store = r.OpenStore(logic.ColumnFamilies());
  if (!store.ok()) return Fail("store", store.status());
  auto producer = kafka::Producer::Create({.client = r.kafka()});
  if (!producer.ok()) return Fail("producer", producer.status());

  server::Answers answers;
  processor::ProcessorOptions po;
  po.client = r.kafka();
  po.name = "notification";
  po.transactional_id = r.instance();
  po.group_id = r.group();
  po.requests_topic = r.topic(kafka::kNotificationRequests);
  // Co-partitioned by worker key: decided like requests (one SMS per event).
  po.extra_request_topics = {r.topic(kafka::kEnrollmentEvents), r.topic(kafka::kPayoutEvents),
                             r.topic(kafka::kClaimsEvents)};
  po.events_topic = r.topic(kafka::kNotificationEvents);
  // Applied too: the workers' names and phones, the platforms' contacts.
  po.input_event_topics = {r.topic(kafka::kEnrollmentEvents)};
  po.dead_letter_topic = r.topic(kafka::kDeadLetter);
  po.tick_interval = *tick;
  po.clock = &r.clock();
  po.logger = &r.log();
  store::StateStore* raw_store = store->get();
  po.input_barrier = [&logic, raw_store](const kafka::Message& m) -> absl::StatusOr<bool> {
    return logic.NeedsContacts(*raw_store, m);
  };
  po.on_committed = [&answers, &r](const std::vector<kafka::Record>& events) {
    r.CountDecisions(events);
    for (const kafka::Record& e : events) {
      v1::Envelope env;
      if (env.ParseFromString(e.value)) answers.Deliver(env);
    }
  };
  auto proc = processor::Processor::Create(po, &logic, store->get());
  if (!proc.ok()) return Fail("processor", proc.status());
  r.Observe(**proc, **store);
  if (absl::Status s = r.StartMetrics(); !s.ok()) return Fail("metrics", s);

  notification::ApiOptions ao;
  ao.producer = r.instance();
  ao.requests_topic = r.topic(kafka::kNotificationRequests);
  notification::NotificationApi api(ao, r.auth(), r.clock(), r.keyer(), **producer, **store,
                                    answers);
  server::AdminServiceImpl admin(r.auth(), r.clock(), r.simulated_clock(), **store);

  r.log().Info("notification service configured", {{"gateway", go.url},
                {"callbacks", lo.policy.callback_url}});
  absl::Status served = r.Serve(**proc, {&api, &admin});
  if (callbacks != nullptr) callbacks->Stop();
  producer->reset();
  absl::Status closed = (*store)->Close();
  if (!served.ok()) return Fail("serve", served);
  if (!closed.ok()) return Fail("store", closed);
  r.log().Info("notification service stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }

// The enrollment service: platforms' records in, decisions out.
//   enrollment --config deploy/local/config/enrollment.conf
#include <atomic>
#include <cstdio>
#include <thread>

#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/server/admin.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/runtime.h"
#include "services/enrollment/enrollment_api.h"
#include "services/enrollment/enrollment_logic.h"
#include "services/key_ring_setup.h"

namespace {

using namespace mutualaid;

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "enrollment: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  server::Runtime::BlockShutdownSignals();
  auto rt = server::Runtime::Load("enrollment", argc, argv);
  if (!rt.ok()) return Fail("config", rt.status());
  server::Runtime& r = **rt;

  if (absl::Status s = r.EnsureTopics(); !s.ok()) return Fail("topics", s);
  auto ring = services::OpenKeyRing(r);
  if (!ring.ok()) return Fail("master key / key ring", ring.status());
  enrollment::EnrollmentLogic logic(r.instance());
  logic.SetKeyRing(ring->get());
  auto store = r.OpenStore(logic.ColumnFamilies());
  if (!store.ok()) return Fail("store", store.status());
  auto producer = kafka::Producer::Create({.client = r.kafka()});
  if (!producer.ok()) return Fail("producer", producer.status());

  server::Answers answers;
  processor::ProcessorOptions po;
  po.client = r.kafka();
  po.name = "enrollment";
  po.transactional_id = r.instance();
  po.group_id = r.group();
  po.requests_topic = r.topic(kafka::kEnrollmentRequests);
  po.events_topic = r.topic(kafka::kEnrollmentEvents);
  po.input_event_topics = {r.topic(kafka::kClaimsEvents)};
  po.dead_letter_topic = r.topic(kafka::kDeadLetter);
  po.logger = &r.log();
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

  enrollment::ApiOptions ao;
  ao.partitions = r.partitions();
  ao.producer = r.instance();
  ao.requests_topic = r.topic(kafka::kEnrollmentRequests);
  enrollment::EnrollmentApi api(ao, r.auth(), r.clock(), r.keyer(), **producer, **store, answers);
  api.SetKeyRing(ring->get());
  server::AdminServiceImpl admin(r.auth(), r.clock(), r.simulated_clock(), **store);
  admin.set_platform_handlers(
      [&api](const server::Principal& who, const v1::RegisterPlatformRequest& req,
             v1::RegisterPlatformResponse* resp) { return api.RegisterPlatform(who, req, resp); },
      [&api](const server::Principal& who, v1::ListPlatformsResponse* resp) {
        return api.ListPlatforms(who, resp);
      });

  absl::Status served = r.Serve(**proc, {&api, &admin});
  producer->reset();
  absl::Status closed = (*store)->Close();
  if (!served.ok()) return Fail("serve", served);
  if (!closed.ok()) return Fail("store", closed);
  r.log().Info("enrollment service stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }

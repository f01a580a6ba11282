// The claims service: the hall's and district centres' claims in, decisions out.
//   claims --config deploy/local/config/claims.conf
//
// Settings besides the runtime's (server/runtime.h):
//   claims.investigation_threshold_fen = 5000000   # overrides the plan data's
//   claims.decision_timeout            = 30s
//   claims.barrier_wait                = 5s        # one wait for the enrollment service
#include <atomic>
#include <cstdio>
#include <thread>

#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/server/admin.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/runtime.h"
#include "services/claims/claims_api.h"
#include "services/claims/claims_logic.h"
#include "services/claims/enrollment_barrier.h"
#include "services/key_ring_setup.h"

namespace {

using namespace mutualaid;

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "claims: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  server::Runtime::BlockShutdownSignals();
  auto rt = server::Runtime::Load("claims", argc, argv);
  if (!rt.ok()) return Fail("config", rt.status());
  server::Runtime& r = **rt;

  claims::LogicOptions lo;
  lo.producer = r.instance();
  if (r.config().Has("claims.investigation_threshold_fen")) {
    auto threshold = r.config().GetInt64("claims.investigation_threshold_fen");
    if (!threshold.ok()) return Fail("config", threshold.status());
    if (*threshold < 0) return Fail("config", absl::InvalidArgumentError("claims.investigation_threshold_fen: not negative"));
    lo.investigation_threshold_fen = *threshold;
  }
  auto decision_timeout = r.config().GetDuration("claims.decision_timeout", absl::Seconds(30));
  if (!decision_timeout.ok()) return Fail("config", decision_timeout.status());
  auto barrier_wait = r.config().GetDuration("claims.barrier_wait", absl::Seconds(5));
  if (!barrier_wait.ok()) return Fail("config", barrier_wait.status());

  if (absl::Status s = r.EnsureTopics(); !s.ok()) return Fail("topics", s);
  // Seals the claimant's ID number and card at the edge (nullptr: no master key).
  auto ring = services::OpenKeyRing(r);
  if (!ring.ok()) return Fail("master key / key ring", ring.status());
  claims::ClaimsLogic logic(lo);
  auto store = r.OpenStore(logic.ColumnFamilies());
  if (!store.ok()) return Fail("store", store.status());
  auto producer = kafka::Producer::Create({.client = r.kafka()});
  if (!producer.ok()) return Fail("producer", producer.status());
  auto admin = kafka::Admin::Create(r.kafka());
  if (!admin.ok()) return Fail("admin", admin.status());

  claims::BarrierOptions bo;
  bo.client = r.kafka();
  bo.enrollment_group = r.topic("mutualaid.enrollment");  // the enrollment processor's group
  bo.enrollment_requests_topic = r.topic(kafka::kEnrollmentRequests);
  bo.wait = *barrier_wait;
  auto barrier = claims::EnrollmentBarrier::Create(bo);
  if (!barrier.ok()) return Fail("barrier", barrier.status());

  server::Answers answers;
  processor::ProcessorOptions po;
  po.client = r.kafka();
  po.name = "claims";
  po.transactional_id = r.instance();
  po.group_id = r.group();
  po.requests_topic = r.topic(kafka::kClaimsRequests);
  po.extra_request_topics = {r.topic(kafka::kPayoutEvents)};
  po.events_topic = r.topic(kafka::kClaimsEvents);
  po.input_event_topics = {r.topic(kafka::kEnrollmentEvents)};
  po.dead_letter_topic = r.topic(kafka::kDeadLetter);
  po.logger = &r.log();
  po.input_barrier = [b = barrier->get()](const kafka::Message& request) {
    return b->Wait(request);
  };
  po.on_committed = [&answers](const std::vector<kafka::Record>& events) {
    for (const kafka::Record& e : events) {
      v1::Envelope env;
      if (env.ParseFromString(e.value)) answers.Deliver(env);
    }
  };
  auto proc = processor::Processor::Create(po, &logic, store->get());
  if (!proc.ok()) return Fail("processor", proc.status());

  claims::ApiOptions ao;
  ao.partitions = r.partitions();
  ao.decision_timeout = *decision_timeout;
  ao.producer = r.instance();
  ao.requests_topic = r.topic(kafka::kClaimsRequests);
  ao.enrollment_requests_topic = r.topic(kafka::kEnrollmentRequests);
  claims::ClaimsApi api(ao, r.auth(), r.clock(), r.keyer(), **producer, **admin, **store, answers,
                        [&logic](int plan_year) { return logic.PlanFor(plan_year); });
  api.SetKeyRing(ring->get());
  server::AdminServiceImpl admin_service(r.auth(), r.clock(), r.simulated_clock(), **store);

  absl::Status served = r.Serve(**proc, {&api, &admin_service});
  const claims::BarrierStats& bs = (*barrier)->stats();
  r.log().Info("enrollment barrier", {{"cached", bs.passed_cached},
                                      {"queried", bs.passed_queried},
                                      {"waited", bs.waited},
                                      {"timeouts", bs.timeouts}});
  producer->reset();
  absl::Status closed = (*store)->Close();
  if (!served.ok()) return Fail("serve", served);
  if (!closed.ok()) return Fail("store", closed);
  r.log().Info("claims service stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }

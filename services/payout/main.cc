// The payout service: approved claims in, bank transfers out, exactly once.
//   payout --config deploy/local/config/payout.conf
//
// Its own keys (besides server::Runtime's):
//   bank.mode             = http | file
//   bank.url              = http://127.0.0.1:7201   # http mode (and reconciliation)
//   bank.connect_timeout  = 2s
//   bank.timeout          = 5s       # past it a transfer's outcome is unknown
//   bank.export_dir       = DIR      # file mode: batch files written here
//   bank.import_dir       = DIR      # ImportBankResults by file name reads here
//   bank.export_interval  = 24h      # file mode: one batch file per partition per interval
//   payout.tick_interval  = 1s       # how often the outbox looks for due work (real time)
//   payout.retry_base     = 30s      # backoff: base * 2^(attempts-1) ...
//   payout.retry_max      = 1h       # ... at most this (business clock)
//   payout.pending_recheck = 1m      # ask again about a PENDING transfer after
//   payout.max_per_tick   = 50       # bank calls per partition per tick
//   payout.warning_days   = 10       # ListAtRisk: due within this many days
#include <atomic>
#include <cstdio>
#include <thread>

#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/server/admin.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/runtime.h"
#include "services/payout/bank_gateway.h"
#include "services/payout/payout_api.h"
#include "services/payout/payout_logic.h"
#include "services/key_ring_setup.h"

namespace {

using namespace mutualaid;

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "payout: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

struct BankConfig {
  std::string mode;
  payout::HttpBankOptions http;
  std::string export_dir;
  std::string import_dir;
};

absl::StatusOr<BankConfig> LoadBank(const Config& c) {
  BankConfig b;
  auto mode = c.GetString("bank.mode", "http");
  if (!mode.ok()) return mode.status();
  if (*mode != "http" && *mode != "file") return absl::InvalidArgumentError("bank.mode: http or file");
  b.mode = *mode;
  auto url = c.GetString("bank.url", "http://127.0.0.1:7201");
  auto connect = c.GetDuration("bank.connect_timeout", absl::Seconds(2));
  auto timeout = c.GetDuration("bank.timeout", absl::Seconds(5));
  if (!url.ok()) return url.status();
  if (!connect.ok()) return connect.status();
  if (!timeout.ok()) return timeout.status();
  b.http.url = *url;
  b.http.connect_timeout = *connect;
  b.http.timeout = *timeout;
  if (c.Has("bank.export_dir")) {
    auto d = c.GetPath("bank.export_dir");
    if (!d.ok()) return d.status();
    b.export_dir = *d;
  }
  if (c.Has("bank.import_dir")) {
    auto d = c.GetPath("bank.import_dir");
    if (!d.ok()) return d.status();
    b.import_dir = *d;
  }
  if (b.mode == "file" && b.export_dir.empty()) {
    return absl::InvalidArgumentError("bank.export_dir: required in file mode");
  }
  return b;
}

int Main(int argc, char** argv) {
  server::Runtime::BlockShutdownSignals();
  auto rt = server::Runtime::Load("payout", argc, argv);
  if (!rt.ok()) return Fail("config", rt.status());
  server::Runtime& r = **rt;
  const Config& c = r.config();

  auto bank = LoadBank(c);
  if (!bank.ok()) return Fail("config", bank.status());
  auto tick = c.GetDuration("payout.tick_interval", absl::Seconds(1));
  auto retry_base = c.GetDuration("payout.retry_base", absl::Seconds(30));
  auto retry_max = c.GetDuration("payout.retry_max", absl::Hours(1));
  auto pending = c.GetDuration("payout.pending_recheck", absl::Minutes(1));
  auto export_interval = c.GetDuration("bank.export_interval", absl::Hours(24));
  auto max_per_tick = c.GetInt64("payout.max_per_tick", 50);
  auto warning_days = c.GetInt64("payout.warning_days", 10);
  for (const absl::Status& s : {tick.status(), retry_base.status(), retry_max.status(), pending.status(),
                                export_interval.status(), max_per_tick.status(), warning_days.status()}) {
    if (!s.ok()) return Fail("config", s);
  }
  if (*tick <= absl::ZeroDuration()) return Fail("config", absl::InvalidArgumentError("payout.tick_interval: > 0"));
  if (*max_per_tick < 1 || *warning_days < 0 || *warning_days > 90) {
    return Fail("config", absl::InvalidArgumentError("payout.max_per_tick >= 1, payout.warning_days 0..90"));
  }

  // The outbox's gateway and, apart, the one reconciliation reads the ledger
  // through (so a report never waits behind a hanging transfer).
  std::unique_ptr<payout::BankGateway> outbox_bank;
  std::unique_ptr<payout::BankGateway> ledger_bank;
  if (bank->mode == "file") {
    outbox_bank = std::make_unique<payout::FileBankGateway>(bank->export_dir);
  } else {
    auto g = payout::HttpBankGateway::Create(bank->http);
    if (!g.ok()) return Fail("bank", g.status());
    outbox_bank = *std::move(g);
  }
  if (c.Has("bank.url") || bank->mode == "http") {
    auto g = payout::HttpBankGateway::Create(bank->http);
    if (!g.ok()) return Fail("bank", g.status());
    ledger_bank = *std::move(g);
  }

  if (absl::Status s = r.EnsureTopics(); !s.ok()) return Fail("topics", s);
  payout::PayoutOptions lo;
  lo.producer = r.instance();
  lo.commands_topic = r.topic(kafka::kPayoutRequests);
  lo.gateway = outbox_bank.get();
  lo.retry_base = *retry_base;
  lo.retry_max = *retry_max;
  lo.pending_recheck = *pending;
  lo.export_interval = *export_interval;
  lo.max_per_tick = static_cast<int>(*max_per_tick);
  payout::PayoutLogic logic(lo);
  // Opens a worker's sealed card to send it, and for finance's readers
  // (nullptr: no master key configured).
  auto ring = services::OpenKeyRing(r);
  if (!ring.ok()) return Fail("master key / key ring", ring.status());
  logic.SetKeyRing(ring->get());
  auto store = r.OpenStore(logic.ColumnFamilies());
  if (!store.ok()) return Fail("store", store.status());
  auto producer = kafka::Producer::Create({.client = r.kafka()});
  if (!producer.ok()) return Fail("producer", producer.status());

  server::Answers answers;
  processor::ProcessorOptions po;
  po.client = r.kafka();
  po.name = "payout";
  po.transactional_id = r.instance();
  po.group_id = r.group();
  po.requests_topic = r.topic(kafka::kPayoutRequests);
  po.extra_request_topics = {r.topic(kafka::kClaimsEvents)};
  po.events_topic = r.topic(kafka::kPayoutEvents);
  // The claims events are also applied: a claim sent to an investigator
  // carries the payee card its later approval needs.
  po.input_event_topics = {r.topic(kafka::kEnrollmentEvents), r.topic(kafka::kClaimsEvents)};
  po.dead_letter_topic = r.topic(kafka::kDeadLetter);
  po.tick_interval = *tick;
  po.clock = &r.clock();
  po.logger = &r.log();
  po.input_barrier = [commands = po.requests_topic](const kafka::Message& request) -> absl::StatusOr<bool> {
    return payout::PayoutLogic::NeedsInputs(request, commands);
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
  // §六 the 90-day promise, read when scraped.
  const int warn = static_cast<int>(*warning_days);
  r.metrics().GaugeCallback(
      "mutualaid_payouts_at_risk", "Unpaid payouts past their 90-day due date or within the warning days",
      {"kind"}, [&r, &store, warn]() -> std::vector<metrics::Sample> {
        absl::StatusOr<payout::AtRiskCounts> c = payout::CountAtRisk(**store, r.clock().Today(), warn);
        if (!c.ok()) return {};
        return {{{"overdue"}, static_cast<double>(c->overdue)},
                {{"due_soon"}, static_cast<double>(c->due_soon)}};
      });
  if (absl::Status s = r.StartMetrics(); !s.ok()) return Fail("metrics", s);

  payout::ApiOptions ao;
  ao.producer = r.instance();
  ao.requests_topic = r.topic(kafka::kPayoutRequests);
  ao.warning_days = static_cast<int>(*warning_days);
  ao.import_dir = bank->import_dir;
  payout::PayoutApi api(ao, r.auth(), r.clock(), **producer, **store, answers, ledger_bank.get());
  api.SetKeyRing(ring->get());
  server::AdminServiceImpl admin(r.auth(), r.clock(), r.simulated_clock(), **store);

  r.log().Info("payout service configured", {{"bank", bank->mode}});
  absl::Status served = r.Serve(**proc, {&api, &admin});
  producer->reset();
  absl::Status closed = (*store)->Close();
  if (!served.ok()) return Fail("serve", served);
  if (!closed.ok()) return Fail("store", closed);
  r.log().Info("payout service stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }

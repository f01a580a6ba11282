// The counter service as a process, for the crash and rebalance tests:
//   counter_processor BOOTSTRAP REQUESTS EVENTS DEADLETTER GROUP TXID STORE_DIR MAX_BATCH
// Runs until SIGTERM/SIGINT; exits 0 on a clean stop.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "counter_logic.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/store/state_store.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  using namespace mutualaid;
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: counter_processor BOOTSTRAP REQUESTS EVENTS DEADLETTER GROUP TXID "
                 "STORE_DIR MAX_BATCH\n");
    return 2;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  processor::testing::CounterLogic logic;
  store::StateStore::Options so;
  so.column_families = processor::ColumnFamiliesFor(logic);
  auto store = store::StateStore::Open(argv[7], so);
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().ToString().c_str());
    return 1;
  }
  processor::ProcessorOptions o;
  o.client.bootstrap = argv[1];
  o.client.client_id = argv[6];
  o.name = "counter";
  o.requests_topic = argv[2];
  o.events_topic = argv[3];
  o.dead_letter_topic = argv[4];
  o.group_id = argv[5];
  o.transactional_id = argv[6];
  o.max_batch = static_cast<size_t>(std::atoi(argv[8]));
  auto p = processor::Processor::Create(o, &logic, store->get());
  if (!p.ok()) {
    std::fprintf(stderr, "processor: %s\n", p.status().ToString().c_str());
    return 1;
  }
  absl::Status s = (*p)->Run(g_stop);
  processor::ProcessorStats st = (*p)->stats();
  std::fprintf(stderr, "counter_processor: requests=%lld events=%lld aborts=%lld status=%s\n",
               static_cast<long long>(st.requests), static_cast<long long>(st.events),
               static_cast<long long>(st.aborts), s.ToString().c_str());
  absl::Status closed = (*store)->Close();
  return s.ok() && closed.ok() ? 0 : 1;
}

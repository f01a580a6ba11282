// What every service process sets up from its config file, in one place:
//
//   kafka.bootstrap        = 127.0.0.1:19092
//   kafka.partitions       = 6          # of every system topic
//   kafka.create_topics    = true       # create missing system topics at start
//   kafka.topic_prefix     =            # prepended to every topic and group name (tests)
//   grpc.listen            = 127.0.0.1:7101   (+ grpc.tls_cert, grpc.tls_key, grpc.tls_client_ca)
//   auth.tokens_file       = tokens.conf
//   store.path             = /var/lib/mutualaid/enrollment
//   store.block_cache_mb   = 64
//   worker_key.secret_file = worker-key.secret
//   clock                  = system | simulated
//   clock.start            = 2022-03-01          # simulated clock's first day
//   replica                = 0          # this process's replica number
//   metrics.listen         = 127.0.0.1:9101   # Prometheus GET /metrics (unset: off)
//
// Every key can be overridden by MUTUALAID_<KEY> in the environment.
#ifndef MUTUALAID_SERVER_RUNTIME_H_
#define MUTUALAID_SERVER_RUNTIME_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/config.h"
#include "mutualaid/core/log.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/metrics/metrics.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/server/server.h"
#include "mutualaid/store/state_store.h"

namespace mutualaid::server {

class Runtime {
 public:
  // `service` names the process ("enrollment"); argv: --config FILE.
  static absl::StatusOr<std::unique_ptr<Runtime>> Load(const std::string& service, int argc,
                                                       char** argv);

  const std::string& service() const { return service_; }
  const Config& config() const { return config_; }
  const Logger& log() const { return *log_; }
  const Clock& clock() const { return *clock_; }
  SimulatedClock* simulated_clock() { return simulated_.get(); }
  const WorkerKeyer& keyer() const { return *keyer_; }
  const TokenAuthenticator& auth() const { return auth_; }
  const kafka::ClientConfig& kafka() const { return kafka_; }
  int32_t partitions() const { return partitions_; }
  // A system topic's name in this deployment (kafka.topic_prefix + name).
  std::string topic(absl::string_view name) const { return topic_prefix_ + std::string(name); }
  // The consumer group of this service's processor.
  std::string group() const { return topic_prefix_ + "mutualaid." + service_; }
  int replica() const { return replica_; }
  const ServerOptions& grpc() const { return grpc_; }
  // "<service>-<replica>": transactional id and producer name.
  std::string instance() const;

  // Creates the system topics if configured to.
  absl::Status EnsureTopics() const;
  absl::StatusOr<std::unique_ptr<store::StateStore>> OpenStore(
      const std::vector<std::string>& column_families) const;

  // Metrics: the gRPC server's (grpc() carries the registry), the processor's
  // and the store's (Observe), decisions by outcome and reason
  // (CountDecisions, from the processor's on_committed).
  metrics::Registry& metrics() { return *metrics_; }
  void Observe(const processor::Processor& processor, const store::StateStore& store);
  void CountDecisions(const std::vector<kafka::Record>& events);
  // Serves GET /metrics on metrics.listen, if set.
  absl::Status StartMetrics();

  // Runs `processor` on a thread and serves `services` (plus health and
  // reflection) on grpc.listen; prints "listening ADDRESS" on stdout once
  // serving. Returns on SIGTERM/SIGINT or when the processor fails, after
  // stopping both: the processor's error, the server's, or OK.
  absl::Status Serve(processor::Processor& processor, std::initializer_list<grpc::Service*> services);

  // Blocks until SIGTERM/SIGINT or until `failed` is set; then returns.
  // Call after the server and processor threads are running.
  static void WaitForShutdown(const std::atomic<bool>& failed);
  // Signals are blocked in every thread created after this (call first).
  static void BlockShutdownSignals();

 private:
  Runtime() = default;
  std::string service_;
  Config config_ = Config::FromEnv();
  std::unique_ptr<Logger> log_;
  std::unique_ptr<SimulatedClock> simulated_;
  const Clock* clock_ = nullptr;
  std::optional<WorkerKeyer> keyer_;
  TokenAuthenticator auth_;
  kafka::ClientConfig kafka_;
  int32_t partitions_ = 6;
  int replica_ = 0;
  std::string topic_prefix_;
  ServerOptions grpc_;
  std::unique_ptr<metrics::Registry> metrics_ = std::make_unique<metrics::Registry>();
  metrics::Family<metrics::CounterValue>* decisions_ = nullptr;
  metrics::Family<metrics::CounterValue>* reasons_ = nullptr;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
};

}  // namespace mutualaid::server

#endif  // MUTUALAID_SERVER_RUNTIME_H_

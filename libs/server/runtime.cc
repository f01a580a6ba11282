#include "mutualaid/server/runtime.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/events/outcome.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/chain.h"

namespace mutualaid::server {
namespace {

// protobuf's and gRPC core's own messages go through the service's JSON log
// (they would otherwise be plain lines on stderr). The logger lives as long
// as the process (a library may log at exit) and stamps operational time.
std::atomic<const Logger*> g_library_log{nullptr};

void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  const Logger* log = g_library_log.load();
  if (log == nullptr) return;
  LogLevel l = level == google::protobuf::LOGLEVEL_INFO      ? LogLevel::kInfo
               : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                             : LogLevel::kError;
  log->Log(l, message, {{"library", "protobuf"}, {"source", absl::StrCat(file, ":", line)}});
}

void GrpcLog(gpr_log_func_args* args) {
  const Logger* log = g_library_log.load();
  if (log == nullptr) return;
  LogLevel l = args->severity == GPR_LOG_SEVERITY_ERROR  ? LogLevel::kError
               : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                         : LogLevel::kDebug;
  log->Log(l, args->message,
           {{"library", "grpc"}, {"source", absl::StrCat(args->file, ":", args->line)}});
}

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text, const std::string& key) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": not a date (YYYY-MM-DD): ", text));
  }
  return day;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Load(const std::string& service, int argc,
                                                       char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("usage: ", service, " --config FILE"));
    }
  }
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->service_ = service;
  if (!path.empty()) {
    absl::StatusOr<Config> c = Config::LoadFile(path);
    if (!c.ok()) return c.status();
    rt->config_ = *std::move(c);
  }
  const Config& c = rt->config_;

  absl::StatusOr<std::string> clock = c.GetString("clock", "system");
  if (!clock.ok()) return clock.status();
  if (*clock == "simulated") {
    absl::StatusOr<std::string> start = c.GetString("clock.start", "2022-03-01");
    if (!start.ok()) return start.status();
    absl::StatusOr<absl::CivilDay> day = ParseDay(*start, "clock.start");
    if (!day.ok()) return day.status();
    rt->simulated_ = std::make_unique<SimulatedClock>();
    rt->simulated_->SetDay(*day);
    rt->clock_ = rt->simulated_.get();
  } else if (*clock == "system") {
    rt->clock_ = &SystemClock::Default();
  } else {
    return absl::InvalidArgumentError("clock: 'system' or 'simulated'");
  }
  rt->log_ = std::make_unique<Logger>(service, rt->clock_);
  g_library_log.store(new Logger(service, &SystemClock::Default()));
  google::protobuf::SetLogHandler(&ProtobufLog);
  gpr_set_log_function(&GrpcLog);

  absl::StatusOr<std::string> secret_file = c.GetPath("worker_key.secret_file");
  absl::StatusOr<std::string> secret =
      secret_file.ok() ? LoadWorkerKeySecretFromFile(*secret_file)
                       : LoadWorkerKeySecretFromEnv(kWorkerKeySecretEnv);
  if (!secret.ok()) return secret.status();
  absl::StatusOr<WorkerKeyer> keyer = WorkerKeyer::Create(*std::move(secret));
  if (!keyer.ok()) return keyer.status();
  rt->keyer_.emplace(*std::move(keyer));

  absl::StatusOr<std::string> tokens = c.GetPath("auth.tokens_file");
  if (!tokens.ok()) return tokens.status();
  absl::StatusOr<TokenAuthenticator> auth = TokenAuthenticator::LoadFile(*tokens);
  if (!auth.ok()) return auth.status();
  rt->auth_ = *std::move(auth);

  absl::StatusOr<std::string> bootstrap = c.GetString("kafka.bootstrap");
  if (!bootstrap.ok()) return bootstrap.status();
  absl::StatusOr<int64_t> partitions = c.GetInt64("kafka.partitions", 6);
  if (!partitions.ok()) return partitions.status();
  if (*partitions < 1 || *partitions > 1024) {
    return absl::InvalidArgumentError("kafka.partitions: 1..1024");
  }
  absl::StatusOr<int64_t> replica = c.GetInt64("replica", 0);
  if (!replica.ok()) return replica.status();
  absl::StatusOr<std::string> prefix = c.GetString("kafka.topic_prefix", "");
  if (!prefix.ok()) return prefix.status();
  rt->topic_prefix_ = *prefix;
  rt->partitions_ = static_cast<int32_t>(*partitions);
  rt->replica_ = static_cast<int>(*replica);
  rt->kafka_.bootstrap = *bootstrap;
  rt->kafka_.client_id = rt->instance();
  rt->kafka_.logger = rt->log_.get();
  // librdkafka properties for the cluster's security (TLS, SASL):
  //   kafka.property.security.protocol = SASL_SSL
  //   kafka.property.sasl.mechanism = SCRAM-SHA-512
  //   kafka.property.sasl.username = mutualaid
  //   kafka.sasl.password_file = /etc/mutualaid/kafka/password
  //   kafka.property.ssl.ca.location = /etc/mutualaid/kafka/ca.crt
  constexpr absl::string_view kProperty = "kafka.property.";
  for (const std::string& key : c.FileKeys()) {
    if (key.rfind(std::string(kProperty), 0) != 0) continue;
    absl::StatusOr<std::string> value = c.GetString(key);
    if (!value.ok()) return value.status();
    rt->kafka_.properties.emplace_back(key.substr(kProperty.size()), *value);
  }
  if (c.Has("kafka.sasl.password_file")) {
    absl::StatusOr<std::string> file = c.GetPath("kafka.sasl.password_file");
    if (!file.ok()) return file.status();
    // The password on the file's first line (so it is never in a config file).
    std::ifstream in(*file);
    if (!in) return absl::NotFoundError(absl::StrCat("kafka.sasl.password_file: cannot read ", *file));
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("kafka.sasl.password_file: ", *file, " is empty"));
    }
    rt->kafka_.properties.emplace_back("sasl.password", line);
  }

  absl::StatusOr<ServerOptions> grpc = ServerOptions::FromConfig(c, "grpc");
  if (!grpc.ok()) return grpc.status();
  rt->grpc_ = *grpc;
  rt->grpc_.metrics = rt->metrics_.get();
  rt->decisions_ = &rt->metrics_->Counter(
      "mutualaid_decisions_total", "Events this service committed, by type and outcome.",
      {"service", "type", "outcome"});
  rt->reasons_ = &rt->metrics_->Counter("mutualaid_decision_reasons_total",
                                        "Reason codes in committed decisions.",
                                        {"service", "type", "reason"});
  return rt;
}

// The topic prefix keeps deployments sharing a cluster apart: their
// transactional ids (and so their fencing) too.
std::string Runtime::instance() const {
  return absl::StrCat(topic_prefix_, service_, "-", replica_);
}

absl::Status Runtime::EnsureTopics() const {
  absl::StatusOr<bool> create = config_.GetBool("kafka.create_topics", true);
  if (!create.ok()) return create.status();
  if (!*create) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<kafka::Admin>> admin = kafka::Admin::Create(kafka_);
  if (!admin.ok()) return admin.status();
  std::vector<kafka::TopicSpec> topics;
  for (absl::string_view name : kafka::kAllTopics) {
    topics.push_back(kafka::TopicSpec::EventLog(topic(name), partitions_));
  }
  return (*admin)->EnsureTopics(topics, absl::Seconds(60));
}

absl::StatusOr<std::unique_ptr<store::StateStore>> Runtime::OpenStore(
    const std::vector<std::string>& column_families) const {
  absl::StatusOr<std::string> path = config_.GetPath("store.path");
  if (!path.ok()) return path.status();
  absl::StatusOr<int64_t> cache_mb = config_.GetInt64("store.block_cache_mb", 64);
  if (!cache_mb.ok()) return cache_mb.status();
  store::StateStore::Options o;
  o.column_families = column_families;
  o.column_families.push_back(processor::kChainColumnFamily);  // the processor's audit chain
  o.block_cache_bytes = static_cast<size_t>(*cache_mb) << 20;
  return store::StateStore::Open(*path, o);
}

void Runtime::Observe(const processor::Processor& processor, const store::StateStore& store) {
  const std::string svc = service_;
  const processor::Processor* p = &processor;
  metrics_->CounterCallback(
      "mutualaid_processor_records_total", "Processor work, by kind.", {"service", "kind"},
      [svc, p] {
        processor::ProcessorStats st = p->stats();
        return std::vector<metrics::Sample>{
            {{svc, "requests"}, static_cast<double>(st.requests)},
            {{svc, "events"}, static_cast<double>(st.events)},
            {{svc, "applied"}, static_cast<double>(st.applied)},
            {{svc, "dead_lettered"}, static_cast<double>(st.dead_lettered)},
            {{svc, "skipped"}, static_cast<double>(st.skipped)},
            {{svc, "ticks"}, static_cast<double>(st.ticks)}};
      });
  metrics_->CounterCallback("mutualaid_transaction_aborts_total",
                            "Kafka transactions aborted and redone.", {"service"}, [svc, p] {
                              return std::vector<metrics::Sample>{
                                  {{svc}, static_cast<double>(p->stats().aborts)}};
                            });
  metrics_->CounterCallback("mutualaid_producer_restarts_total",
                            "Transactional producers recreated after fatal errors.", {"service"},
                            [svc, p] {
                              return std::vector<metrics::Sample>{
                                  {{svc}, static_cast<double>(p->stats().producer_restarts)}};
                            });
  metrics_->GaugeCallback("mutualaid_consumer_lag",
                          "Records not yet consumed, per assigned partition.",
                          {"service", "topic", "partition"}, [svc, p] {
                            std::vector<metrics::Sample> out;
                            for (const auto& l : p->stats().lag_by_partition) {
                              out.push_back({{svc, l.topic, absl::StrCat(l.partition)},
                                             static_cast<double>(l.lag)});
                            }
                            return out;
                          });
  const store::StateStore* st = &store;
  metrics_->GaugeCallback("mutualaid_store_bytes", "RocksDB state size, by part.",
                          {"service", "part"}, [svc, st] {
                            store::StateStore::Usage u = st->ApproximateUsage();
                            return std::vector<metrics::Sample>{
                                {{svc, "sst"}, static_cast<double>(u.sst_bytes)},
                                {{svc, "memtables"}, static_cast<double>(u.memtable_bytes)},
                                {{svc, "block_cache"}, static_cast<double>(u.block_cache_bytes)}};
                          });
}

void Runtime::CountDecisions(const std::vector<kafka::Record>& events) {
  for (const kafka::Record& r : events) {
    v1::Envelope env;
    if (!env.ParseFromString(r.value)) continue;
    events::Outcome o = events::OutcomeOf(env);
    decisions_->With({service_, o.type, o.outcome}).Increment();
    for (const std::string& reason : o.reasons) {
      reasons_->With({service_, o.type, reason}).Increment();
    }
  }
}

absl::Status Runtime::StartMetrics() {
  absl::StatusOr<std::string> listen = config_.GetString("metrics.listen", "");
  if (!listen.ok()) return listen.status();
  if (listen->empty()) return absl::OkStatus();
  metrics_server_ = std::make_unique<metrics::MetricsServer>(*metrics_, *listen);
  if (absl::Status s = metrics_server_->Start(); !s.ok()) return s;
  log_->Info("metrics listening", {{"address", metrics_server_->address()}});
  return absl::OkStatus();
}

absl::Status Runtime::Serve(processor::Processor& processor,
                            std::initializer_list<grpc::Service*> services) {
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  absl::Status processor_status;
  std::thread processor_thread([&] {
    processor_status = processor.Run(stop);
    if (!processor_status.ok()) failed.store(true);
  });
  ServiceHost host(grpc_);
  for (grpc::Service* service : services) host.Add(service);
  if (absl::Status s = host.Start(); !s.ok()) {
    stop.store(true);
    processor_thread.join();
    return s;
  }
  log_->Info(absl::StrCat(service_, " service listening"), {{"address", host.address()}});
  std::printf("listening %s\n", host.address().c_str());
  std::fflush(stdout);

  WaitForShutdown(failed);
  host.Shutdown();
  stop.store(true);
  processor_thread.join();
  return processor_status;
}

void Runtime::BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void Runtime::WaitForShutdown(const std::atomic<bool>& failed) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  timespec tick{0, 200 * 1000 * 1000};
  while (!failed.load()) {
    if (sigtimedwait(&set, nullptr, &tick) > 0) return;
  }
}

}  // namespace mutualaid::server

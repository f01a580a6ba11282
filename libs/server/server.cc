#include "mutualaid/server/server.h"

#include <fstream>
#include <sstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mutualaid/core/config.h"
#include "mutualaid/metrics/metrics.h"

namespace mutualaid::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Counts and times every RPC. Durations are operational measurements, taken
// from the steady clock, never business time.
class RpcMetrics final : public grpc::experimental::Interceptor {
 public:
  RpcMetrics(std::string method, metrics::Family<metrics::CounterValue>* requests,
             metrics::Family<metrics::HistogramValue>* latency)
      : method_(std::move(method)), requests_(requests), latency_(latency) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    using grpc::experimental::InterceptionHookPoints;
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status s = m->GetSendStatus();
      requests_->With({method_, StatusCodeName(s.error_code())}).Increment();
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
      latency_->With({method_}).Observe(d.count());
    }
    m->Proceed();
  }

 private:
  static std::string StatusCodeName(grpc::StatusCode code) {
    static const char* kNames[] = {"OK",
                                   "CANCELLED",
                                   "UNKNOWN",
                                   "INVALID_ARGUMENT",
                                   "DEADLINE_EXCEEDED",
                                   "NOT_FOUND",
                                   "ALREADY_EXISTS",
                                   "PERMISSION_DENIED",
                                   "RESOURCE_EXHAUSTED",
                                   "FAILED_PRECONDITION",
                                   "ABORTED",
                                   "OUT_OF_RANGE",
                                   "UNIMPLEMENTED",
                                   "INTERNAL",
                                   "UNAVAILABLE",
                                   "DATA_LOSS",
                                   "UNAUTHENTICATED"};
    int c = static_cast<int>(code);
    return c >= 0 && c <= 16 ? kNames[c] : absl::StrCat(c);
  }

  std::string method_;
  metrics::Family<metrics::CounterValue>* requests_;
  metrics::Family<metrics::HistogramValue>* latency_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class RpcMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsFactory(metrics::Registry& registry)
      : requests_(registry.Counter("mutualaid_grpc_requests_total",
                                   "RPCs handled, by method and status code.", {"method", "code"})),
        latency_(registry.Histogram("mutualaid_grpc_latency_seconds",
                                    "Time from receiving an RPC to sending its status.",
                                    {"method"})) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    std::string method = info->method();
    if (method.rfind("/grpc.", 0) == 0) return nullptr;  // health, reflection
    return new RpcMetrics(method.substr(method.rfind('/') + 1), &requests_, &latency_);
  }

 private:
  metrics::Family<metrics::CounterValue>& requests_;
  metrics::Family<metrics::HistogramValue>& latency_;
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::StatusOr<ServerOptions> ServerOptions::FromConfig(const Config& config,
                                                        const std::string& prefix) {
  ServerOptions o;
  auto get = [&](const char* key, std::string* out) -> absl::Status {
    absl::StatusOr<std::string> v = config.GetString(absl::StrCat(prefix, ".", key), *out);
    if (!v.ok()) return v.status();
    *out = *v;
    return absl::OkStatus();
  };
  if (absl::Status s = get("listen", &o.listen); !s.ok()) return s;
  // The PEM files are paths: relative ones are relative to the config file,
  // like every other path key (an environment override is taken as given).
  for (auto [key, out] : {std::pair{"tls_cert", &o.tls_cert_file},
                          std::pair{"tls_key", &o.tls_key_file},
                          std::pair{"tls_client_ca", &o.tls_client_ca_file}}) {
    const std::string name = absl::StrCat(prefix, ".", key);
    absl::StatusOr<std::string> text = config.GetString(name, "");
    if (!text.ok()) return text.status();
    if (text->empty()) continue;
    absl::StatusOr<std::string> path = config.GetPath(name);
    if (!path.ok()) return path.status();
    *out = *path;
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".tls_cert and ", prefix, ".tls_key must be set together"));
  }
  return o;
}

ServiceHost::ServiceHost(ServerOptions options) : options_(std::move(options)) {}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::Add(grpc::Service* service) { services_.push_back(service); }

absl::Status ServiceHost::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!options_.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(options_.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(options_.tls_key_file);
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    if (!options_.tls_client_ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadFile(options_.tls_client_ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, creds, &port_);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  for (grpc::Service* s : services_) builder.RegisterService(s);
  if (options_.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<RpcMetricsFactory>(*options_.metrics));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  SetServing(true);
  return absl::OkStatus();
}

std::string ServiceHost::address() const {
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  return absl::StrCat(host, ":", port_);
}

void ServiceHost::SetServing(bool serving) {
  if (server_ && server_->GetHealthCheckService()) {
    server_->GetHealthCheckService()->SetServingStatus(serving);
  }
}

void ServiceHost::Shutdown() {
  if (server_) {
    SetServing(false);
    server_->Shutdown();
    server_->Wait();
    server_.reset();
  }
}

void ServiceHost::Wait() {
  if (server_) server_->Wait();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadFile(ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace mutualaid::server

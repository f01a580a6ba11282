// The scaffold every service's gRPC server stands on: listen on loopback (or
// the configured address), optional TLS, grpc.health.v1, server reflection.
#ifndef MUTUALAID_SERVER_SERVER_H_
#define MUTUALAID_SERVER_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mutualaid {
class Config;
namespace metrics {
class Registry;
}
}

namespace mutualaid::server {

// absl::Status -> grpc::Status, code for code (the canonical codes are the same).
grpc::Status ToGrpcStatus(const absl::Status& status);

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: pick a free one
  // TLS is on when both are set (PEM files); with client_ca_file, clients must
  // present a certificate signed by it.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  int max_message_bytes = 16 << 20;
  // When set, every RPC is counted by method and status code, and timed
  // (mutualaid_grpc_requests_total, mutualaid_grpc_latency_seconds).
  metrics::Registry* metrics = nullptr;

  // Reads `<prefix>.listen`, `<prefix>.tls_cert`, `<prefix>.tls_key`,
  // `<prefix>.tls_client_ca` (e.g. prefix "grpc").
  static absl::StatusOr<ServerOptions> FromConfig(const Config& config, const std::string& prefix);
};

class ServiceHost {
 public:
  explicit ServiceHost(ServerOptions options);
  ~ServiceHost();

  // Register before Start(); the host does not own the services.
  void Add(grpc::Service* service);

  absl::Status Start();
  int port() const { return port_; }
  std::string address() const;  // host:port actually bound
  void SetServing(bool serving);  // the health status of the whole server
  void Shutdown();
  void Wait();

 private:
  ServerOptions options_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Channel credentials matching a server's TLS options, for clients and tests:
// insecure when ca_file is empty, else TLS (with a client certificate if given).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(const std::string& ca_file,
                                                            const std::string& cert_file = "",
                                                            const std::string& key_file = "");

}  // namespace mutualaid::server

#endif  // MUTUALAID_SERVER_SERVER_H_

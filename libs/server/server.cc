#include "mutualaid/server/server.h"

#include <fstream>
#include <sstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mutualaid/core/config.h"

namespace mutualaid::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

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
  for (auto [key, out] : {std::pair{"listen", &o.listen}, std::pair{"tls_cert", &o.tls_cert_file},
                          std::pair{"tls_key", &o.tls_key_file},
                          std::pair{"tls_client_ca", &o.tls_client_ca_file}}) {
    if (absl::Status s = get(key, out); !s.ok()) return s;
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

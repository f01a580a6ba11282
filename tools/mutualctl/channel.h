// The gRPC channel every mutualctl subcommand opens to a service: plaintext,
// or TLS when a CA certificate to trust is given (`mutualctl --ca-cert FILE
// <subcommand> …`, or MUTUALAID_CA_CERT=FILE in the environment; the local
// stack's is var/local/certs/ca.pem, made by deploy/local/make-certs). Over
// TLS it presents a client certificate when one is given (`--client-cert FILE
// --client-key FILE`, or MUTUALAID_CLIENT_CERT / MUTUALAID_CLIENT_KEY), as
// services that require one (grpc.tls_client_ca) ask; the local stack's is
// var/local/certs/mutualctl.pem + .key.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_CHANNEL_H_
#define MUTUALAID_TOOLS_MUTUALCTL_CHANNEL_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace mutualaid::mutualctl {

inline constexpr char kCaCertEnv[] = "MUTUALAID_CA_CERT";
inline constexpr char kClientCertEnv[] = "MUTUALAID_CLIENT_CERT";
inline constexpr char kClientKeyEnv[] = "MUTUALAID_CLIENT_KEY";

// The CA certificate file clients trust ("" = plaintext).
std::string CaCertFile();
// Sets it for this process (the --ca-cert flag) after checking it is a
// readable PEM file.
absl::Status SetCaCertFile(const std::string& path);
// Checks the configured file (if any) can be read: a clear error up front.
absl::Status CheckCaCertFile();

// The client certificate and its private key presented over TLS ("" = none).
std::string ClientCertFile();
std::string ClientKeyFile();
// Set them for this process (the --client-cert / --client-key flags).
void SetClientCertFile(const std::string& path);
void SetClientKeyFile(const std::string& path);
// Checks the configured pair (if any): both given, TLS on (a CA to trust),
// each a readable PEM file of the right kind. InvalidArgument/NotFound naming
// the flag and the environment variable.
absl::Status CheckClientCert();

// A channel to `server` (HOST:PORT), TLS when CaCertFile() is set, with the
// client certificate if one is set. Exits the process with a message if a
// file cannot be read (checked at start by main, so only a file removed
// meanwhile gets here).
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& server);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_CHANNEL_H_

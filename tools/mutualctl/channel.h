// The gRPC channel every mutualctl subcommand opens to a service: plaintext,
// or TLS when a CA certificate to trust is given (`mutualctl --ca-cert FILE
// <subcommand> …`, or MUTUALAID_CA_CERT=FILE in the environment; the local
// stack's is var/local/certs/ca.pem, made by deploy/local/make-certs).
#ifndef MUTUALAID_TOOLS_MUTUALCTL_CHANNEL_H_
#define MUTUALAID_TOOLS_MUTUALCTL_CHANNEL_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace mutualaid::mutualctl {

inline constexpr char kCaCertEnv[] = "MUTUALAID_CA_CERT";

// The CA certificate file clients trust ("" = plaintext).
std::string CaCertFile();
// Sets it for this process (the --ca-cert flag) after checking it is a
// readable PEM file.
absl::Status SetCaCertFile(const std::string& path);
// Checks the configured file (if any) can be read: a clear error up front.
absl::Status CheckCaCertFile();

// A channel to `server` (HOST:PORT), TLS when CaCertFile() is set. Exits the
// process with a message if the CA file cannot be read (checked at start by
// main, so only a file removed meanwhile gets here).
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& server);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_CHANNEL_H_

#include "mutualaid/server/server.h"

#include <future>

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

namespace mutualaid::server {
namespace {

// grpc.health.v1.Health/Check over a generic stub: the request for the whole
// server is the empty message; the response is `status` (field 1, varint).
int HealthStatus(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::ByteBuffer request;  // empty HealthCheckRequest
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -2;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.empty()) return 0;  // UNKNOWN (default value is not serialized)
  if (bytes.size() != 2 || bytes[0] != 0x08) return -3;
  return bytes[1];
}

TEST(ServiceHostTest, ServesHealthOnLoopback) {
  ServiceHost host(ServerOptions{});
  ASSERT_TRUE(host.Start().ok());
  ASSERT_GT(host.port(), 0);
  EXPECT_EQ(host.address().rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(HealthStatus(host.address()), 1);  // SERVING
  host.SetServing(false);
  EXPECT_EQ(HealthStatus(host.address()), 2);  // NOT_SERVING
  host.Shutdown();
}

TEST(ServiceHostTest, MissingTlsFilesAreAnError) {
  ServerOptions o;
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  ServiceHost host(o);
  absl::Status s = host.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

TEST(StatusMappingTest, CodesMapOneToOne) {
  EXPECT_EQ(ToGrpcStatus(absl::OkStatus()).error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::PermissionDeniedError("x")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("x")).error_message(), "x");
}

}  // namespace
}  // namespace mutualaid::server

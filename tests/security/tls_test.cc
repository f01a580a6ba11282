// TLS end to end: deploy/local/make-certs makes a CA and the services'
// certificates, a real service binary serves its gRPC port with them (paths in
// its config file, relative to the file), and then: a client trusting the CA
// gets through (by IP and by "localhost"), health checks work over TLS, a
// plaintext client and a client trusting another CA are refused, and
// `mutualctl --ca-cert` talks to it.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "mutualaid/server/server.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "security_harness.h"

namespace mutualaid {
namespace {

using testing::Call;

int Shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& ca_file) {
  auto creds = server::ClientCredentials(ca_file);
  EXPECT_TRUE(creds.ok()) << creds.status();
  return grpc::CreateChannel(address, creds.ok() ? *creds : grpc::InsecureChannelCredentials());
}

grpc::Status GetClock(const std::shared_ptr<grpc::Channel>& channel, v1::ClockState* state) {
  auto stub = v1::AdminService::NewStub(channel);
  return stub->GetClock(Call(testing::kOperations, absl::Seconds(10)).get(), v1::GetClockRequest(),
                        state);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = dir_.path() / "certs";
    other_ = dir_.path() / "other-ca";
    ASSERT_EQ(Shell(absl::StrCat("bash ", MAKE_CERTS, " --out ", certs_.string(), " >/dev/null")), 0);
    ASSERT_EQ(Shell(absl::StrCat("bash ", MAKE_CERTS, " --out ", other_.string(), " >/dev/null")), 0);
    for (const char* f : {"ca.pem", "ca.key", "enrollment.pem", "enrollment.key", "claims.pem",
                          "payout.pem", "notification.pem"}) {
      ASSERT_TRUE(std::filesystem::exists(certs_ / f)) << f;
    }
    // Idempotent: a second run keeps the CA and the certificates.
    const std::string ca_before = testing::ReadAll(certs_ / "ca.pem");
    const std::string cert_before = testing::ReadAll(certs_ / "enrollment.pem");
    ASSERT_EQ(Shell(absl::StrCat("bash ", MAKE_CERTS, " --out ", certs_.string(), " >/dev/null")), 0);
    EXPECT_EQ(testing::ReadAll(certs_ / "ca.pem"), ca_before);
    EXPECT_EQ(testing::ReadAll(certs_ / "enrollment.pem"), cert_before);
    // The key stays private to its owner.
    auto perms = std::filesystem::status(certs_ / "enrollment.key").permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none);

    service_ = std::make_unique<testing::LoggedProcess>(
        ENROLLMENT_BINARY, "enrollment", dir_.path(),
        dir_.ServiceConfig("enrollment", "clock.start = 2022-05-10\n"
                                         "grpc.tls_cert = certs/enrollment.pem\n"
                                         "grpc.tls_key = certs/enrollment.key"));
    std::string error;
    ASSERT_TRUE(service_->Start(&error)) << error;
    port_ = service_->address().substr(service_->address().rfind(':') + 1);
  }

  testing::TestDir dir_;
  std::filesystem::path certs_, other_;
  std::unique_ptr<testing::LoggedProcess> service_;
  std::string port_;
};

TEST_F(TlsTest, ClientTrustingTheCaGetsThroughByIpAndByName) {
  for (const std::string& address : {absl::StrCat("127.0.0.1:", port_), absl::StrCat("localhost:", port_)}) {
    SCOPED_TRACE(address);
    auto channel = Channel(address, (certs_ / "ca.pem").string());
    v1::ClockState state;
    grpc::Status s = GetClock(channel, &state);
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    EXPECT_TRUE(state.simulated());
    EXPECT_EQ(state.today().year(), 2022);
    // Auth still applies over TLS: no token is refused, a wrong role denied.
    auto stub = v1::EnrollmentService::NewStub(channel);
    grpc::ClientContext anonymous;
    v1::ListReviewQueueResponse queue;
    EXPECT_EQ(stub->ListReviewQueue(&anonymous, {}, &queue).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(stub->ListReviewQueue(Call(testing::kFinance).get(), {}, &queue).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(stub->ListReviewQueue(Call(testing::kReviewer).get(), {}, &queue).ok());
  }
}

TEST_F(TlsTest, HealthCheckWorksOverTls) {
  bool serving = false;
  grpc::Status s = testing::HealthCheck(Channel(service_->address(), (certs_ / "ca.pem").string()),
                                        &serving);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(serving);
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  auto channel = grpc::CreateChannel(service_->address(), grpc::InsecureChannelCredentials());
  v1::ClockState state;
  grpc::Status s = GetClock(channel, &state);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  bool serving = true;
  EXPECT_FALSE(testing::HealthCheck(channel, &serving).ok());
  EXPECT_FALSE(serving);
  EXPECT_TRUE(service_->Running()) << "a plaintext client must not bring the service down";
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  auto channel = Channel(service_->address(), (other_ / "ca.pem").string());
  v1::ClockState state;
  grpc::Status s = GetClock(channel, &state);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  bool serving = true;
  EXPECT_FALSE(testing::HealthCheck(channel, &serving).ok());
  // And the right CA still works afterwards.
  EXPECT_TRUE(GetClock(Channel(service_->address(), (certs_ / "ca.pem").string()), &state).ok());
}

TEST_F(TlsTest, MutualctlTalksTlsWithCaCert) {
  const std::filesystem::path token = dir_.path() / "ops.token";
  std::ofstream(token) << testing::kOperations << "\n";
  const std::string out = (dir_.path() / "mutualctl.out").string();
  auto clock_get = [&](const std::string& global, const std::string& env = "") {
    return Shell(absl::StrCat(env, " ", MUTUALCTL_BINARY, " ", global, " clock get --server ",
                            service_->address(), " --token-file ", token.string(), " >", out, " 2>&1"));
  };
  const std::string ca = (certs_ / "ca.pem").string();
  EXPECT_EQ(clock_get("--ca-cert " + ca), 0) << testing::ReadAll(out);
  EXPECT_NE(testing::ReadAll(out).find("2022-05-10"), std::string::npos) << testing::ReadAll(out);
  EXPECT_EQ(clock_get("--ca-cert=" + ca), 0) << testing::ReadAll(out);
  EXPECT_EQ(clock_get("", "MUTUALAID_CA_CERT=" + ca), 0) << testing::ReadAll(out);
  EXPECT_NE(clock_get("", "env -u MUTUALAID_CA_CERT"), 0) << "plaintext to a TLS port";
  EXPECT_NE(clock_get("--ca-cert " + (other_ / "ca.pem").string()), 0) << "another CA";
  EXPECT_EQ(clock_get("--ca-cert " + (dir_.path() / "missing.pem").string()), 2);
  EXPECT_NE(testing::ReadAll(out).find("missing.pem"), std::string::npos) << testing::ReadAll(out);
}

}  // namespace
}  // namespace mutualaid

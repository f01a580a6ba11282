// Mutual TLS end to end: deploy/local/make-certs makes a CA, the services'
// certificates and mutualctl's client certificate; a real service binary
// serves its gRPC port with grpc.tls_client_ca set (it requires and verifies
// a client certificate). Then: a client presenting a certificate the CA
// signed gets through (RPCs and health checks), a client with no certificate
// and one with a certificate from another CA are refused (health checks too),
// and `mutualctl --client-cert/--client-key` (or MUTUALAID_CLIENT_CERT/_KEY)
// talks to it.
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

// TLS trusting `ca_file`, presenting `cert`/`key` if given.
std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::filesystem::path& ca_file,
                                       const std::filesystem::path& cert = {},
                                       const std::filesystem::path& key = {}) {
  auto creds = server::ClientCredentials(ca_file.string(), cert.string(), key.string());
  EXPECT_TRUE(creds.ok()) << creds.status();
  return grpc::CreateChannel(address, creds.ok() ? *creds : grpc::InsecureChannelCredentials());
}

grpc::Status GetClock(const std::shared_ptr<grpc::Channel>& channel, v1::ClockState* state) {
  auto stub = v1::AdminService::NewStub(channel);
  return stub->GetClock(Call(testing::kOperations, absl::Seconds(10)).get(), v1::GetClockRequest(),
                        state);
}

class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = dir_.path() / "certs";
    other_ = dir_.path() / "other-ca";
    ASSERT_EQ(Shell(absl::StrCat("bash ", MAKE_CERTS, " --out ", certs_.string(), " >/dev/null")), 0);
    ASSERT_EQ(Shell(absl::StrCat("bash ", MAKE_CERTS, " --out ", other_.string(), " >/dev/null")), 0);
    for (const char* f : {"ca.pem", "enrollment.pem", "enrollment.key", "mutualctl.pem", "mutualctl.key"}) {
      ASSERT_TRUE(std::filesystem::exists(certs_ / f)) << f;
    }
    // The client key stays private to its owner; a second run keeps it.
    auto perms = std::filesystem::status(certs_ / "mutualctl.key").permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none);
    const std::string client_before = testing::ReadAll(certs_ / "mutualctl.pem");
    ASSERT_EQ(Shell(absl::StrCat("bash ", MAKE_CERTS, " --out ", certs_.string(), " >/dev/null")), 0);
    EXPECT_EQ(testing::ReadAll(certs_ / "mutualctl.pem"), client_before);

    service_ = std::make_unique<testing::LoggedProcess>(
        ENROLLMENT_BINARY, "enrollment", dir_.path(),
        dir_.ServiceConfig("enrollment", "clock.start = 2022-05-10\n"
                                         "grpc.tls_cert = certs/enrollment.pem\n"
                                         "grpc.tls_key = certs/enrollment.key\n"
                                         "grpc.tls_client_ca = certs/ca.pem"));
    std::string error;
    ASSERT_TRUE(service_->Start(&error)) << error;
  }

  std::shared_ptr<grpc::Channel> Signed() const {
    return Channel(service_->address(), certs_ / "ca.pem", certs_ / "mutualctl.pem",
                   certs_ / "mutualctl.key");
  }

  testing::TestDir dir_;
  std::filesystem::path certs_, other_;
  std::unique_ptr<testing::LoggedProcess> service_;
};

TEST_F(MtlsTest, ClientWithACertificateTheCaSignedGetsThrough) {
  auto channel = Signed();
  v1::ClockState state;
  grpc::Status s = GetClock(channel, &state);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(state.today().year(), 2022);
  // The certificate does not stand for a role: the bearer token still decides.
  auto stub = v1::EnrollmentService::NewStub(channel);
  grpc::ClientContext anonymous;
  v1::ListReviewQueueResponse queue;
  EXPECT_EQ(stub->ListReviewQueue(&anonymous, {}, &queue).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub->ListReviewQueue(Call(testing::kFinance).get(), {}, &queue).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub->ListReviewQueue(Call(testing::kReviewer).get(), {}, &queue).ok());

  bool serving = false;
  s = testing::HealthCheck(channel, &serving);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(serving);
}

TEST_F(MtlsTest, ClientWithoutACertificateIsRefused) {
  auto channel = Channel(service_->address(), certs_ / "ca.pem");
  v1::ClockState state;
  grpc::Status s = GetClock(channel, &state);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  bool serving = true;
  EXPECT_FALSE(testing::HealthCheck(channel, &serving).ok());
  EXPECT_FALSE(serving);
  // Nor plaintext.
  auto plain = grpc::CreateChannel(service_->address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(GetClock(plain, &state).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(testing::HealthCheck(plain, &serving).ok());
  EXPECT_TRUE(service_->Running()) << "a client without a certificate must not bring the service down";
  EXPECT_TRUE(GetClock(Signed(), &state).ok());
}

TEST_F(MtlsTest, ClientWithACertificateFromAnotherCaIsRefused) {
  // It trusts the right CA, but its own certificate is another CA's.
  auto channel = Channel(service_->address(), certs_ / "ca.pem", other_ / "mutualctl.pem",
                         other_ / "mutualctl.key");
  v1::ClockState state;
  grpc::Status s = GetClock(channel, &state);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  bool serving = true;
  EXPECT_FALSE(testing::HealthCheck(channel, &serving).ok());
  EXPECT_FALSE(serving);
  EXPECT_TRUE(service_->Running());
  // The right certificate still works afterwards.
  EXPECT_TRUE(GetClock(Signed(), &state).ok());
}

TEST_F(MtlsTest, MutualctlPresentsItsClientCertificate) {
  const std::filesystem::path token = dir_.path() / "ops.token";
  std::ofstream(token) << testing::kOperations << "\n";
  const std::string out = (dir_.path() / "mutualctl.out").string();
  auto clock_get = [&](const std::string& global, const std::string& env = "") {
    return Shell(absl::StrCat("env -u MUTUALAID_CA_CERT -u MUTUALAID_CLIENT_CERT -u MUTUALAID_CLIENT_KEY ",
                              env, " ", MUTUALCTL_BINARY, " ", global, " clock get --server ",
                              service_->address(), " --token-file ", token.string(), " >", out, " 2>&1"));
  };
  const std::string ca = (certs_ / "ca.pem").string();
  const std::string cert = (certs_ / "mutualctl.pem").string();
  const std::string key = (certs_ / "mutualctl.key").string();
  EXPECT_EQ(clock_get(absl::StrCat("--ca-cert ", ca, " --client-cert ", cert, " --client-key ", key)), 0)
      << testing::ReadAll(out);
  EXPECT_NE(testing::ReadAll(out).find("2022-05-10"), std::string::npos) << testing::ReadAll(out);
  EXPECT_EQ(clock_get(absl::StrCat("--client-cert=", cert, " --client-key=", key, " --ca-cert=", ca)), 0)
      << testing::ReadAll(out);
  EXPECT_EQ(clock_get("", absl::StrCat("MUTUALAID_CA_CERT=", ca, " MUTUALAID_CLIENT_CERT=", cert,
                                       " MUTUALAID_CLIENT_KEY=", key)),
            0)
      << testing::ReadAll(out);
  // No certificate, or another CA's: refused by the service.
  EXPECT_EQ(clock_get("--ca-cert " + ca), 1) << testing::ReadAll(out);
  EXPECT_EQ(clock_get(absl::StrCat("--ca-cert ", ca, " --client-cert ", (other_ / "mutualctl.pem").string(),
                                   " --client-key ", (other_ / "mutualctl.key").string())),
            1)
      << testing::ReadAll(out);
  // Flags that cannot work are refused up front (exit 2), naming the flag.
  EXPECT_EQ(clock_get(absl::StrCat("--ca-cert ", ca, " --client-cert ", cert)), 2);
  EXPECT_NE(testing::ReadAll(out).find("--client-key"), std::string::npos) << testing::ReadAll(out);
  EXPECT_EQ(clock_get(absl::StrCat("--client-cert ", cert, " --client-key ", key)), 2);
  EXPECT_NE(testing::ReadAll(out).find("--ca-cert"), std::string::npos) << testing::ReadAll(out);
  EXPECT_EQ(clock_get(absl::StrCat("--ca-cert ", ca, " --client-cert ", key, " --client-key ", key)), 2);
  EXPECT_NE(testing::ReadAll(out).find("no PEM certificate"), std::string::npos) << testing::ReadAll(out);
  EXPECT_EQ(clock_get(absl::StrCat("--ca-cert ", ca, " --client-cert ", cert, " --client-key ",
                                   (dir_.path() / "missing.key").string())),
            2);
  EXPECT_NE(testing::ReadAll(out).find("missing.key"), std::string::npos) << testing::ReadAll(out);
}

}  // namespace
}  // namespace mutualaid

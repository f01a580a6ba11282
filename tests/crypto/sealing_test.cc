// The enrollment service with sealing on, against the real broker (label
// kafka): a worker's name, ID number and phone never appear in clear in the
// requests or events topics, the keys topic or the service's RocksDB
// directory; authorised readers see them; EraseWorkerData (operations only)
// makes them unreadable ("erased") while the decision, dates and fee stay;
// a replay after the erasure still equals the live digest.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"
#include "tests/crypto/raw_bytes.h"
#include "tests/services/service_harness.h"

namespace mutualaid {
namespace {

using testing::Call;

const std::string kName = "张三丰";
const std::string kPhone = "13800138077";

TEST(Sealing, EnrollmentSealsErasesAndStillReplays) {
  testing::ServiceProcess svc(ENROLLMENT_BINARY, "enrollment", "clock.start = 2022-05-10");
  ASSERT_NO_FATAL_FAILURE(svc.Start());
  auto stub = v1::EnrollmentService::NewStub(svc.channel());
  auto admin = v1::AdminService::NewStub(svc.channel());
  {
    v1::RegisterPlatformRequest req;
    req.mutable_platform()->set_platform_id("P01");
    req.mutable_platform()->set_name("平台P01");
    req.mutable_platform()->set_payout_account("6222000000P01");
    v1::RegisterPlatformResponse resp;
    grpc::Status s = admin->RegisterPlatform(Call(testing::kOperations).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << svc.Log();
  }
  const std::string id = testing::IdNumber("19900307", 77);
  v1::SubmitEnrollmentsRequest sub;
  v1::EnrollmentRecord* r = sub.add_records();
  r->set_platform_record_id("w-77");
  r->set_name(kName);
  r->set_id_number(id);
  r->set_phone(kPhone);
  r->set_industry("FOOD_DELIVERY");
  v1::SubmitEnrollmentsResponse got;
  grpc::Status s = stub->SubmitEnrollments(Call(testing::kP01).get(), sub, &got);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << svc.Log();
  ASSERT_EQ(got.results_size(), 1);
  ASSERT_EQ(got.results(0).status(), v1::ENROLLMENT_STATUS_ACCEPTED) << got.DebugString();

  // An authorised reader sees the person.
  v1::GetEnrollmentRequest get;
  get.set_id_number(id);
  v1::GetEnrollmentResponse before;
  s = stub->GetEnrollment(Call(testing::kHall).get(), get, &before);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(before.enrollments_size(), 1);
  EXPECT_EQ(before.enrollments(0).person().id_number(), id);
  EXPECT_EQ(before.enrollments(0).person().name(), kName);
  EXPECT_EQ(before.enrollments(0).person().phone(), kPhone);
  EXPECT_FALSE(before.enrollments(0).has_sealed_person());

  // Nothing in clear in the topics or the store.
  const std::string prefix = svc.prefix();
  for (const std::string topic : {"mutualaid.enrollment.requests", "mutualaid.enrollment.events"}) {
    const std::string bytes = testing::TopicBytes(prefix + topic, 3);
    EXPECT_FALSE(bytes.empty()) << topic;
    EXPECT_EQ(bytes.find(id), std::string::npos) << topic << " holds the ID number";
    EXPECT_EQ(bytes.find(id.substr(6, 8)), std::string::npos) << topic << " holds the birth date";
    EXPECT_EQ(bytes.find(kPhone), std::string::npos) << topic << " holds the phone";
    EXPECT_EQ(bytes.find(kName), std::string::npos) << topic << " holds the name";
  }
  const std::string keys = testing::TopicBytes(prefix + "mutualaid.keys", 1);
  EXPECT_FALSE(keys.empty());
  EXPECT_EQ(keys.find(id), std::string::npos);
  const std::string store = testing::DirBytes(svc.dir() / "store-enrollment");
  EXPECT_FALSE(store.empty());
  EXPECT_EQ(store.find(id), std::string::npos) << "the store holds the ID number";
  EXPECT_EQ(store.find(kPhone), std::string::npos) << "the store holds the phone";
  EXPECT_EQ(store.find(kName), std::string::npos) << "the store holds the name";

  // Erasure: operations only.
  v1::EraseWorkerDataRequest erase;
  erase.set_id_number(id);
  v1::EraseWorkerDataResponse erased;
  for (const char* token : {testing::kHall, testing::kP01, testing::kReviewer, testing::kFinance}) {
    grpc::Status denied = stub->EraseWorkerData(Call(token).get(), erase, &erased);
    EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED) << token;
  }
  v1::EraseWorkerDataRequest both = erase;
  both.set_worker_key(std::string(64, 'a'));
  EXPECT_EQ(stub->EraseWorkerData(Call(testing::kOperations).get(), both, &erased).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::EraseWorkerDataRequest stranger;
  stranger.set_id_number(testing::IdNumber("19800101", 5));
  EXPECT_EQ(stub->EraseWorkerData(Call(testing::kOperations).get(), stranger, &erased).error_code(),
            grpc::StatusCode::NOT_FOUND);
  s = stub->EraseWorkerData(Call(testing::kOperations).get(), erase, &erased);
  ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << svc.Log();
  EXPECT_EQ(erased.worker_key().size(), 64u);
  EXPECT_GE(erased.keys_erased(), 1);
  s = stub->EraseWorkerData(Call(testing::kOperations).get(), erase, &erased);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(erased.keys_erased(), 0);  // already erased

  // Readers show "erased"; the decision's facts stay.
  v1::GetEnrollmentResponse after;
  s = stub->GetEnrollment(Call(testing::kHall).get(), get, &after);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(after.enrollments_size(), 1);
  const v1::Enrollment& e = after.enrollments(0);
  EXPECT_EQ(e.person().id_number(), "erased");
  EXPECT_EQ(e.person().name(), "erased");
  EXPECT_EQ(e.person().phone(), "erased");
  EXPECT_EQ(e.status(), v1::ENROLLMENT_STATUS_ACCEPTED);
  EXPECT_EQ(e.plan_year(), 2022);
  EXPECT_EQ(e.fee_fen(), before.enrollments(0).fee_fen());
  EXPECT_EQ(e.coverage_end().year(), 2023);

  // The year still replays to the live digest.
  const std::string token_file = (svc.dir() / "ops.token").string();
  std::ofstream(token_file) << testing::kOperations << "\n";
  // mutualctl erase: the same RPC (already erased now); usage errors exit 2.
  testing::ShellResult cli = testing::Shell(absl::StrCat(MUTUALCTL_BINARY, " erase --id-number ", id, " --server ",
                                          svc.address(), " --token-file ", token_file));
  EXPECT_EQ(cli.code, 0) << cli.out;
  EXPECT_NE(cli.out.find("ALREADY ERASED"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find(erased.worker_key()), std::string::npos) << cli.out;
  EXPECT_EQ(testing::Shell(absl::StrCat(MUTUALCTL_BINARY, " erase --server ", svc.address(),
                                    " --token-file ", token_file)).code, 2);
  const std::string hall_file = (svc.dir() / "hall.token").string();
  std::ofstream(hall_file) << testing::kHall << "\n";
  EXPECT_EQ(testing::Shell(absl::StrCat(MUTUALCTL_BINARY, " erase --id-number ", id, " --server ",
                                    svc.address(), " --token-file ", hall_file)).code, 1);
  testing::ShellResult replay = testing::Shell(absl::StrCat(MUTUALCTL_BINARY, " replay --service enrollment --topic-prefix ",
                                      prefix, " --server ", svc.address(), " --token-file ",
                                      token_file));
  EXPECT_EQ(replay.code, 0) << replay.out;
  EXPECT_NE(replay.out.find("EQUAL"), std::string::npos) << replay.out;
  EXPECT_EQ(svc.Stop(), 0);
}

TEST(Sealing, MalformedMasterKeyStopsTheService) {
  testing::ServiceProcess svc(ENROLLMENT_BINARY, "enrollment", "clock.start = 2022-05-10");
  std::ofstream(svc.dir() / "master.key") << "not-a-key\n";
  const std::string cmd = absl::StrCat(ENROLLMENT_BINARY, " --config ",
                                       (svc.dir() / "service.conf").string());
  testing::ShellResult r = testing::Shell(cmd);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("master key"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("64 hex characters"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mutualaid

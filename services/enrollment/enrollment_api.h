// The enrollment service's gRPC edge: platforms stream their records, reviewers
// decide the queue. Commands are stamped (receipt time from the injected clock,
// caller, request id) and appended to mutualaid.enrollment.requests; the
// answer is the processor's committed decision (server::Answers). Reads come
// from the service's RocksDB state.
#ifndef MUTUALAID_SERVICES_ENROLLMENT_ENROLLMENT_API_H_
#define MUTUALAID_SERVICES_ENROLLMENT_ENROLLMENT_API_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/server/answers.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/admin.pb.h"
#include "mutualaid/v1/enrollment.grpc.pb.h"

namespace mutualaid::enrollment {

struct ApiOptions {
  int32_t partitions = 6;                        // of the requests topic (platform broadcasts)
  absl::Duration decision_timeout = absl::Seconds(30);
  size_t max_in_flight = 2000;                   // per stream
  std::string producer = "enrollment";
  std::string requests_topic = "mutualaid.enrollment.requests";
};

// The checks the edge makes before it reads the state or produces, as pure
// functions (the fuzz targets in tests/fuzz run them). Errors name the field.
// A record's refusal before it reaches the rules (REJECTED, field and detail
// set), nullopt if it goes on to the rules.
std::optional<v1::EnrollmentResult> RefusalOf(const v1::EnrollmentRecord& record);
absl::Status CheckPhoneChange(const v1::ChangeContactPhoneRequest& req);
absl::Status CheckReviewDecision(const v1::DecideReviewRequest& req);
absl::Status CheckPlatform(const v1::RegisterPlatformRequest& req);

class EnrollmentApi final : public v1::EnrollmentService::Service {
 public:
  EnrollmentApi(ApiOptions options, const server::TokenAuthenticator& auth, const Clock& clock,
                const WorkerKeyer& keyer, kafka::Producer& producer,
                const store::StateStore& store, server::Answers& answers);

  grpc::Status StreamEnrollments(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::EnrollmentResult, v1::EnrollmentRecord>* stream) override;
  grpc::Status SubmitEnrollments(grpc::ServerContext* ctx, const v1::SubmitEnrollmentsRequest* req,
                                 v1::SubmitEnrollmentsResponse* resp) override;
  grpc::Status GetEnrollment(grpc::ServerContext* ctx, const v1::GetEnrollmentRequest* req,
                             v1::GetEnrollmentResponse* resp) override;
  grpc::Status ListEnrollments(grpc::ServerContext* ctx, const v1::ListEnrollmentsRequest* req,
                               v1::ListEnrollmentsResponse* resp) override;
  grpc::Status GetMonthlyStatement(grpc::ServerContext* ctx,
                                   const v1::GetMonthlyStatementRequest* req,
                                   v1::GetMonthlyStatementResponse* resp) override;
  grpc::Status ChangeContactPhone(grpc::ServerContext* ctx,
                                  const v1::ChangeContactPhoneRequest* req,
                                  v1::ChangeContactPhoneResponse* resp) override;
  grpc::Status ListReviewQueue(grpc::ServerContext* ctx, const v1::ListReviewQueueRequest* req,
                               v1::ListReviewQueueResponse* resp) override;
  grpc::Status DecideReview(grpc::ServerContext* ctx, const v1::DecideReviewRequest* req,
                            v1::DecideReviewResponse* resp) override;
  grpc::Status EraseWorkerData(grpc::ServerContext* ctx, const v1::EraseWorkerDataRequest* req,
                               v1::EraseWorkerDataResponse* resp) override;

  // The key ring the edge seals records with (before they are appended) and
  // opens enrollments with for authorised readers. Without one, records go
  // in clear and EraseWorkerData is FAILED_PRECONDITION.
  void SetKeyRing(crypto::KeyRing* ring) { ring_ = ring; }

  // AdminService's platform hooks.
  grpc::Status RegisterPlatform(const server::Principal& who, const v1::RegisterPlatformRequest& req,
                                v1::RegisterPlatformResponse* resp);
  grpc::Status ListPlatforms(const server::Principal& who, v1::ListPlatformsResponse* resp);

 private:
  struct Prepared;
  // Checks a record and makes its request, or the answer it already has.
  Prepared Prepare(const std::string& platform_id, const v1::EnrollmentRecord& record,
                   const std::string& caller);
  // With sealing on: makes the data keys of the new workers among `records`
  // in one group (KeyRing::PrepareKeys), before Prepare seals them one by one.
  absl::Status PrepareKeys(const std::vector<v1::EnrollmentRecord>& records);
  absl::StatusOr<std::optional<v1::EnrollmentResult>> StoredAnswer(const std::string& request_id);
  v1::EnrollmentResult ResultFor(const v1::Envelope& event) const;
  // An enrollment as a reader sees it: the person opened (or "erased").
  absl::Status Reveal(v1::Enrollment* e) const;
  std::string NewId() const;

  ApiOptions o_;
  const server::TokenAuthenticator& auth_;
  const Clock& clock_;
  const WorkerKeyer& keyer_;
  kafka::Producer& producer_;
  const store::StateStore& store_;
  server::Answers& answers_;
  crypto::KeyRing* ring_ = nullptr;
};

}  // namespace mutualaid::enrollment

#endif  // MUTUALAID_SERVICES_ENROLLMENT_ENROLLMENT_API_H_

// The enrollment service's processor: decides platforms' records with the
// plan's rules (libs/plan) and folds the decisions into its RocksDB state.
//
// State (column families), all derived from events:
//   enrollments     worker_key/plan_year      -> HeldEnrollment
//   enrollment_ids  enrollment_id             -> worker_key/plan_year key
//   requests        request_id                -> EnrollmentResult (idempotent answers)
//   phones          plan_year/phone_key       -> PhoneUsageState (worker keys)
//
// Personal data (name, ID number, phone) is sealed under the worker's data key
// (libs/crypto) in the requests, the events and this state: Decide opens it
// through the key ring to apply the rules; Apply never needs it, so a replay
// reaches the same state with or without the keys (after an erasure too).
//   statements      platform/yyyymm/kind      -> StatementLine (approved only)
//   by_platform     platform/yyyymm/enrollment_id -> "" (listing index)
//   review          enrollment_id             -> "" (the review queue)
//   platforms       platform_id               -> Platform
//   deaths          worker_key                -> DeathState (from claims events)
#ifndef MUTUALAID_SERVICES_ENROLLMENT_ENROLLMENT_LOGIC_H_
#define MUTUALAID_SERVICES_ENROLLMENT_ENROLLMENT_LOGIC_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/plan/plan_data.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/v1/envelope.pb.h"
#include "mutualaid/v1/state.pb.h"

namespace mutualaid::enrollment {

inline constexpr char kEnrollments[] = "enrollments";
inline constexpr char kEnrollmentIds[] = "enrollment_ids";
inline constexpr char kRequests[] = "requests";
inline constexpr char kPhones[] = "phones";
inline constexpr char kStatements[] = "statements";
inline constexpr char kByPlatform[] = "by_platform";
inline constexpr char kReview[] = "review";
inline constexpr char kPlatforms[] = "platforms";
inline constexpr char kDeaths[] = "deaths";

std::string EnrollmentKey(const std::string& worker_key, int plan_year);
std::string EnrollmentIdFor(const std::string& worker_key, int plan_year);
// yyyymm of a date, the statements' and listings' month.
int64_t MonthOf(const v1::Date& date);

// The answer a platform gets for a request, from the event that decided it.
// `held` is the enrollment a retry was answered with.
v1::EnrollmentResult ResultOf(const v1::Envelope& event,
                              const std::optional<v1::HeldEnrollment>& held = std::nullopt);

class EnrollmentLogic final : public processor::Logic {
 public:
  explicit EnrollmentLogic(std::string producer, const plan::PlanBook& book = plan::BuiltInPlanBook())
      : producer_(std::move(producer)), book_(book) {}

  // The key ring Decide opens and seals personal data with. Without one
  // (replay, offline tools) only requests in clear can be decided, and the
  // events then carry the person in clear.
  void SetKeyRing(crypto::KeyRing* ring) { ring_ = ring; }

  std::vector<std::string> ColumnFamilies() const override;
  absl::Status Decide(const processor::State& state, const kafka::Message& request,
                      std::vector<kafka::Record>* events) override;
  absl::Status Apply(processor::State& state, const kafka::Message& event) override;

 private:
  absl::Status DecideEnrollment(const processor::State& state, const v1::Envelope& request,
                                std::vector<kafka::Record>* events);
  absl::Status DecideReview(const processor::State& state, const v1::Envelope& request,
                            std::vector<kafka::Record>* events);
  absl::Status DecidePhoneChange(const processor::State& state, const v1::Envelope& request,
                                 std::vector<kafka::Record>* events);
  absl::Status DecidePlatform(const processor::State& state, const v1::Envelope& request,
                              std::vector<kafka::Record>* events);
  v1::Envelope Answer(const v1::Envelope& request, const std::string& suffix) const;

  std::string producer_;
  const plan::PlanBook& book_;
  crypto::KeyRing* ring_ = nullptr;
};

}  // namespace mutualaid::enrollment

#endif  // MUTUALAID_SERVICES_ENROLLMENT_ENROLLMENT_LOGIC_H_

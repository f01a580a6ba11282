// The claims processor's input barrier (ProcessorOptions::input_barrier): a
// claim is decided only after the enrollment service has decided every
// enrollment request that reached the log before the claim was received.
//
// At filing, the gRPC edge records in ClaimFiled the high watermark X of
// mutualaid.enrollment.requests in the claim's partition p (the claim goes
// to partition p explicitly). Before deciding the claim, this barrier waits
// until the enrollment processor's consumer group has committed
// enrollment.requests[p] at or past X. The enrollment processor commits
// those offsets in the same Kafka transaction as the events that answer them,
// so from then on enrollment.events[p] holds every decision the claim may
// depend on; the barrier returns true and the processor reads that partition
// to its end before deciding.
//
// The highest offset verified per partition is cached (and the events read
// after it), so claims filed while the enrollment service keeps up need no
// query.
#ifndef MUTUALAID_SERVICES_CLAIMS_ENROLLMENT_BARRIER_H_
#define MUTUALAID_SERVICES_CLAIMS_ENROLLMENT_BARRIER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/record.h"

namespace mutualaid::claims {

struct BarrierOptions {
  kafka::ClientConfig client;
  std::string enrollment_group;           // "<prefix>mutualaid.enrollment"
  std::string enrollment_requests_topic;  // "<prefix>mutualaid.enrollment.requests"
  // How long one call waits before giving up (the processor puts the batch
  // back and asks again on its next poll).
  absl::Duration wait = absl::Seconds(5);
  absl::Duration poll_interval = absl::Milliseconds(50);
};

struct BarrierStats {
  int64_t passed_cached = 0;   // no query needed
  int64_t passed_queried = 0;  // the group's committed offset was read
  int64_t waited = 0;          // had to wait for the enrollment service
  int64_t timeouts = 0;
};

// Runs on the processor's thread only.
class EnrollmentBarrier {
 public:
  static absl::StatusOr<std::unique_ptr<EnrollmentBarrier>> Create(BarrierOptions options);

  // For ProcessorOptions::input_barrier. false: nothing to wait for, the view
  // is current; true: the enrollment service has caught up, read its events.
  // Unavailable after `wait` without the enrollment service catching up.
  absl::StatusOr<bool> Wait(const kafka::Message& request);

  const BarrierStats& stats() const { return stats_; }

 private:
  explicit EnrollmentBarrier(BarrierOptions options) : o_(std::move(options)) {}
  absl::StatusOr<int64_t> CommittedOffset(int32_t partition);

  BarrierOptions o_;
  std::unique_ptr<kafka::Consumer> consumer_;  // the enrollment group's offsets, never subscribed
  std::map<int32_t, int64_t> verified_;        // partition -> committed offset seen and read after
  BarrierStats stats_;
};

}  // namespace mutualaid::claims

#endif  // MUTUALAID_SERVICES_CLAIMS_ENROLLMENT_BARRIER_H_

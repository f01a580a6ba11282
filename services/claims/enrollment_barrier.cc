#include "services/claims/enrollment_barrier.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mutualaid/events/envelope.h"

namespace mutualaid::claims {

absl::StatusOr<std::unique_ptr<EnrollmentBarrier>> EnrollmentBarrier::Create(
    BarrierOptions options) {
  std::unique_ptr<EnrollmentBarrier> b(new EnrollmentBarrier(std::move(options)));
  kafka::ConsumerOptions co;
  co.client = b->o_.client;
  co.client.client_id = absl::StrCat(co.client.client_id, "-barrier");
  co.group_id = b->o_.enrollment_group;
  absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer = kafka::Consumer::Create(co);
  if (!consumer.ok()) return consumer.status();
  b->consumer_ = std::move(*consumer);
  return b;
}

absl::StatusOr<int64_t> EnrollmentBarrier::CommittedOffset(int32_t partition) {
  absl::StatusOr<std::vector<kafka::TopicPartitionOffset>> committed = consumer_->Committed(
      {kafka::TopicPartition{o_.enrollment_requests_topic, partition}}, o_.wait);
  if (!committed.ok()) return committed.status();
  if (committed->empty() || committed->front().offset < 0) return 0;  // nothing committed yet
  return committed->front().offset;
}

absl::StatusOr<bool> EnrollmentBarrier::Wait(const kafka::Message& request) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(request);
  // Not a filing (an investigation verdict, a payout event) or unreadable
  // (Decide dead-letters it): nothing to wait for.
  if (!env.ok() || !env->has_claim_filed()) return false;
  const int64_t needed = env->claim_filed().enrollment_requests_offset();
  if (needed <= 0) return false;
  const int32_t p = request.partition;
  if (auto it = verified_.find(p); it != verified_.end() && it->second >= needed) {
    ++stats_.passed_cached;
    return false;
  }
  // A timeout, not business time: the monotonic clock.
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(o_.wait);
  bool waited = false;
  while (true) {
    absl::StatusOr<int64_t> committed = CommittedOffset(p);
    if (committed.ok() && *committed >= needed) {
      verified_[p] = std::max(verified_[p], *committed);
      ++(waited ? stats_.waited : stats_.passed_queried);
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ++stats_.timeouts;
      if (!committed.ok()) return committed.status();
      return absl::UnavailableError(absl::StrCat(
          "the enrollment service has decided ", o_.enrollment_requests_topic, "[", p,
          "] up to offset ", *committed, ", the claim needs ", needed));
    }
    waited = true;
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(o_.poll_interval));
  }
}

}  // namespace mutualaid::claims

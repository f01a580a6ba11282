// The system's Kafka topics: the one place their names are spelled.
//
// Every topic is keyed by worker key, all have the same partition count (so
// they co-partition by worker), and all keep their records forever
// (retention.ms=-1): the topics are the audit trail. See
// shared/spec/architecture.md, "Topics".

#ifndef MUTUALAID_KAFKA_TOPICS_H_
#define MUTUALAID_KAFKA_TOPICS_H_

#include <array>

#include "absl/strings/string_view.h"

namespace mutualaid::kafka {

// Written by the enrollment gRPC API, read by the enrollment processor.
inline constexpr absl::string_view kEnrollmentRequests = "mutualaid.enrollment.requests";
// Written by the enrollment processor; read by claims, notification, ops.
inline constexpr absl::string_view kEnrollmentEvents = "mutualaid.enrollment.events";
// Written by the claims gRPC API, read by the claims processor.
inline constexpr absl::string_view kClaimsRequests = "mutualaid.claims.requests";
// Written by the claims processor; read by payout, notification, ops.
inline constexpr absl::string_view kClaimsEvents = "mutualaid.claims.events";
// Commands to the payout service from its gRPC edge (re-issue, bank result
// files), read by the payout processor.
inline constexpr absl::string_view kPayoutRequests = "mutualaid.payout.requests";
// Written by payout; read by claims (paid status), notification, ops.
inline constexpr absl::string_view kPayoutEvents = "mutualaid.payout.events";
// Commands to the notification service from its gRPC edge (resend), read by
// the notification processor.
inline constexpr absl::string_view kNotificationRequests = "mutualaid.notification.requests";
// Written by notification; read by ops.
inline constexpr absl::string_view kNotificationEvents = "mutualaid.notification.events";
// Records a processor could not decode or apply, parked with the reason in
// headers so the partition keeps moving and an operator can look at them.
inline constexpr absl::string_view kDeadLetter = "mutualaid.deadletter";

// Every topic above, in the order listed.
inline constexpr std::array<absl::string_view, 9> kAllTopics = {
    kEnrollmentRequests, kEnrollmentEvents,      kClaimsRequests,     kClaimsEvents,
    kPayoutRequests,     kPayoutEvents,          kNotificationRequests, kNotificationEvents,
    kDeadLetter,
};

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_TOPICS_H_

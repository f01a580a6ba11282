// Building and reading the envelope every record in every topic travels in.
#ifndef MUTUALAID_EVENTS_ENVELOPE_H_
#define MUTUALAID_EVENTS_ENVELOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/v1/envelope.pb.h"

namespace mutualaid::events {

inline constexpr uint32_t kSchemaVersion = 1;

// What every envelope says besides its body. A processor's events take
// `recorded_at` from the request they answer (stamped at the gRPC edge), never
// from a clock, so deciding again gives the same bytes.
struct EnvelopeHeader {
  std::string event_id;
  std::string worker_key;
  absl::CivilDay occurred_on;
  absl::Time recorded_at;
  std::string rule_set_version;
  std::string causation_id;
  std::string producer;
};

// An envelope with the header filled in; the caller sets the body.
v1::Envelope NewEnvelope(const EnvelopeHeader& header);

// The name of the envelope's body ("enrollment_accepted"), "" if none.
std::string BodyType(const v1::Envelope& envelope);

// The Kafka record for `envelope` (its `type` set from the body), keyed by the
// worker key.
kafka::Record ToRecord(std::string topic, v1::Envelope envelope);

// Reads a record's envelope. InvalidArgument (so a processor dead-letters or
// skips it) when the bytes are not an envelope, carry no body, or come from a
// newer schema.
absl::StatusOr<v1::Envelope> ParseEnvelope(const kafka::Message& message);

}  // namespace mutualaid::events

#endif  // MUTUALAID_EVENTS_ENVELOPE_H_

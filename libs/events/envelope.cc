#include "mutualaid/events/envelope.h"

#include "absl/strings/str_cat.h"
#include "mutualaid/events/convert.h"

namespace mutualaid::events {

v1::Envelope NewEnvelope(const EnvelopeHeader& h) {
  v1::Envelope e;
  e.set_event_id(h.event_id);
  e.set_worker_key(h.worker_key);
  *e.mutable_occurred_on() = ToProto(h.occurred_on);
  *e.mutable_recorded_at() = ToProto(h.recorded_at);
  e.set_rule_set_version(h.rule_set_version);
  e.set_causation_id(h.causation_id);
  e.set_producer(h.producer);
  e.set_schema_version(kSchemaVersion);
  return e;
}

std::string BodyType(const v1::Envelope& envelope) {
  const google::protobuf::Reflection* r = envelope.GetReflection();
  const google::protobuf::OneofDescriptor* body = envelope.GetDescriptor()->FindOneofByName("body");
  const google::protobuf::FieldDescriptor* f = r->GetOneofFieldDescriptor(envelope, body);
  return f == nullptr ? "" : f->name();
}

kafka::Record ToRecord(std::string topic, v1::Envelope envelope) {
  envelope.set_type(BodyType(envelope));
  kafka::Record record;
  record.topic = std::move(topic);
  record.key = envelope.worker_key();
  record.value = envelope.SerializeAsString();
  return record;
}

absl::StatusOr<v1::Envelope> ParseEnvelope(const kafka::Message& message) {
  v1::Envelope e;
  if (!e.ParseFromString(message.value)) {
    return absl::InvalidArgumentError("not a mutualaid.v1.Envelope");
  }
  if (e.schema_version() > kSchemaVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema version ", e.schema_version(), " is newer than ", kSchemaVersion));
  }
  if (e.body_case() == v1::Envelope::BODY_NOT_SET) {
    return absl::InvalidArgumentError("envelope without a body (unknown type?)");
  }
  return e;
}

}  // namespace mutualaid::events

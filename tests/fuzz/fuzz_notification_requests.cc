// Fuzzes every request of the notification service's gRPC API: the first byte
// picks the message, the rest is parsed as it (libprotobuf), then the edge's
// check runs (services/notification/notification_api.h: CheckResend) and an
// accepted resend goes, as the SmsCommand the edge appends to
// mutualaid.notification.requests, through NotificationLogic::Decide over an
// empty state (fuzz_support.h): the message is unknown there, so Decide must
// dead-letter it (InvalidArgument naming the message id), never fail otherwise.
#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "mutualaid/v1/notification.pb.h"
#include "services/notification/notification_api.h"
#include "services/notification/notification_logic.h"
#include "tests/fuzz/fuzz_support.h"

namespace mutualaid::fuzz {
namespace {

constexpr char kTopic[] = "mutualaid.notification.requests";

notification::NotificationLogic& Logic() {
  static auto* logic = [] {
    auto* l = new notification::NotificationLogic(notification::LogicOptions{}, nullptr);
    UseKeyRing(*l);
    return l;
  }();
  return *logic;
}
const store::StateStore& Store() {
  static auto* s = new EmptyStore(Logic());
  return s->get();
}

void Resend(const v1::ResendMessageRequest& req) {
  const absl::Status checked = notification::CheckResend(req);
  if (!checked.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(checked), checked.ToString());
    FUZZ_CHECK(NamesField(checked.message()), checked.message());
    return;
  }
  v1::SmsCommand command;
  command.set_request_id("sms-resend/fuzz");
  command.set_worker_key("wk-fuzz");
  *command.mutable_recorded_at() = events::ToProto(Now());
  *command.mutable_recorded_on() = events::ToProto(Today());
  command.set_caller("operations:ops");
  command.mutable_resend()->set_message_id(req.message_id());
  kafka::Message m;
  m.topic = kTopic;
  m.key = command.worker_key();
  m.value = command.SerializeAsString();
  Decided d = DecideChecked(Logic(), Store(), m);
  FUZZ_CHECK(absl::IsInvalidArgument(d.status) && d.events.empty(), d.status.ToString());
  FUZZ_CHECK(NamesField(d.status.message()), d.status.message());
}

template <typename M>
bool Parse(M& m, const uint8_t* data, size_t size) {
  if (!m.ParseFromArray(data, static_cast<int>(size))) return false;
  CheckRoundTrip(m);
  return true;
}

}  // namespace
}  // namespace mutualaid::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mutualaid;
  using namespace mutualaid::fuzz;
  if (size < 1 || size > 65536) return 0;
  const uint8_t which = data[0] % 2;
  ++data;
  --size;
  if (which == 0) {
    v1::ResendMessageRequest m;
    if (Parse(m, data, size)) Resend(m);
  } else {  // the read: no pure checks beyond the wire format
    v1::ListMessagesRequest m;
    Parse(m, data, size);
  }
  return 0;
}

// Fuzzes every request of the enrollment service's gRPC API (EnrollmentService
// and AdminService's RegisterPlatform): the first byte picks the message, the
// rest is parsed as it (libprotobuf), then the edge's checks run
// (services/enrollment/enrollment_api.h) and an accepted command goes, as the
// envelope the edge appends to mutualaid.enrollment.requests, through
// EnrollmentLogic::Decide over an empty state (fuzz_support.h).
//
// Invariants: a message round-trips through the wire format; a record refused
// at the edge is REJECTED naming the field and why; a refused command's error
// is InvalidArgument naming the field; every record that reaches the rules is
// answered by exactly one event whose result has a status, and a rejection
// carries a reason code and the field at fault.
#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/v1/admin.pb.h"
#include "mutualaid/v1/enrollment.pb.h"
#include "services/enrollment/enrollment_api.h"
#include "services/enrollment/enrollment_logic.h"
#include "tests/fuzz/fuzz_support.h"

namespace mutualaid::fuzz {
namespace {

constexpr char kTopic[] = "mutualaid.enrollment.requests";
constexpr char kPlatform[] = "P01";

enrollment::EnrollmentLogic& Logic() {
  static auto* logic = [] {
    auto* l = new enrollment::EnrollmentLogic("enrollment-fuzz");
    UseKeyRing(*l);
    return l;
  }();
  return *logic;
}
const store::StateStore& Store() {
  static auto* s = new EmptyStore(Logic());
  return s->get();
}

void CheckRefusal(const absl::Status& status) {
  if (status.ok()) return;
  FUZZ_CHECK(absl::IsInvalidArgument(status), status.ToString());
  FUZZ_CHECK(NamesField(status.message()) || absl::StartsWith(status.message(), "platform: "),
             status.message());
}

Decided Decide(v1::Envelope env) {
  return DecideChecked(Logic(), Store(), AsMessage(events::ToRecord(kTopic, std::move(env))));
}

// Name, ID number and phone leave the edge only sealed (with the phone's key
// for the shared-phone check), where the edge seals them.
template <typename Req>
void SealAsTheEdge(Req* req, const std::string& worker_key, const v1::EnrollmentRecord& record) {
  if constexpr (requires { req->set_phone_key(""); }) {
    v1::PersonalData person;
    person.set_name(record.name());
    person.set_id_number(record.id_number());
    person.set_phone(record.phone());
    absl::StatusOr<v1::SealedPersonalData> sealed = crypto::SealPerson(Ring(), worker_key, person);
    FUZZ_CHECK(sealed.ok(), sealed.status().ToString());
    *req->mutable_sealed_person() = *std::move(sealed);
    req->mutable_record()->clear_name();
    req->mutable_record()->clear_id_number();
    req->mutable_record()->clear_phone();
    if (absl::StatusOr<std::string> phone = plan::NormalizePhone(record.phone()); phone.ok()) {
      req->set_phone_key(Keyer().KeyFor(absl::StrCat("phone:", *phone)));
    }
  }
}

// One streamed or submitted record.
void Record(const v1::EnrollmentRecord& record) {
  if (std::optional<v1::EnrollmentResult> refused = enrollment::RefusalOf(record)) {
    FUZZ_CHECK(refused->status() == v1::ENROLLMENT_STATUS_REJECTED, "refusal status");
    FUZZ_CHECK(!refused->decision().field().empty(), "refusal field");
    FUZZ_CHECK(!refused->decision().detail().empty(), "refusal detail");
    FUZZ_CHECK(refused->platform_record_id() == record.platform_record_id(), "refusal id");
    return;
  }
  // What EnrollmentApi::Prepare appends.
  const std::string request_id = absl::StrCat(kPlatform, "/", record.platform_record_id());
  v1::Envelope env = RequestEnvelope("enrollment-request/fuzz", Keyer().KeyFor(record.id_number()),
                                     request_id, "enrollment");
  v1::EnrollmentRequested* req = env.mutable_enrollment_requested();
  req->set_request_id(request_id);
  req->set_platform_id(kPlatform);
  *req->mutable_record() = record;
  SealAsTheEdge(req, env.worker_key(), record);
  *req->mutable_application_date() = events::ToProto(Today());
  *req->mutable_received_at() = events::ToProto(Now());
  req->set_caller("platform:P01");
  Decided d = Decide(std::move(env));
  FUZZ_CHECK(d.status.ok(), d.status.ToString());
  FUZZ_CHECK(d.events.size() == 1, "one answer per record");
  v1::Envelope answer;
  FUZZ_CHECK(answer.ParseFromString(d.events[0].value), "answer");
  FUZZ_CHECK(answer.causation_id() == request_id, answer.causation_id());
  const v1::EnrollmentResult result = enrollment::ResultOf(answer);
  FUZZ_CHECK(result.status() != v1::ENROLLMENT_STATUS_UNSPECIFIED, answer.type());
  if (result.status() == v1::ENROLLMENT_STATUS_REJECTED) {
    FUZZ_CHECK(result.decision().reasons_size() > 0, "a rejection has a reason code");
    FUZZ_CHECK(!result.decision().field().empty(), "a rejection names the field");
  }
}

void PhoneChange(const v1::ChangeContactPhoneRequest& req) {
  const absl::Status checked = enrollment::CheckPhoneChange(req);
  CheckRefusal(checked);
  if (!checked.ok()) return;
  v1::Envelope env = RequestEnvelope("enrollment-request/fuzz", Keyer().KeyFor(req.id_number()),
                                     "phone/fuzz", "enrollment");
  v1::ContactPhoneChangeRequested* x = env.mutable_contact_phone_change_requested();
  x->set_platform_id(kPlatform);
  x->set_enrollment_id(enrollment::EnrollmentIdFor(env.worker_key(), req.plan_year()));
  x->set_new_phone(req.new_phone());
  x->set_caller("platform:P01");
  *x->mutable_requested_at() = events::ToProto(Now());
  Decide(std::move(env));
}

void Review(const v1::DecideReviewRequest& req) {
  const absl::Status checked = enrollment::CheckReviewDecision(req);
  CheckRefusal(checked);
  if (!checked.ok()) return;
  v1::Envelope env = RequestEnvelope("enrollment-request/fuzz", "wk", "review/fuzz", "enrollment");
  v1::EnrollmentReviewRequested* x = env.mutable_enrollment_review_requested();
  x->set_enrollment_id(req.enrollment_id());
  x->set_approve(req.approve());
  x->set_reason(req.reason());
  x->set_reviewer("reviewer:li");
  *x->mutable_decided_at() = events::ToProto(Now());
  *x->mutable_decided_on() = events::ToProto(Today());
  Decide(std::move(env));
}

void Platform(const v1::RegisterPlatformRequest& req) {
  const absl::Status checked = enrollment::CheckPlatform(req);
  CheckRefusal(checked);
  if (!checked.ok()) return;
  v1::Envelope env = RequestEnvelope("enrollment-request/fuzz",
                                     absl::StrCat("platform:", req.platform().platform_id()),
                                     "platform/fuzz", "enrollment");
  *env.mutable_platform_registration_requested()->mutable_platform() = req.platform();
  env.mutable_platform_registration_requested()->set_caller("operations:ops");
  *env.mutable_platform_registration_requested()->mutable_requested_at() = events::ToProto(Now());
  Decide(std::move(env));
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
  const uint8_t which = data[0] % 9;
  ++data;
  --size;
  switch (which) {
    case 0: {  // StreamEnrollments
      v1::EnrollmentRecord m;
      if (Parse(m, data, size)) Record(m);
      break;
    }
    case 1: {  // SubmitEnrollments (the edge refuses more than 1000 records)
      v1::SubmitEnrollmentsRequest m;
      if (!Parse(m, data, size) || m.records_size() > 1000) break;
      for (int i = 0; i < m.records_size() && i < 8; ++i) Record(m.records(i));
      break;
    }
    case 2: {  // ChangeContactPhone
      v1::ChangeContactPhoneRequest m;
      if (Parse(m, data, size)) PhoneChange(m);
      break;
    }
    case 3: {  // DecideReview
      v1::DecideReviewRequest m;
      if (Parse(m, data, size)) Review(m);
      break;
    }
    case 4: {  // AdminService.RegisterPlatform
      v1::RegisterPlatformRequest m;
      if (Parse(m, data, size)) Platform(m);
      break;
    }
    // The reads: no command, no pure checks beyond the wire format.
    case 5: {
      v1::GetEnrollmentRequest m;
      Parse(m, data, size);
      break;
    }
    case 6: {
      v1::ListEnrollmentsRequest m;
      Parse(m, data, size);
      break;
    }
    case 7: {
      v1::GetMonthlyStatementRequest m;
      Parse(m, data, size);
      break;
    }
    case 8: {
      v1::ListReviewQueueRequest m;
      Parse(m, data, size);
      break;
    }
  }
  return 0;
}

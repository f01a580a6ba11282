#include "mutualaid/server/admin.h"

#include "absl/strings/str_cat.h"
#include "mutualaid/server/server.h"

namespace mutualaid::server {
namespace {

// Authenticates the call and checks its role, returning the gRPC error.
#define MA_AUTHORIZE(principal, rpc, ...)                                            \
  absl::StatusOr<Principal> principal##_or = CheckCall(auth_, *ctx, rpc, {__VA_ARGS__}); \
  if (!principal##_or.ok()) return ToGrpcStatus(principal##_or.status());            \
  const Principal& principal = *principal##_or;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(absl::ToUnixSeconds(t)))));
  return ts;
}

}  // namespace

AdminServiceImpl::AdminServiceImpl(const TokenAuthenticator& auth, const Clock& clock,
                                   SimulatedClock* simulated, const store::StateStore& store)
    : auth_(auth), clock_(clock), simulated_(simulated), store_(store) {}

void AdminServiceImpl::set_platform_handlers(RegisterPlatformFn register_fn,
                                             ListPlatformsFn list_fn) {
  register_fn_ = std::move(register_fn);
  list_fn_ = std::move(list_fn);
}

grpc::Status AdminServiceImpl::RegisterPlatform(grpc::ServerContext* ctx,
                                                const v1::RegisterPlatformRequest* req,
                                                v1::RegisterPlatformResponse* resp) {
  MA_AUTHORIZE(principal, "RegisterPlatform", Role::kOperations);
  if (!register_fn_) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "platforms are registered at the enrollment service");
  }
  return register_fn_(principal, *req, resp);
}

grpc::Status AdminServiceImpl::ListPlatforms(grpc::ServerContext* ctx,
                                             const v1::ListPlatformsRequest*,
                                             v1::ListPlatformsResponse* resp) {
  MA_AUTHORIZE(principal, "ListPlatforms", Role::kOperations, Role::kReviewer, Role::kHall,
               Role::kFinance);
  if (!list_fn_) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "platforms are listed by the enrollment service");
  }
  return list_fn_(principal, resp);
}

void AdminServiceImpl::FillClock(v1::ClockState* resp) const {
  absl::Time now = clock_.Now();
  *resp->mutable_now() = ToTimestamp(now);
  absl::CivilDay today = ShanghaiDay(now);
  resp->mutable_today()->set_year(static_cast<int32_t>(today.year()));
  resp->mutable_today()->set_month(today.month());
  resp->mutable_today()->set_day(today.day());
  resp->set_simulated(simulated_ != nullptr);
}

grpc::Status AdminServiceImpl::GetClock(grpc::ServerContext* ctx, const v1::GetClockRequest*,
                                        v1::ClockState* resp) {
  MA_AUTHORIZE(principal, "GetClock");
  (void)principal;
  FillClock(resp);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::SetClock(grpc::ServerContext* ctx, const v1::SetClockRequest* req,
                                        v1::ClockState* resp) {
  MA_AUTHORIZE(principal, "SetClock", Role::kOperations);
  (void)principal;
  if (simulated_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "this service runs on the system clock");
  }
  if (req->has_today()) {
    const v1::Date& d = req->today();
    absl::CivilDay day(d.year(), d.month(), d.day());
    if (day.year() != d.year() || day.month() != d.month() || day.day() != d.day()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "today: not a calendar date");
    }
    simulated_->SetDay(day);
  } else if (req->has_now()) {
    simulated_->Set(absl::FromUnixSeconds(req->now().seconds()) +
                    absl::Nanoseconds(req->now().nanos()));
  } else {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "now or today: one is required");
  }
  FillClock(resp);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::AdvanceClock(grpc::ServerContext* ctx,
                                            const v1::AdvanceClockRequest* req,
                                            v1::ClockState* resp) {
  MA_AUTHORIZE(principal, "AdvanceClock", Role::kOperations);
  (void)principal;
  if (simulated_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "this service runs on the system clock");
  }
  if (req->seconds() < 0 || req->days() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the clock only moves forward");
  }
  simulated_->Advance(absl::Seconds(req->seconds()) + absl::Hours(24) * req->days());
  FillClock(resp);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetStateDigest(grpc::ServerContext* ctx,
                                              const v1::GetStateDigestRequest*,
                                              v1::GetStateDigestResponse* resp) {
  MA_AUTHORIZE(principal, "GetStateDigest", Role::kOperations);
  (void)principal;
  absl::StatusOr<std::string> digest = store_.Digest();
  if (!digest.ok()) return ToGrpcStatus(digest.status());
  resp->set_digest(*digest);
  absl::StatusOr<std::vector<store::PartitionOffset>> offsets = store_.AppliedOffsets();
  if (!offsets.ok()) return ToGrpcStatus(offsets.status());
  for (const auto& o : *offsets) {
    v1::PartitionOffset* p = resp->add_applied();
    p->set_topic(o.topic);
    p->set_partition(o.partition);
    p->set_next_offset(o.next_offset);
  }
  return grpc::Status::OK;
}

}  // namespace mutualaid::server

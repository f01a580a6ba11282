// The AdminService every service serves: the clock, the state digest, and
// (for the enrollment service) the platform registry through hooks.
#ifndef MUTUALAID_SERVER_ADMIN_H_
#define MUTUALAID_SERVER_ADMIN_H_

#include <functional>

#include "mutualaid/core/clock.h"
#include "mutualaid/server/auth.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/admin.grpc.pb.h"

namespace mutualaid::server {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  using RegisterPlatformFn = std::function<grpc::Status(
      const Principal&, const v1::RegisterPlatformRequest&, v1::RegisterPlatformResponse*)>;
  using ListPlatformsFn = std::function<grpc::Status(const Principal&, v1::ListPlatformsResponse*)>;

  // `simulated` is the same object as `clock` when the service runs a
  // simulated clock, nullptr otherwise (Set/Advance are then refused).
  AdminServiceImpl(const TokenAuthenticator& auth, const Clock& clock, SimulatedClock* simulated,
                   const store::StateStore& store);

  void set_platform_handlers(RegisterPlatformFn register_fn, ListPlatformsFn list_fn);

  grpc::Status RegisterPlatform(grpc::ServerContext* ctx, const v1::RegisterPlatformRequest* req,
                                v1::RegisterPlatformResponse* resp) override;
  grpc::Status ListPlatforms(grpc::ServerContext* ctx, const v1::ListPlatformsRequest* req,
                             v1::ListPlatformsResponse* resp) override;
  grpc::Status GetClock(grpc::ServerContext* ctx, const v1::GetClockRequest* req,
                        v1::ClockState* resp) override;
  grpc::Status SetClock(grpc::ServerContext* ctx, const v1::SetClockRequest* req,
                        v1::ClockState* resp) override;
  grpc::Status AdvanceClock(grpc::ServerContext* ctx, const v1::AdvanceClockRequest* req,
                            v1::ClockState* resp) override;
  grpc::Status GetStateDigest(grpc::ServerContext* ctx, const v1::GetStateDigestRequest* req,
                              v1::GetStateDigestResponse* resp) override;

 private:
  void FillClock(v1::ClockState* resp) const;

  const TokenAuthenticator& auth_;
  const Clock& clock_;
  SimulatedClock* simulated_;
  const store::StateStore& store_;
  RegisterPlatformFn register_fn_;
  ListPlatformsFn list_fn_;
};

}  // namespace mutualaid::server

#endif  // MUTUALAID_SERVER_ADMIN_H_

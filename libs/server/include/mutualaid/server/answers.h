// How a gRPC handler waits for the processor's answer to the request it
// appended: it expects the request id before appending, the processor's
// on_committed hook delivers each committed event by its causation id, and the
// handler waits with a deadline. Several handlers may expect one id (a retry
// racing the original): each gets the answer.
#ifndef MUTUALAID_SERVER_ANSWERS_H_
#define MUTUALAID_SERVER_ANSWERS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mutualaid/v1/envelope.pb.h"

namespace mutualaid::server {

class Answers {
 public:
  class Ticket {
   public:
    // Waits until `count` answers arrived or `timeout` passed
    // (DeadlineExceeded; the request may still be decided later).
    absl::StatusOr<std::vector<v1::Envelope>> Wait(absl::Duration timeout);

   private:
    friend class Answers;
    absl::Mutex mu_;
    size_t count_ = 1;
    std::vector<v1::Envelope> got_ ABSL_GUARDED_BY(mu_);
    std::function<void(const v1::Envelope&)> callback_;
  };

  // Expects `count` answers (events with causation id `request_id`).
  std::shared_ptr<Ticket> Expect(const std::string& request_id, size_t count = 1);
  // Expects one answer, handed to `callback` on the delivering thread instead
  // of a Wait (for streams). The callback must be quick.
  void ExpectCallback(const std::string& request_id,
                      std::function<void(const v1::Envelope&)> callback);
  // Stops expecting (after a timeout or a failed append).
  void Forget(const std::string& request_id, const std::shared_ptr<Ticket>& ticket);
  void Forget(const std::string& request_id);

  // Hands `event` to whoever expects its causation id.
  void Deliver(const v1::Envelope& event);

  size_t pending() const;

 private:
  mutable absl::Mutex mu_;
  std::multimap<std::string, std::shared_ptr<Ticket>> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mutualaid::server

#endif  // MUTUALAID_SERVER_ANSWERS_H_

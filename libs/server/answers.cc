#include "mutualaid/server/answers.h"

#include "absl/strings/str_cat.h"

namespace mutualaid::server {

absl::StatusOr<std::vector<v1::Envelope>> Answers::Ticket::Wait(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return got_.size() >= count_; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("no decision within ", absl::FormatDuration(timeout),
                     "; the request is recorded and will be decided: retry to read its result"));
  }
  return got_;
}

std::shared_ptr<Answers::Ticket> Answers::Expect(const std::string& request_id, size_t count) {
  auto t = std::make_shared<Ticket>();
  t->count_ = count;
  absl::MutexLock l(&mu_);
  waiting_.emplace(request_id, t);
  return t;
}

void Answers::ExpectCallback(const std::string& request_id,
                             std::function<void(const v1::Envelope&)> callback) {
  auto t = std::make_shared<Ticket>();
  t->callback_ = std::move(callback);
  absl::MutexLock l(&mu_);
  waiting_.emplace(request_id, t);
}

void Answers::Forget(const std::string& request_id, const std::shared_ptr<Ticket>& ticket) {
  absl::MutexLock l(&mu_);
  auto [begin, end] = waiting_.equal_range(request_id);
  for (auto it = begin; it != end; ++it) {
    if (it->second == ticket) {
      waiting_.erase(it);
      return;
    }
  }
}

void Answers::Forget(const std::string& request_id) {
  absl::MutexLock l(&mu_);
  waiting_.erase(request_id);
}

void Answers::Deliver(const v1::Envelope& event) {
  std::vector<std::shared_ptr<Ticket>> callbacks;
  {
    absl::MutexLock l(&mu_);
    auto [begin, end] = waiting_.equal_range(event.causation_id());
    for (auto it = begin; it != end;) {
      std::shared_ptr<Ticket>& t = it->second;
      if (t->callback_) {
        callbacks.push_back(t);
        it = waiting_.erase(it);
        continue;
      }
      bool complete;
      {
        absl::MutexLock tl(&t->mu_);
        t->got_.push_back(event);
        complete = t->got_.size() >= t->count_;
      }
      it = complete ? waiting_.erase(it) : std::next(it);
    }
  }
  for (const auto& t : callbacks) t->callback_(event);
}

size_t Answers::pending() const {
  absl::MutexLock l(&mu_);
  return waiting_.size();
}

}  // namespace mutualaid::server

// fakesms — an SMS gateway for tests and demos (see README.md): accepts each
// message_id once, reports delivery by query and by callback, persists every
// message it accepted.
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/fake_gateway.h"
#include "mutualaid/http/client.h"
#include "mutualaid/http/server.h"
#include "mutualaid/json/json.h"

namespace mutualaid::fakesms {
namespace {

struct Message {
  std::string message_id;
  std::string gateway_id;
  std::string phone;
  std::string text;
  std::string callback_url;
  std::string status;  // ACCEPTED | DELIVERED | FAILED
  std::string reason;  // "" unless FAILED
  int64_t queries = 0;  // not persisted
};

// Mainland mobile numbers: 1[3-9] and 9 more digits, optionally after +86.
bool ValidPhone(std::string_view phone) {
  if (phone.substr(0, 3) == "+86") phone.remove_prefix(3);
  if (phone.size() != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9') return false;
  for (char c : phone) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

json::Value SubmitJson(const Message& m) {
  return json::Value::Object(
      {{"message_id", m.message_id}, {"gateway_id", m.gateway_id}, {"status", "ACCEPTED"}});
}

json::Value StatusJson(const Message& m) {
  return json::Value::Object({{"message_id", m.message_id},
                              {"gateway_id", m.gateway_id},
                              {"status", m.status},
                              {"reason", m.reason}});
}

json::Value ListJson(const Message& m) {
  return json::Value::Object({{"message_id", m.message_id},
                              {"gateway_id", m.gateway_id},
                              {"phone", m.phone},
                              {"text", m.text},
                              {"status", m.status},
                              {"reason", m.reason}});
}

json::Value JournalLine(const Message& m) {
  return json::Value::Object({{"message_id", m.message_id},
                              {"gateway_id", m.gateway_id},
                              {"phone", m.phone},
                              {"text", m.text},
                              {"callback_url", m.callback_url},
                              {"status", m.status},
                              {"reason", m.reason}});
}

// Token bucket on the monotonic clock (elapsed time, not business time).
class RateLimit {
 public:
  explicit RateLimit(int64_t per_second)
      : rate_(static_cast<double>(per_second)), tokens_(rate_), last_(Now()) {}
  bool Take() {
    if (rate_ <= 0) return true;
    absl::MutexLock lock(&mu_);
    const auto now = Now();
    tokens_ = std::min(rate_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  static std::chrono::steady_clock::time_point Now() { return std::chrono::steady_clock::now(); }
  const double rate_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_ ABSL_GUARDED_BY(mu_);
};

// Delivery reports POSTed to callback URLs by one background thread, each
// tried up to 5 times with growing pauses. Not persisted: a report pending
// when the fake dies is lost, as with a real gateway; queries still answer.
class Callbacks {
 public:
  Callbacks() : thread_([this] { Run(); }) {}
  ~Callbacks() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }
  void Post(std::string url, std::string body, int copies) {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < copies; ++i) queue_.push_back({url, body});
  }
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }

 private:
  void Run() {
    while (true) {
      std::pair<std::string, std::string> job;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Callbacks* self) { return self->stopping_ || !self->queue_.empty(); }, this));
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      absl::StatusOr<http::Url> url = http::ParseUrl(job.first);
      if (!url.ok()) continue;
      http::Client client(url->host, url->port, {.connect_timeout = absl::Seconds(1),
                                                 .timeout = absl::Seconds(5),
                                                 .keep_alive = false});
      absl::Duration pause = absl::Milliseconds(100);
      for (int attempt = 0; attempt < 5; ++attempt) {
        http::ClientRequest request;
        request.method = "POST";
        request.target = url->target;
        request.headers = {{"Content-Type", "application/json"}};
        request.body = job.second;
        absl::StatusOr<http::Response> r = client.Send(request);
        if (r.ok() && r->status / 100 == 2) break;
        absl::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), pause)) return;
        pause *= 2;
      }
    }
  }

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::pair<std::string, std::string>> queue_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

struct Options {
  int64_t rate = 0;
  int64_t deliver_after_queries = 0;
  std::set<std::string, std::less<>> fail_phones;
  bool duplicate_callbacks = false;
};

class Gateway {
 public:
  static absl::StatusOr<std::unique_ptr<Gateway>> Open(const std::string& log, Options options) {
    std::unique_ptr<Gateway> g(new Gateway(std::move(options)));
    absl::MutexLock lock(&g->mu_);
    Gateway* raw = g.get();
    absl::StatusOr<std::unique_ptr<fakes::Journal>> journal = fakes::Journal::Open(
        log, [raw](const json::Value& line) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return raw->Replay(line);
        });
    if (!journal.ok()) return journal.status();
    g->journal_ = *std::move(journal);
    return g;
  }

  void Stop() { callbacks_.Stop(); }

  http::Response Submit(const http::Request& r) {
    if (!r.path_rest.empty()) return fakes::JsonError(404, "NOT_FOUND", "POST /v1/messages");
    absl::StatusOr<json::Value> body = json::Parse(r.body);
    if (!body.ok()) {
      return fakes::JsonError(400, "INVALID_REQUEST",
                              absl::StrCat("body: not JSON: ", std::string(body.status().message())));
    }
    if (!body->is_object()) return fakes::JsonError(400, "INVALID_REQUEST", "body: not an object");
    Message m;
    for (auto [field, out] : {std::pair{"message_id", &m.message_id}, std::pair{"phone", &m.phone},
                              std::pair{"text", &m.text}}) {
      absl::StatusOr<std::string> s = json::GetString(*body, field);
      if (!s.ok()) return fakes::JsonError(400, "INVALID_REQUEST", std::string(s.status().message()));
      *out = *s;
    }
    absl::StatusOr<std::string> cb = json::GetOptionalString(*body, "callback_url");
    if (!cb.ok()) return fakes::JsonError(400, "INVALID_REQUEST", std::string(cb.status().message()));
    m.callback_url = *cb;
    if (m.message_id.empty() || m.message_id.size() > 128) {
      return fakes::JsonError(400, "INVALID_REQUEST", "message_id: 1..128 bytes");
    }
    if (!ValidPhone(m.phone)) {
      return fakes::JsonError(400, "INVALID_PHONE",
                              absl::StrCat("phone: not a mainland mobile number: ", m.phone));
    }
    if (m.text.empty()) return fakes::JsonError(400, "INVALID_REQUEST", "text: empty");
    if (m.text.size() > 2000) return fakes::JsonError(400, "TEXT_TOO_LONG", "text: over 2000 bytes");
    if (!m.callback_url.empty() && !http::ParseUrl(m.callback_url).ok()) {
      return fakes::JsonError(400, "INVALID_REQUEST", "callback_url: not an http:// URL");
    }

    absl::MutexLock lock(&mu_);
    if (auto it = messages_.find(m.message_id); it != messages_.end()) {
      const Message& first = it->second;
      if (first.phone != m.phone || first.text != m.text) {
        return fakes::JsonError(409, "IDEMPOTENCY_CONFLICT",
                                absl::StrCat("message_id reused with a different ",
                                             first.phone != m.phone ? "phone" : "text"));
      }
      return fakes::JsonOk(SubmitJson(first));  // never a second message
    }
    if (!rate_.Take()) {
      http::Response response = fakes::JsonError(429, "RATE_LIMITED", "too many messages per second");
      response.headers.push_back({"Retry-After", "1"});
      return response;
    }
    m.gateway_id = absl::StrFormat("SM%010d", next_id_);
    m.status = "ACCEPTED";
    if (absl::Status s = Record(m); !s.ok()) {
      return fakes::JsonError(500, "INTERNAL", std::string(s.message()));
    }
    ++next_id_;
    if (options_.deliver_after_queries == 0) {
      if (absl::Status s = Finish(messages_[m.message_id]); !s.ok()) {
        return fakes::JsonError(500, "INTERNAL", std::string(s.message()));
      }
    }
    return fakes::JsonOk(SubmitJson(m));
  }

  http::Response Query(const http::Request& r) {
    absl::StatusOr<std::string> id = http::PercentDecode(r.path_rest.substr(1));
    if (!id.ok() || id->empty()) {
      return fakes::JsonError(400, "INVALID_REQUEST", "GET /v1/messages/{message_id}");
    }
    absl::MutexLock lock(&mu_);
    auto it = messages_.find(*id);
    if (it == messages_.end()) {
      return fakes::JsonError(404, "NOT_FOUND", absl::StrCat("no message with id ", *id));
    }
    Message& m = it->second;
    if (m.status == "ACCEPTED") {
      if (m.queries >= options_.deliver_after_queries) {
        if (absl::Status s = Finish(m); !s.ok()) {
          return fakes::JsonError(500, "INTERNAL", std::string(s.message()));
        }
      } else {
        ++m.queries;
      }
    }
    return fakes::JsonOk(StatusJson(m));
  }

  http::Response List(const http::Request& r) {
    if (!r.path_rest.empty()) return fakes::JsonError(404, "NOT_FOUND", r.path);
    const std::optional<std::string> phone = r.QueryParam("phone");
    absl::MutexLock lock(&mu_);
    json::Value out = json::Value::Array();
    for (const std::string& id : order_) {
      const Message& m = messages_.find(id)->second;
      if (phone.has_value() && m.phone != *phone) continue;
      out.Append(ListJson(m));
    }
    return fakes::JsonOk(out);
  }

 private:
  explicit Gateway(Options options) : options_(std::move(options)), rate_(options_.rate) {}

  absl::Status Replay(const json::Value& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Message m;
    for (auto [field, out] :
         {std::pair{"message_id", &m.message_id}, std::pair{"gateway_id", &m.gateway_id},
          std::pair{"phone", &m.phone}, std::pair{"text", &m.text},
          std::pair{"callback_url", &m.callback_url}, std::pair{"status", &m.status},
          std::pair{"reason", &m.reason}}) {
      absl::StatusOr<std::string> s = json::GetString(line, field);
      if (!s.ok()) return s.status();
      *out = *s;
    }
    if (!messages_.contains(m.message_id)) {
      order_.push_back(m.message_id);
      ++next_id_;
    }
    messages_[m.message_id] = std::move(m);
    return absl::OkStatus();
  }

  absl::Status Record(const Message& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (absl::Status s = journal_->Append(JournalLine(m)); !s.ok()) return s;
    if (!messages_.contains(m.message_id)) order_.push_back(m.message_id);
    messages_[m.message_id] = m;
    return absl::OkStatus();
  }

  // The final delivery status: recorded, then reported to the callback URL.
  absl::Status Finish(Message& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Message done = m;
    if (options_.fail_phones.contains(m.phone)) {
      done.status = "FAILED";
      done.reason = "UNREACHABLE";
    } else {
      done.status = "DELIVERED";
    }
    if (absl::Status s = Record(done); !s.ok()) return s;
    if (!done.callback_url.empty()) {
      callbacks_.Post(done.callback_url,
                      json::Write(json::Value::Object({{"message_id", done.message_id},
                                                       {"status", done.status},
                                                       {"reason", done.reason}})),
                      options_.duplicate_callbacks ? 2 : 1);
    }
    return absl::OkStatus();
  }

  const Options options_;
  RateLimit rate_;
  Callbacks callbacks_;
  absl::Mutex mu_;
  std::unique_ptr<fakes::Journal> journal_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Message, std::less<>> messages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

int Usage(const fakes::FlagParser& flags, std::string_view error) {
  if (!error.empty()) std::cerr << "fakesms: " << error << "\n";
  std::cerr << "usage: fakesms [flags]\nflags:\n" << flags.Help();
  return 2;
}

int Main(int argc, char** argv) {
  fakes::BlockStopSignals();
  fakes::FlagParser flags;
  fakes::CommonOptions common;
  fakes::RegisterCommonFlags(flags, common);
  std::string log;
  std::string fail_phones;
  Options options;
  flags.String("log", &log, "JSON-lines file of every message (fsync'd; reloaded at start)");
  flags.Int("rate", &options.rate, "N: accept at most N new messages per second (0: no limit)");
  flags.Int("deliver-after-queries", &options.deliver_after_queries,
            "N: ACCEPTED for N status queries, final on the next (0: final at once)");
  flags.String("fail-phones", &fail_phones, "comma-separated phones whose messages end FAILED");
  flags.Bool("duplicate-callbacks", &options.duplicate_callbacks, "send each delivery report twice");
  absl::StatusOr<std::vector<std::string>> args = flags.Parse(argc - 1, argv + 1);
  if (!args.ok()) return Usage(flags, std::string(args.status().message()));
  if (!args->empty()) return Usage(flags, "unexpected arguments");
  if (absl::Status s = fakes::CheckCommonOptions(common); !s.ok()) {
    return Usage(flags, std::string(s.message()));
  }
  if (options.rate < 0 || options.deliver_after_queries < 0) {
    return Usage(flags, "--rate, --deliver-after-queries: must be >= 0");
  }
  const std::vector<std::string> phones = absl::StrSplit(fail_phones, ',', absl::SkipEmpty());
  options.fail_phones.insert(phones.begin(), phones.end());

  absl::StatusOr<std::unique_ptr<Gateway>> gateway = Gateway::Open(log, std::move(options));
  if (!gateway.ok()) {
    std::cerr << "fakesms: " << gateway.status().message() << "\n";
    return 1;
  }
  Gateway& g = **gateway;
  http::Server server({.host = common.host,
                       .port = static_cast<int>(common.port),
                       .threads = static_cast<int>(common.threads)});
  fakes::Faults faults(common);
  server.Handle("POST", "/v1/messages",
                faults.Wrap(true, [&g](const http::Request& r) { return g.Submit(r); }));
  server.Handle("GET", "/v1/messages", faults.Wrap(false, [&g](const http::Request& r) {
    return r.path_rest.empty() ? g.List(r) : g.Query(r);
  }));
  if (absl::Status s = server.Start(); !s.ok()) {
    std::cerr << "fakesms: " << s.message() << "\n";
    return 1;
  }
  fakes::ServeUntilSignalled(server, faults, common.host);
  g.Stop();
  return 0;
}

}  // namespace
}  // namespace mutualaid::fakesms

int main(int argc, char** argv) { return mutualaid::fakesms::Main(argc, argv); }

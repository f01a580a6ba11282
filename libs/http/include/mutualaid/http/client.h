// A blocking HTTP/1.1 client over POSIX sockets with connect and request
// deadlines, for the bank and SMS gateway adapters and for tests.
//
// What a failure means matters more than the failure: a payout or an SMS must
// never be repeated blindly. So every error says whether the request could
// have reached the server:
//
//   Unavailable       the request was NOT sent (connection refused, host
//                     unreachable, name not resolved): retrying is safe.
//   DeadlineExceeded  the connect or the exchange timed out: outcome unknown.
//   Unknown           the connection broke after (part of) the request was
//                     sent, or the answer was malformed: outcome unknown.
//
// On an unknown outcome, ask the gateway for the status (by idempotency key)
// before any retry. OutcomeUnknown() tells the two apart.
//
// Non-2xx answers are not errors: Send returns the Response with its status.
#ifndef MUTUALAID_HTTP_CLIENT_H_
#define MUTUALAID_HTTP_CLIENT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mutualaid/http/message.h"

namespace mutualaid::http {

// True for DeadlineExceeded and Unknown: the request may have been carried out.
bool OutcomeUnknown(const absl::Status& status);

struct ClientOptions {
  absl::Duration connect_timeout = absl::Seconds(2);
  // From starting to send the request to having read the whole response.
  absl::Duration timeout = absl::Seconds(10);
  size_t max_response_bytes = 64 * 1024 * 1024;
  // Reuse one connection between requests (HTTP/1.1 keep-alive). A kept
  // connection idle for longer than `max_idle`, or that the server has closed,
  // is replaced by a fresh one before the request is sent.
  bool keep_alive = true;
  absl::Duration max_idle = absl::Seconds(5);
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, already percent-encoded
  Headers headers;           // Host, Content-Length, Connection are added
  std::string body;
  std::optional<absl::Duration> timeout;  // overrides ClientOptions::timeout
};

// Thread-safe: requests from several threads are sent one at a time over the
// one connection. Use a Client per thread for parallel requests.
class Client {
 public:
  Client(std::string host, int port, ClientOptions options = {});
  // From "http://host:port" (any path in the URL is ignored).
  static absl::StatusOr<Client> ForUrl(std::string_view url, ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  absl::StatusOr<Response> Send(const ClientRequest& request);
  absl::StatusOr<Response> Get(std::string_view target);
  absl::StatusOr<Response> Post(std::string_view target, std::string body,
                                std::string_view content_type = "application/json");

  // Closes the kept connection, if any.
  void Close();

  const std::string& host() const;
  int port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mutualaid::http

#endif  // MUTUALAID_HTTP_CLIENT_H_

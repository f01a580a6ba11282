// Private to libs/http: sockets with deadlines and the HTTP/1.1 head parser.
#ifndef MUTUALAID_HTTP_WIRE_H_
#define MUTUALAID_HTTP_WIRE_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mutualaid/http/message.h"

namespace mutualaid::http::internal {

// Deadlines for socket I/O are on the monotonic clock: they measure elapsed
// time, not business time, so they do not go through mutualaid::Clock.
using Deadline = std::chrono::steady_clock::time_point;
Deadline DeadlineAfter(absl::Duration d);

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset();

 private:
  int fd_ = -1;
};

bool SetNonBlocking(int fd);

enum class Wait { kReady, kTimeout, kInterrupted, kError };
// Waits until `fd` has `events` (POLLIN/POLLOUT), the deadline passes, or
// `interrupt_fd` (if >= 0) becomes readable.
Wait WaitFor(int fd, short events, Deadline deadline, int interrupt_fd = -1);

enum class Io { kOk, kClosed, kTimeout, kInterrupted, kError };
// Appends what is available (at most `max` bytes) to `buffer`, waiting for at
// least one byte. kClosed on end of stream.
Io ReadSome(int fd, std::string& buffer, size_t max, Deadline deadline, int interrupt_fd = -1);
// Writes all of `data`. `*written` counts the bytes sent, even on failure.
Io WriteAll(int fd, std::string_view data, Deadline deadline, size_t* written,
            int interrupt_fd = -1);

// Where the head (start line + headers) ends in `buffer`: the offset just past
// the blank line, or npos if it has not arrived yet. Accepts CRLF or bare LF.
size_t FindHeadEnd(std::string_view buffer);

struct Head {
  std::string first[3];  // request: method, target, version; response: version, code, reason
  Headers headers;
};
// Parses a head found by FindHeadEnd. InvalidArgument on malformed input.
absl::Status ParseHead(std::string_view head, bool is_response, Head& out);

// Content-Length: nullopt-like -1 if absent, -2 if invalid or conflicting.
long long ContentLength(const Headers& headers);

// True if a Connection header lists `token` (case-insensitive).
bool ConnectionHas(const Headers& headers, std::string_view token);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

std::string FormatPeer(const void* sockaddr, unsigned len);

}  // namespace mutualaid::http::internal

#endif  // MUTUALAID_HTTP_WIRE_H_

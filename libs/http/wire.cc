#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mutualaid::http::internal {

Deadline DeadlineAfter(absl::Duration d) {
  if (d >= absl::Hours(24 * 365)) d = absl::Hours(24 * 365);  // "forever", without overflow
  return std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(d);
}

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

Wait WaitFor(int fd, short events, Deadline deadline, int interrupt_fd) {
  while (true) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return Wait::kTimeout;
    // Round up so a sub-millisecond remainder does not spin.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd fds[2] = {{fd, events, 0}, {interrupt_fd, POLLIN, 0}};
    const int n = ::poll(fds, interrupt_fd >= 0 ? 2 : 1,
                         static_cast<int>(std::min<long long>(ms, 60'000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Wait::kError;
    }
    if (n == 0) continue;  // re-check the deadline
    if (interrupt_fd >= 0 && fds[1].revents != 0) return Wait::kInterrupted;
    if (fds[0].revents & POLLNVAL) return Wait::kError;
    // POLLERR/POLLHUP: let the read or write report what happened.
    return Wait::kReady;
  }
}

Io ReadSome(int fd, std::string& buffer, size_t max, Deadline deadline, int interrupt_fd) {
  char chunk[16 * 1024];
  while (true) {
    const ssize_t n = ::recv(fd, chunk, std::min(max, sizeof chunk), 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      return Io::kOk;
    }
    if (n == 0) return Io::kClosed;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return errno == ECONNRESET ? Io::kClosed : Io::kError;
    }
    switch (WaitFor(fd, POLLIN, deadline, interrupt_fd)) {
      case Wait::kReady:
        continue;
      case Wait::kTimeout:
        return Io::kTimeout;
      case Wait::kInterrupted:
        return Io::kInterrupted;
      case Wait::kError:
        return Io::kError;
    }
  }
}

Io WriteAll(int fd, std::string_view data, Deadline deadline, size_t* written, int interrupt_fd) {
  *written = 0;
  while (*written < data.size()) {
    const ssize_t n =
        ::send(fd, data.data() + *written, data.size() - *written, MSG_NOSIGNAL);
    if (n >= 0) {
      *written += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return (errno == EPIPE || errno == ECONNRESET) ? Io::kClosed : Io::kError;
    }
    switch (WaitFor(fd, POLLOUT, deadline, interrupt_fd)) {
      case Wait::kReady:
        continue;
      case Wait::kTimeout:
        return Io::kTimeout;
      case Wait::kInterrupted:
        return Io::kInterrupted;
      case Wait::kError:
        return Io::kError;
    }
  }
  return Io::kOk;
}

size_t FindHeadEnd(std::string_view buffer) {
  for (size_t i = buffer.find('\n'); i != std::string_view::npos; i = buffer.find('\n', i + 1)) {
    // "\n\n" or "\n\r\n"
    if (i + 1 < buffer.size() && buffer[i + 1] == '\n') return i + 2;
    if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

absl::Status ParseHead(std::string_view head, bool is_response, Head& out) {
  // Split into lines, dropping the final blank line.
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    size_t nl = head.find('\n');
    if (nl == std::string_view::npos) nl = head.size();
    std::string_view line = head.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    head.remove_prefix(std::min(nl + 1, head.size()));
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return absl::InvalidArgumentError("empty head");

  // Start line: three parts separated by single spaces (a response's reason
  // may contain spaces or be empty).
  const std::string_view start = lines[0];
  const size_t sp1 = start.find(' ');
  if (sp1 == std::string_view::npos) return absl::InvalidArgumentError("malformed start line");
  const size_t sp2 = start.find(' ', sp1 + 1);
  out.first[0] = std::string(start.substr(0, sp1));
  if (sp2 == std::string_view::npos) {
    if (!is_response) return absl::InvalidArgumentError("malformed request line");
    out.first[1] = std::string(start.substr(sp1 + 1));
    out.first[2].clear();
  } else {
    out.first[1] = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
    out.first[2] = std::string(start.substr(sp2 + 1));
  }
  if (!is_response) {
    if (out.first[0].empty() ||
        !std::all_of(out.first[0].begin(), out.first[0].end(), IsTokenChar)) {
      return absl::InvalidArgumentError("malformed method");
    }
    if (out.first[1].empty() || out.first[2].find(' ') != std::string::npos) {
      return absl::InvalidArgumentError("malformed request line");
    }
  }

  out.headers.clear();
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') {
      return absl::InvalidArgumentError("obsolete header line folding");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError("malformed header line");
    }
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return absl::InvalidArgumentError("malformed header name");
    }
    const std::string_view value = Trim(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return absl::InvalidArgumentError("control character in a header value");
      }
    }
    out.headers.push_back(Header{std::string(name), std::string(value)});
  }
  return absl::OkStatus();
}

long long ContentLength(const Headers& headers) {
  long long length = -1;
  for (const Header& h : headers) {
    if (!EqualsIgnoreCase(h.name, "Content-Length")) continue;
    if (h.value.empty() || h.value.size() > 15) return -2;
    long long n = 0;
    for (char c : h.value) {
      if (c < '0' || c > '9') return -2;
      n = n * 10 + (c - '0');
    }
    if (length >= 0 && length != n) return -2;
    length = n;
  }
  return length;
}

bool ConnectionHas(const Headers& headers, std::string_view token) {
  for (const Header& h : headers) {
    if (!EqualsIgnoreCase(h.name, "Connection")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view item = Trim(rest.substr(0, comma));
      if (EqualsIgnoreCase(item, token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string FormatPeer(const void* address, unsigned len) {
  const auto* sa = static_cast<const sockaddr*>(address);
  char text[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto* in = static_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return absl::StrCat(text, ":", ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto* in6 = static_cast<const sockaddr_in6*>(address);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return absl::StrCat("[", text, "]:", ntohs(in6->sin6_port));
  }
  return "?";
}

}  // namespace mutualaid::http::internal

#include "mutualaid/http/client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "wire.h"

namespace mutualaid::http {

using internal::Deadline;
using internal::DeadlineAfter;
using internal::Fd;
using internal::Io;

bool OutcomeUnknown(const absl::Status& status) {
  return absl::IsDeadlineExceeded(status) || absl::IsUnknown(status);
}

namespace {

// Connects to one of `host`'s addresses before `deadline`.
absl::StatusOr<Fd> Connect(const std::string& host, int port, Deadline deadline,
                           absl::Duration timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", ::gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError(absl::StrCat("no address for ", host));
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) continue;
    int err = 0;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        err = errno;
      } else {
        const internal::Wait w = internal::WaitFor(fd.get(), POLLOUT, deadline);
        if (w == internal::Wait::kTimeout) {
          last = absl::DeadlineExceededError(absl::StrCat("connect to ", host, ":", port,
                                                          " timed out after ",
                                                          absl::FormatDuration(timeout)));
          continue;
        }
        socklen_t len = sizeof err;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
    }
    if (err != 0) {
      last = absl::UnavailableError(
          absl::StrCat("connect to ", host, ":", port, ": ", std::strerror(err)));
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::freeaddrinfo(found);
    return fd;
  }
  ::freeaddrinfo(found);
  return last;
}

absl::Status ReadFailure(Io io, std::string_view what) {
  switch (io) {
    case Io::kTimeout:
      return absl::DeadlineExceededError(
          absl::StrCat("timed out waiting for ", std::string(what), ": outcome unknown"));
    case Io::kClosed:
      return absl::UnknownError(absl::StrCat("connection closed before ", std::string(what),
                                             ": outcome unknown"));
    default:
      return absl::UnknownError(absl::StrCat("read failed (", std::strerror(errno), ") before ",
                                             std::string(what), ": outcome unknown"));
  }
}

}  // namespace

class Client::Impl {
 public:
  Impl(std::string host, int port, ClientOptions options)
      : host_(std::move(host)), port_(port), options_(options) {}

  absl::StatusOr<Response> Send(const ClientRequest& request) {
    absl::MutexLock lock(&mu_);
    const absl::Duration timeout = request.timeout.value_or(options_.timeout);

    // Reuse the kept connection only if it is recent and the server has not
    // closed it: a request must never be lost to a stale connection.
    if (conn_.valid()) {
      pollfd p{conn_.get(), POLLIN, 0};
      const bool stale = ::poll(&p, 1, 0) != 0 ||
                         std::chrono::steady_clock::now() > idle_since_ +
                                                                absl::ToChronoNanoseconds(
                                                                    options_.max_idle);
      if (stale) conn_.Reset();
    }
    if (!conn_.valid()) {
      absl::StatusOr<Fd> fd = Connect(host_, port_, DeadlineAfter(options_.connect_timeout),
                                      options_.connect_timeout);
      if (!fd.ok()) return fd.status();
      conn_ = *std::move(fd);
    }

    absl::StatusOr<Response> response = Exchange(request, DeadlineAfter(timeout));
    if (!response.ok()) conn_.Reset();
    idle_since_ = std::chrono::steady_clock::now();
    return response;
  }

  void Close() {
    absl::MutexLock lock(&mu_);
    conn_.Reset();
  }

  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  absl::StatusOr<Response> Exchange(const ClientRequest& request, Deadline deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string out = absl::StrCat(request.method, " ", request.target, " HTTP/1.1\r\n");
    bool has_host = false;
    for (const Header& h : request.headers) {
      if (internal::EqualsIgnoreCase(h.name, "Content-Length") ||
          internal::EqualsIgnoreCase(h.name, "Connection")) {
        continue;
      }
      has_host = has_host || internal::EqualsIgnoreCase(h.name, "Host");
      absl::StrAppend(&out, h.name, ": ", h.value, "\r\n");
    }
    if (!has_host) {
      const bool v6 = host_.find(':') != std::string::npos;
      absl::StrAppend(&out, "Host: ", v6 ? "[" : "", host_, v6 ? "]" : "", ":", port_, "\r\n");
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      absl::StrAppend(&out, "Content-Length: ", request.body.size(), "\r\n");
    }
    absl::StrAppend(&out, "Connection: ", options_.keep_alive ? "keep-alive" : "close",
                    "\r\n\r\n");
    out += request.body;

    size_t written = 0;
    const Io io = internal::WriteAll(conn_.get(), out, deadline, &written);
    if (io != Io::kOk) {
      if (written == 0 && io != Io::kTimeout) {
        return absl::UnavailableError(
            absl::StrCat("could not send the request to ", host_, ":", port_));
      }
      if (io == Io::kTimeout) {
        return absl::DeadlineExceededError("timed out sending the request: outcome unknown");
      }
      return absl::UnknownError("connection lost while sending the request: outcome unknown");
    }
    return ReadResponse(request.method == "HEAD", deadline);
  }

  absl::StatusOr<Response> ReadResponse(bool head_request, Deadline deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string buffer;
    const size_t limit = options_.max_response_bytes;
    while (true) {  // skips 1xx interim answers
      size_t head_end;
      while ((head_end = internal::FindHeadEnd(buffer)) == std::string::npos) {
        if (buffer.size() > 64 * 1024) return absl::UnknownError("response head too large");
        const Io io = internal::ReadSome(conn_.get(), buffer, 64 * 1024, deadline);
        if (io != Io::kOk) return ReadFailure(io, "the response");
      }
      internal::Head head;
      if (absl::Status s = internal::ParseHead(std::string_view(buffer).substr(0, head_end),
                                               /*is_response=*/true, head);
          !s.ok()) {
        return absl::UnknownError(absl::StrCat("malformed response: ", s.message()));
      }
      const std::string& version = head.first[0];
      const std::string& code = head.first[1];
      if (version.substr(0, 7) != "HTTP/1." || code.size() != 3 ||
          !std::all_of(code.begin(), code.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return absl::UnknownError("malformed response status line");
      }
      Response response;
      response.status = std::stoi(code);
      response.headers = std::move(head.headers);
      buffer.erase(0, head_end);
      if (response.status >= 100 && response.status < 200) continue;

      bool reusable = options_.keep_alive && version == "HTTP/1.1" &&
                      !internal::ConnectionHas(response.headers, "close");
      const bool no_body = head_request || response.status == 204 || response.status == 304;
      const std::optional<std::string_view> te = response.header("Transfer-Encoding");
      if (no_body) {
        // nothing to read
      } else if (te.has_value() && internal::EqualsIgnoreCase(*te, "chunked")) {
        absl::Status s = ReadChunked(buffer, response.body, deadline);
        if (!s.ok()) return s;
      } else if (te.has_value()) {
        return absl::UnknownError(absl::StrCat("unsupported Transfer-Encoding ", std::string(*te)));
      } else {
        const long long length = internal::ContentLength(response.headers);
        if (length == -2) return absl::UnknownError("malformed response Content-Length");
        if (length >= 0) {
          if (static_cast<size_t>(length) > limit) {
            return absl::UnknownError("response body too large");
          }
          while (buffer.size() < static_cast<size_t>(length)) {
            const Io io = internal::ReadSome(conn_.get(), buffer,
                                             static_cast<size_t>(length) - buffer.size(), deadline);
            if (io != Io::kOk) return ReadFailure(io, "the end of the response body");
          }
          response.body = buffer.substr(0, static_cast<size_t>(length));
          buffer.erase(0, static_cast<size_t>(length));
        } else {
          // No length: the body runs to the end of the connection.
          reusable = false;
          while (true) {
            if (buffer.size() > limit) return absl::UnknownError("response body too large");
            const Io io = internal::ReadSome(conn_.get(), buffer, 64 * 1024, deadline);
            if (io == Io::kClosed) break;
            if (io != Io::kOk) return ReadFailure(io, "the end of the response body");
          }
          response.body = std::move(buffer);
          buffer.clear();
        }
      }
      // Unexpected extra bytes mean we lost track of the stream.
      if (!reusable || !buffer.empty()) conn_.Reset();
      return response;
    }
  }

  absl::Status ReadChunked(std::string& buffer, std::string& body, Deadline deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto fill_line = [&]() -> absl::StatusOr<std::string> {
      size_t nl;
      while ((nl = buffer.find('\n')) == std::string::npos) {
        if (buffer.size() > 4096) return absl::UnknownError("malformed chunk header");
        const Io io = internal::ReadSome(conn_.get(), buffer, 4096, deadline);
        if (io != Io::kOk) return ReadFailure(io, "the next chunk");
      }
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    };
    while (true) {
      absl::StatusOr<std::string> line = fill_line();
      if (!line.ok()) return line.status();
      const std::string size_text = line->substr(0, line->find(';'));
      size_t size = 0;
      if (size_text.empty() || size_text.size() > 12) {
        return absl::UnknownError("malformed chunk size");
      }
      for (char ch : size_text) {
        int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                           : -1;
        if (d < 0) return absl::UnknownError("malformed chunk size");
        size = size * 16 + static_cast<size_t>(d);
      }
      if (size == 0) {
        // Trailers, up to the blank line.
        while (true) {
          absl::StatusOr<std::string> trailer = fill_line();
          if (!trailer.ok()) return trailer.status();
          if (trailer->empty()) return absl::OkStatus();
        }
      }
      if (body.size() + size > options_.max_response_bytes) {
        return absl::UnknownError("response body too large");
      }
      while (buffer.size() < size + 2) {
        const Io io = internal::ReadSome(conn_.get(), buffer, size + 2 - buffer.size(), deadline);
        if (io != Io::kOk) return ReadFailure(io, "the end of a chunk");
      }
      body.append(buffer, 0, size);
      if (buffer.compare(size, 2, "\r\n") != 0) return absl::UnknownError("malformed chunk end");
      buffer.erase(0, size + 2);
    }
  }

  const std::string host_;
  const int port_;
  const ClientOptions options_;
  absl::Mutex mu_;
  Fd conn_ ABSL_GUARDED_BY(mu_);
  Deadline idle_since_ ABSL_GUARDED_BY(mu_);
};

Client::Client(std::string host, int port, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(host), port, options)) {}

absl::StatusOr<Client> Client::ForUrl(std::string_view url, ClientOptions options) {
  absl::StatusOr<Url> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  return Client(parsed->host, parsed->port, options);
}

Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

absl::StatusOr<Response> Client::Send(const ClientRequest& request) {
  return impl_->Send(request);
}

absl::StatusOr<Response> Client::Get(std::string_view target) {
  ClientRequest request;
  request.method = "GET";
  request.target = std::string(target);
  return impl_->Send(request);
}

absl::StatusOr<Response> Client::Post(std::string_view target, std::string body,
                                      std::string_view content_type) {
  ClientRequest request;
  request.method = "POST";
  request.target = std::string(target);
  request.headers.push_back({"Content-Type", std::string(content_type)});
  request.body = std::move(body);
  return impl_->Send(request);
}

void Client::Close() { impl_->Close(); }
const std::string& Client::host() const { return impl_->host(); }
int Client::port() const { return impl_->port(); }

}  // namespace mutualaid::http

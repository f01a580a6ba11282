#include "mutualaid/http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "wire.h"

namespace mutualaid::http {

using internal::Deadline;
using internal::DeadlineAfter;
using internal::Fd;
using internal::Io;

namespace {

struct Connection {
  Fd fd;
  std::string peer;
  std::string buffer;     // bytes read but not yet consumed (pipelining)
  Deadline idle_deadline;  // while parked in the poller
};

struct Route {
  std::string method;
  std::string prefix;
  Handler handler;
};

bool PrefixMatches(std::string_view path, std::string_view prefix) {
  if (path.substr(0, prefix.size()) != prefix) return false;
  if (path.size() == prefix.size() || prefix.empty() || prefix.back() == '/') return true;
  return path[prefix.size()] == '/';
}

std::string SerializeHead(const Response& r, bool keep_alive) {
  std::string out = absl::StrCat("HTTP/1.1 ", r.status, " ", std::string(StatusText(r.status)),
                                 "\r\n");
  for (const Header& h : r.headers) {
    if (internal::EqualsIgnoreCase(h.name, "Content-Length") ||
        internal::EqualsIgnoreCase(h.name, "Connection") ||
        internal::EqualsIgnoreCase(h.name, "Transfer-Encoding")) {
      continue;  // ours to set
    }
    absl::StrAppend(&out, h.name, ": ", h.value, "\r\n");
  }
  absl::StrAppend(&out, "Content-Length: ", r.body.size(), "\r\n");
  absl::StrAppend(&out, "Connection: ", keep_alive ? "keep-alive" : "close", "\r\n\r\n");
  return out;
}

Response ErrorResponse(int status, std::string_view why) {
  Response r = Response::Text(status, absl::StrCat(std::string(why), "\n"));
  r.close = true;
  return r;
}

}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}

  ~Impl() { Stop(); }

  void Handle(std::string_view method, std::string_view prefix, Handler handler) {
    routes_.push_back(Route{std::string(method), std::string(prefix), std::move(handler)});
  }

  absl::Status Start() {
    if (started_) return absl::FailedPreconditionError("server already started");
    if (options_.threads < 1) return absl::InvalidArgumentError("threads must be >= 1");
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port_text = std::to_string(options_.port);
    const int rc = ::getaddrinfo(options_.host.empty() ? nullptr : options_.host.c_str(),
                                 port_text.c_str(), &hints, &found);
    if (rc != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot resolve ", options_.host, ": ", ::gai_strerror(rc)));
    }
    std::string last_error = "no address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
      Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
      if (!fd.valid()) continue;
      const int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 128) != 0) {
        last_error = std::strerror(errno);
        continue;
      }
      listen_fd_ = std::move(fd);
      break;
    }
    ::freeaddrinfo(found);
    if (!listen_fd_.valid()) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.host, ":", options_.port, ": ", last_error));
    }
    internal::SetNonBlocking(listen_fd_.get());
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

    int stop_pipe[2];
    int wake_pipe[2];
    if (::pipe2(stop_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
    stop_read_ = Fd(stop_pipe[0]);
    stop_write_ = Fd(stop_pipe[1]);
    if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return absl::InternalError("pipe failed");
    wake_read_ = Fd(wake_pipe[0]);
    wake_write_ = Fd(wake_pipe[1]);

    started_ = true;
    poller_ = std::thread([this] { PollLoop(); });
    for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { WorkLoop(); });
    return absl::OkStatus();
  }

  int port() const { return port_; }
  std::string address() const { return absl::StrCat(options_.host, ":", port_); }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (!started_ || stopping_) return;
      stopping_ = true;
    }
    // The stop pipe is never drained: every wait that includes it returns.
    const char byte = 1;
    (void)!::write(stop_write_.get(), &byte, 1);
    if (poller_.joinable()) poller_.join();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    absl::MutexLock lock(&mu_);
    ready_.clear();
    returned_.clear();
    listen_fd_.Reset();
  }

 private:
  bool Stopping() {
    absl::MutexLock lock(&mu_);
    return stopping_;
  }

  // Accepts connections and parks idle keep-alive ones; hands readable ones to
  // the workers.
  void PollLoop() {
    std::vector<std::unique_ptr<Connection>> idle;
    std::vector<pollfd> fds;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) break;
        for (auto& c : returned_) {
          c->idle_deadline = DeadlineAfter(options_.idle_timeout);
          idle.push_back(std::move(c));
        }
        returned_.clear();
      }
      // Close connections idle for too long.
      const auto now = std::chrono::steady_clock::now();
      std::erase_if(idle, [&](const std::unique_ptr<Connection>& c) {
        if (c->idle_deadline > now) return false;
        CloseConnection();
        return true;
      });
      Deadline next = now + std::chrono::seconds(60);
      for (const auto& c : idle) next = std::min(next, c->idle_deadline);

      fds.clear();
      fds.push_back({stop_read_.get(), POLLIN, 0});
      fds.push_back({wake_read_.get(), POLLIN, 0});
      fds.push_back({listen_fd_.get(), POLLIN, 0});
      for (const auto& c : idle) fds.push_back({c->fd.get(), POLLIN, 0});
      const auto ms =
          std::chrono::ceil<std::chrono::milliseconds>(next - std::chrono::steady_clock::now())
              .count();
      const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(ms, 0)));
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      if (fds[0].revents != 0) break;
      if (fds[1].revents != 0) {
        char drain[256];
        while (::read(wake_read_.get(), drain, sizeof drain) > 0) {
        }
      }
      // Idle connections with something to read (or closed by the peer).
      std::vector<std::unique_ptr<Connection>> ready;
      for (size_t i = idle.size(); i-- > 0;) {
        if (fds[3 + i].revents != 0) {
          ready.push_back(std::move(idle[i]));
          idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      // New connections wait with the idle ones until their first bytes arrive.
      if (fds[2].revents != 0) AcceptAll(idle);
      if (!ready.empty()) {
        absl::MutexLock lock(&mu_);
        for (auto& c : ready) ready_.push_back(std::move(c));
      }
    }
    for (size_t i = 0; i < idle.size(); ++i) CloseConnection();
    idle.clear();
  }

  void AcceptAll(std::vector<std::unique_ptr<Connection>>& idle) {
    while (true) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      Fd fd(::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                      SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd.valid()) return;  // EAGAIN, or a transient error (EMFILE…): try next round
      {
        absl::MutexLock lock(&mu_);
        if (open_connections_ >= options_.max_connections) continue;  // closed by Fd
        ++open_connections_;
      }
      const int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Connection>();
      c->fd = std::move(fd);
      c->peer = internal::FormatPeer(&peer, len);
      c->idle_deadline = DeadlineAfter(options_.idle_timeout);
      idle.push_back(std::move(c));
    }
  }

  void CloseConnection() {
    absl::MutexLock lock(&mu_);
    --open_connections_;
  }

  void WorkLoop() {
    while (true) {
      std::unique_ptr<Connection> c;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Impl* self) { return self->stopping_ || !self->ready_.empty(); }, this));
        if (stopping_) return;
        c = std::move(ready_.front());
        ready_.pop_front();
      }
      if (Serve(*c)) {
        absl::MutexLock lock(&mu_);
        if (!stopping_) {
          // Pipelined bytes already buffered: straight back to a worker.
          if (!c->buffer.empty()) {
            ready_.push_back(std::move(c));
          } else {
            returned_.push_back(std::move(c));
            const char byte = 1;
            (void)!::write(wake_write_.get(), &byte, 1);
          }
          continue;
        }
      }
      c.reset();
      CloseConnection();
    }
  }

  // Reads and answers one request. True to keep the connection.
  bool Serve(Connection& c) {
    const Deadline read_deadline = DeadlineAfter(options_.read_timeout);
    const int stop = stop_read_.get();
    size_t head_end;
    while ((head_end = internal::FindHeadEnd(c.buffer)) == std::string::npos) {
      if (c.buffer.size() > options_.max_header_bytes) {
        return Answer(c, ErrorResponse(431, "request header too large"), false);
      }
      const Io io = internal::ReadSome(c.fd.get(), c.buffer, options_.max_header_bytes + 1,
                                       read_deadline, stop);
      if (io == Io::kTimeout && !c.buffer.empty()) {
        return Answer(c, ErrorResponse(408, "request timeout"), false);
      }
      if (io != Io::kOk) return false;
      // Tolerate blank lines before a request (RFC 9112 §2.2).
      while (!c.buffer.empty() && (c.buffer.front() == '\r' || c.buffer.front() == '\n')) {
        c.buffer.erase(0, 1);
      }
    }
    if (head_end > options_.max_header_bytes) {
      return Answer(c, ErrorResponse(431, "request header too large"), false);
    }
    internal::Head head;
    if (absl::Status s = internal::ParseHead(std::string_view(c.buffer).substr(0, head_end),
                                             /*is_response=*/false, head);
        !s.ok()) {
      return Answer(c, ErrorResponse(400, std::string(s.message())), false);
    }
    Request request;
    request.method = std::move(head.first[0]);
    request.target = std::move(head.first[1]);
    const std::string& version = head.first[2];
    request.headers = std::move(head.headers);
    request.peer = c.peer;
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
      return Answer(c, ErrorResponse(505, "only HTTP/1.0 and HTTP/1.1"), false);
    }
    if (request.target.front() != '/') {
      return Answer(c, ErrorResponse(400, "request target must be a path"), false);
    }
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);

    if (request.header("Transfer-Encoding").has_value()) {
      return Answer(c, ErrorResponse(501, "chunked request bodies are not supported"), false);
    }
    const long long length = internal::ContentLength(request.headers);
    if (length == -2) return Answer(c, ErrorResponse(400, "invalid Content-Length"), false);
    const size_t body_size = length < 0 ? 0 : static_cast<size_t>(length);
    if (body_size > options_.max_body_bytes) {
      return Answer(c, ErrorResponse(413, "request body too large"), false);
    }
    bool keep_alive = version == "HTTP/1.1"
                          ? !internal::ConnectionHas(request.headers, "close")
                          : internal::ConnectionHas(request.headers, "keep-alive");

    if (c.buffer.size() < head_end + body_size) {
      const std::optional<std::string_view> expect = request.header("Expect");
      if (expect.has_value() && internal::EqualsIgnoreCase(*expect, "100-continue")) {
        size_t written = 0;
        if (internal::WriteAll(c.fd.get(), "HTTP/1.1 100 Continue\r\n\r\n",
                               DeadlineAfter(options_.write_timeout), &written, stop) != Io::kOk) {
          return false;
        }
      }
    }
    while (c.buffer.size() < head_end + body_size) {
      const Io io = internal::ReadSome(c.fd.get(), c.buffer, head_end + body_size - c.buffer.size(),
                                       read_deadline, stop);
      if (io == Io::kTimeout) return Answer(c, ErrorResponse(408, "request timeout"), false);
      if (io != Io::kOk) return false;
    }
    request.body = c.buffer.substr(head_end, body_size);
    c.buffer.erase(0, head_end + body_size);

    Response response = Dispatch(request);
    if (response.drop) return false;
    if (response.close) keep_alive = false;
    return Answer(c, response, keep_alive);
  }

  Response Dispatch(Request& request) {
    const Route* best = nullptr;
    std::string allowed;
    for (const Route& route : routes_) {
      if (!PrefixMatches(request.path, route.prefix)) continue;
      if (!route.method.empty() && route.method != request.method) {
        if (best == nullptr || route.prefix.size() > best->prefix.size()) {
          if (!allowed.empty()) allowed += ", ";
          allowed += route.method;
        }
        continue;
      }
      if (best == nullptr || route.prefix.size() > best->prefix.size()) best = &route;
    }
    if (best == nullptr) {
      if (!allowed.empty()) {
        Response r = Response::Text(405, "method not allowed\n");
        r.headers.push_back({"Allow", allowed});
        return r;
      }
      return Response::Text(404, "not found\n");
    }
    request.path_rest = request.path.substr(best->prefix.size());
    try {
      return best->handler(request);
    } catch (const std::exception& e) {
      return ErrorResponse(500, absl::StrCat("handler failed: ", e.what()));
    } catch (...) {
      return ErrorResponse(500, "handler failed");
    }
  }

  // Sends `response`; true if the connection stays open.
  bool Answer(Connection& c, const Response& response, bool keep_alive) {
    if (Stopping()) keep_alive = false;
    std::string out = SerializeHead(response, keep_alive);
    out += response.body;
    size_t written = 0;
    const Io io = internal::WriteAll(c.fd.get(), out, DeadlineAfter(options_.write_timeout),
                                     &written, stop_read_.get());
    if (io != Io::kOk) return false;
    if (!keep_alive) {
      // Half-close and let the client read everything before the socket goes.
      ::shutdown(c.fd.get(), SHUT_WR);
    }
    return keep_alive;
  }

  const ServerOptions options_;
  std::vector<Route> routes_;  // fixed once started
  Fd listen_fd_;
  int port_ = 0;
  Fd stop_read_, stop_write_;  // written once by Stop, never drained
  Fd wake_read_, wake_write_;  // wakes the poller when a connection is returned
  std::thread poller_;
  std::vector<std::thread> workers_;
  bool started_ = false;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int open_connections_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::unique_ptr<Connection>> ready_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Connection>> returned_ ABSL_GUARDED_BY(mu_);
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() = default;

void Server::Handle(std::string_view method, std::string_view path_prefix, Handler handler) {
  impl_->Handle(method, path_prefix, std::move(handler));
}
absl::Status Server::Start() { return impl_->Start(); }
int Server::port() const { return impl_->port(); }
std::string Server::address() const { return impl_->address(); }
void Server::Stop() { impl_->Stop(); }

}  // namespace mutualaid::http

// libs/http's Server and Client against each other and against raw sockets,
// all on loopback. No fixed sleeps: every wait is on a condition with a deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mutualaid/http/client.h"
#include "mutualaid/http/server.h"

namespace mutualaid::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A raw TCP connection to 127.0.0.1:port, for what the Client never sends.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }

  void Send(std::string_view data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }

  // Reads until `done(received)` holds, the peer closes, or 10 s pass.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done,
                        bool* closed = nullptr) {
    std::string received;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    if (closed != nullptr) *closed = false;
    while (!done(received) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (closed != nullptr) *closed = true;
        break;
      }
      received.append(buffer, static_cast<size_t>(n));
    }
    return received;
  }
  std::string ReadToClose(bool* closed) {
    return ReadUntil([](const std::string&) { return false; }, closed);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int CountOf(const std::string& text, std::string_view what) {
  int n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(options);
    server_->Handle("GET", "/hello", [](const Request& r) {
      return Response::Text(200, absl::StrCat("hello ", r.path_rest, " ", r.query));
    });
    server_->Handle("POST", "/echo", [](const Request& r) {
      Response resp = Response::Json(200, r.body);
      resp.headers.push_back({"X-Peer", r.peer});
      return resp;
    });
    server_->Handle("GET", "/peer", [](const Request& r) { return Response::Text(200, r.peer); });
    server_->Handle("GET", "/v1/things", [](const Request&) { return Response::Text(200, "list"); });
    server_->Handle("GET", "/v1/things/special", [](const Request& r) {
      return Response::Text(200, absl::StrCat("special", r.path_rest));
    });
    server_->Handle("DELETE", "/v1/things", [](const Request&) { return Response::Text(204, ""); });
    server_->Handle("GET", "/block", [this](const Request&) {
      ++blocked_;
      release_.WaitForNotificationWithTimeout(absl::Seconds(30));
      return Response::Text(200, "released");
    });
    server_->Handle("GET", "/drop", [](const Request&) { return Response::Drop(); });
    server_->Handle("GET", "/close", [](const Request&) {
      Response r = Response::Text(200, "bye");
      r.close = true;
      return r;
    });
    server_->Handle("GET", "/throw", [](const Request&) -> Response {
      throw std::runtime_error("boom");
    });
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (server_) server_->Stop();
  }

  Client MakeClient(ClientOptions options = {}) {
    return Client("127.0.0.1", server_->port(), options);
  }

  std::unique_ptr<Server> server_;
  absl::Notification release_;
  std::atomic<int> blocked_{0};
};

TEST_F(ServerTest, GetAndPost) {
  StartServer();
  Client client = MakeClient();
  absl::StatusOr<Response> r = client.Get("/hello/world?x=1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello /world x=1");
  EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");

  r = client.Post("/echo", R"({"a":1})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"a":1})");
  EXPECT_EQ(r->header("Content-Type"), "application/json");

  r = client.Post("/echo", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "");
}

TEST_F(ServerTest, RoutingByLongestPrefixAndMethod) {
  StartServer();
  Client client = MakeClient();
  EXPECT_EQ(client.Get("/v1/things")->body, "list");
  EXPECT_EQ(client.Get("/v1/things/42")->body, "list");
  EXPECT_EQ(client.Get("/v1/things/special/7")->body, "special/7");
  EXPECT_EQ(client.Get("/v1/thingsX")->status, 404);
  EXPECT_EQ(client.Get("/nowhere")->status, 404);
  absl::StatusOr<Response> r = client.Post("/v1/things", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_THAT(std::string(r->header("Allow").value_or("")), HasSubstr("GET"));
  ClientRequest del;
  del.method = "DELETE";
  del.target = "/v1/things/1";
  r = client.Send(del);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->body, "");
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  StartServer();
  Client client = MakeClient();
  const std::string first = client.Get("/peer")->body;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client.Get("/peer")->body, first);
  // "Connection: close" from the handler: the next request uses a new connection.
  EXPECT_EQ(client.Get("/close")->body, "bye");
  EXPECT_NE(client.Get("/peer")->body, first);
}

TEST_F(ServerTest, ClientWithoutKeepAliveOpensAConnectionPerRequest) {
  StartServer();
  Client client = MakeClient({.keep_alive = false});
  const std::string first = client.Get("/peer")->body;
  EXPECT_NE(client.Get("/peer")->body, first);
}

TEST_F(ServerTest, ServerClosedIdleConnectionIsReplacedBeforeSending) {
  StartServer({.idle_timeout = absl::Milliseconds(50)});
  Client client = MakeClient({.max_idle = absl::Seconds(60)});
  const std::string first = client.Get("/peer")->body;
  // Ask again after longer and longer pauses until the server has dropped the
  // idle connection; every request must still succeed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string peer = first;
  absl::Duration pause = absl::Milliseconds(5);
  while (peer == first && std::chrono::steady_clock::now() < deadline) {
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(500));
    absl::StatusOr<Response> r = client.Get("/peer");
    ASSERT_TRUE(r.ok()) << r.status();
    peer = r->body;
  }
  EXPECT_NE(peer, first);
}

TEST_F(ServerTest, IdleConnectionsAreClosedByTheServer) {
  StartServer({.idle_timeout = absl::Milliseconds(100)});
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.connected());
  bool closed = false;
  raw.ReadToClose(&closed);
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, TimeoutIsDeadlineExceededAndOutcomeUnknown) {
  StartServer();
  Client client = MakeClient({.timeout = absl::Milliseconds(200)});
  absl::StatusOr<Response> r = client.Get("/block");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_TRUE(OutcomeUnknown(r.status()));
  EXPECT_EQ(blocked_.load(), 1);  // the request did reach the handler
  release_.Notify();
  // The client recovers on a fresh connection.
  r = client.Get("/hello");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, PerRequestTimeoutOverride) {
  StartServer();
  Client client = MakeClient({.timeout = absl::Seconds(60)});
  ClientRequest request;
  request.target = "/block";
  request.timeout = absl::Milliseconds(100);
  absl::StatusOr<Response> r = client.Send(request);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
}

TEST_F(ServerTest, DroppedRequestIsUnknownOutcome) {
  StartServer();
  Client client = MakeClient();
  absl::StatusOr<Response> r = client.Get("/drop");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsUnknown(r.status())) << r.status();
  EXPECT_TRUE(OutcomeUnknown(r.status()));
  EXPECT_TRUE(client.Get("/hello").ok());
}

TEST_F(ServerTest, HandlerExceptionIs500) {
  StartServer();
  Client client = MakeClient();
  absl::StatusOr<Response> r = client.Get("/throw");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, HasSubstr("boom"));
  EXPECT_TRUE(client.Get("/hello").ok());
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    Server server;
    ASSERT_TRUE(server.Start().ok());
    port = server.port();
  }  // stopped: nothing listens on `port` now
  Client client("127.0.0.1", port);
  absl::StatusOr<Response> r = client.Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_FALSE(OutcomeUnknown(r.status()));
}

TEST(ClientTest, UnresolvableHostIsUnavailable) {
  Client client("no-such-host.invalid", 80, {.connect_timeout = absl::Seconds(2)});
  absl::StatusOr<Response> r = client.Get("/");
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
}

TEST(ClientTest, ForUrl) {
  EXPECT_FALSE(Client::ForUrl("ftp://x").ok());
  absl::StatusOr<Client> c = Client::ForUrl("http://127.0.0.1:1234/ignored");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host(), "127.0.0.1");
  EXPECT_EQ(c->port(), 1234);
}

TEST(ServerStartTest, PortInUseIsUnavailable) {
  Server first;
  ASSERT_TRUE(first.Start().ok());
  Server second({.port = first.port()});
  absl::Status s = second.Start();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
}

TEST_F(ServerTest, BodyLimitIs413AndHeaderLimitIs431) {
  StartServer({.max_header_bytes = 1024, .max_body_bytes = 100});
  Client client = MakeClient();
  absl::StatusOr<Response> r = client.Post("/echo", std::string(100, 'x'));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  r = client.Post("/echo", std::string(101, 'x'));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 413);

  ClientRequest big;
  big.target = "/hello";
  big.headers.push_back({"X-Big", std::string(2000, 'h')});
  r = client.Send(big);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(client.Get("/hello").ok());
}

TEST_F(ServerTest, MalformedRequestsAre400) {
  StartServer();
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET /x HTTP/1.1\r\nno colon\r\n\r\n",
                          "GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "GET x HTTP/1.1\r\n\r\n"}) {
    RawConnection raw(server_->port());
    raw.Send(bad);
    bool closed = false;
    const std::string answer = raw.ReadToClose(&closed);
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 ")) << bad;
    EXPECT_TRUE(closed);
  }
  RawConnection raw(server_->port());
  raw.Send("GET /hello HTTP/2.0\r\n\r\n");
  bool closed = false;
  EXPECT_THAT(raw.ReadToClose(&closed), StartsWith("HTTP/1.1 505 "));
}

TEST_F(ServerTest, ChunkedRequestBodyIs501) {
  StartServer();
  RawConnection raw(server_->port());
  raw.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n");
  bool closed = false;
  EXPECT_THAT(raw.ReadToClose(&closed), StartsWith("HTTP/1.1 501 "));
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawConnection raw(server_->port());
  raw.Send(
      "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /hello/c HTTP/1.1\r\nConnection: close\r\n\r\n");
  bool closed = false;
  const std::string answer = raw.ReadToClose(&closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(CountOf(answer, "HTTP/1.1 200 OK"), 3);
  const size_t a = answer.find("hello /a");
  const size_t b = answer.find("abc");
  const size_t c = answer.find("hello /c");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(c, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST_F(ServerTest, ExpectContinue) {
  StartServer();
  RawConnection raw(server_->port());
  raw.Send("POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  const std::string interim = raw.ReadUntil(
      [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  EXPECT_THAT(interim, StartsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  raw.Send("hi");
  const std::string answer =
      raw.ReadUntil([](const std::string& s) { return s.find("hi") != std::string::npos; });
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK"));
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAlive) {
  StartServer();
  RawConnection raw(server_->port());
  raw.Send("GET /hello HTTP/1.0\r\n\r\n");
  bool closed = false;
  const std::string answer = raw.ReadToClose(&closed);
  EXPECT_TRUE(closed);
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
}

TEST_F(ServerTest, SlowPartialRequestTimesOutWith408) {
  StartServer({.read_timeout = absl::Milliseconds(200)});
  RawConnection raw(server_->port());
  raw.Send("GET /hello HTTP/1.1\r\nHost:");
  bool closed = false;
  EXPECT_THAT(raw.ReadToClose(&closed), StartsWith("HTTP/1.1 408 "));
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, StopInterruptsPartialRequestsAndIdleConnections) {
  StartServer({.read_timeout = absl::Seconds(60), .idle_timeout = absl::Seconds(60)});
  RawConnection partial(server_->port());
  partial.Send("GET /hello HTTP/1.1\r\n");
  RawConnection idle(server_->port());
  Client client = MakeClient();
  ASSERT_TRUE(client.Get("/hello").ok());
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  bool closed = false;
  partial.ReadToClose(&closed);
  EXPECT_TRUE(closed);
  idle.ReadToClose(&closed);
  EXPECT_TRUE(closed);
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, IdleConnectionsDoNotHoldWorkers) {
  StartServer({.threads = 2});
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 10; ++i) idle.push_back(std::make_unique<RawConnection>(server_->port()));
  Client client = MakeClient();
  absl::StatusOr<Response> r = client.Get("/hello");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, ManyClientsInParallel) {
  StartServer({.threads = 4});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client client = MakeClient();
      for (int i = 0; i < 50; ++i) {
        const std::string body = absl::StrCat("{\"t\":", t, ",\"i\":", i, "}");
        absl::StatusOr<Response> r = client.Post("/echo", body);
        if (r.ok() && r->status == 200 && r->body == body) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
}

// A one-shot raw server that answers any request with `answer`, then closes.
class CannedServer {
 public:
  explicit CannedServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      (void)!::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~CannedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  std::string answer_;
  int fd_;
  int port_;
  std::thread thread_;
};

TEST(ClientTest, ReadsChunkedResponses) {
  CannedServer server(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n");
  Client client("127.0.0.1", server.port());
  absl::StatusOr<Response> r = client.Get("/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "hello, world");
}

TEST(ClientTest, ReadsCloseDelimitedResponses) {
  CannedServer server("HTTP/1.1 503 Service Unavailable\r\n\r\nbusy, try later");
  Client client("127.0.0.1", server.port());
  absl::StatusOr<Response> r = client.Get("/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "busy, try later");
}

TEST(ClientTest, SkipsInterimResponses) {
  CannedServer server("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  Client client("127.0.0.1", server.port());
  absl::StatusOr<Response> r = client.Get("/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "ok");
}

TEST(ClientTest, TruncatedResponseIsUnknownOutcome) {
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
  Client client("127.0.0.1", server.port());
  absl::StatusOr<Response> r = client.Get("/");
  EXPECT_TRUE(absl::IsUnknown(r.status())) << r.status();
}

TEST(ClientTest, GarbageResponseIsUnknownOutcome) {
  CannedServer server("SMTP ready\r\n\r\n");
  Client client("127.0.0.1", server.port());
  absl::StatusOr<Response> r = client.Get("/");
  EXPECT_TRUE(absl::IsUnknown(r.status())) << r.status();
}

}  // namespace
}  // namespace mutualaid::http

// A small HTTP/1.1 server over POSIX sockets: for the Prometheus metrics
// endpoint of every service and for the gateway fakes.
//
// One poller thread accepts connections and watches idle keep-alive
// connections; a fixed pool of worker threads reads one request each (request
// line, headers, Content-Length body), runs its handler and writes the answer.
// An idle connection holds no worker. Chunked request bodies are refused (501).
//
//   http::Server server({.port = 0});
//   server.Handle("GET", "/metrics", [](const http::Request&) {
//     return http::Response::Text(200, RenderMetrics());
//   });
//   RETURN_IF_ERROR(server.Start());     // server.port() is the bound port
//   ...
//   server.Stop();                       // also done by the destructor
#ifndef MUTUALAID_HTTP_SERVER_H_
#define MUTUALAID_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mutualaid/http/message.h"

namespace mutualaid::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback only unless told otherwise
  int port = 0;                    // 0: the kernel picks a free port
  int threads = 4;                 // workers: requests handled at once
  size_t max_header_bytes = 16 * 1024;   // request line + headers; past it: 431
  size_t max_body_bytes = 1024 * 1024;   // Content-Length past it: 413
  int max_connections = 256;             // open connections; past it new ones are closed
  absl::Duration read_timeout = absl::Seconds(10);   // to receive one whole request
  absl::Duration write_timeout = absl::Seconds(10);  // to send one whole response
  absl::Duration idle_timeout = absl::Seconds(30);   // keep-alive connection with no request
};

// Gets the parsed request; returns the answer. Runs on a worker thread: may
// block (the fakes sleep in handlers to inject latency), but every blocked
// handler holds a worker. A handler that throws gets a 500.
using Handler = std::function<Response(const Request&)>;

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();  // Stop()

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers `handler` for requests whose method is `method` ("" = any) and
  // whose path is `path_prefix` or continues it at a '/' (the prefix
  // "/v1/transfers" matches "/v1/transfers" and "/v1/transfers/k1", not
  // "/v1/transfersX"). The longest matching prefix wins; a path that matches
  // only under other methods gets 405, no match at all 404. Call before Start.
  void Handle(std::string_view method, std::string_view path_prefix, Handler handler);

  // Binds, listens and starts the threads. Unavailable if the address cannot
  // be bound (e.g. the port is taken).
  absl::Status Start();

  // The bound port (after Start).
  int port() const;
  // "host:port" (after Start).
  std::string address() const;

  // Stops accepting, closes idle connections, interrupts requests still being
  // read, waits for running handlers to return, joins every thread.
  // Idempotent; safe to call from any thread except a handler.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mutualaid::http

#endif  // MUTUALAID_HTTP_SERVER_H_

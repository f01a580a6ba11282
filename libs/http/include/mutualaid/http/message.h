// HTTP/1.1 messages as plain structs, shared by http::Server and http::Client.
#ifndef MUTUALAID_HTTP_MESSAGE_H_
#define MUTUALAID_HTTP_MESSAGE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace mutualaid::http {

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

// The first header named `name` (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name);

struct Request {
  std::string method;  // "GET", "POST", … (case-sensitive, as sent)
  std::string target;  // as sent: "/v1/ledger?day=2025-01-01"
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', still percent-encoded ("" if none)
  Headers headers;
  std::string body;
  std::string peer;       // "127.0.0.1:54321" (server side only)
  std::string path_rest;  // server side: path after the matched handler prefix

  std::optional<std::string_view> header(std::string_view name) const {
    return FindHeader(headers, name);
  }
  // The first query parameter `name`, percent-decoded ('+' is a space);
  // nullopt if absent or undecodable.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;  // the server adds Content-Length and Connection itself
  std::string body;
  // Server side: close the connection after sending this response.
  bool close = false;
  // Server side, for fault injection in fakes: close the connection without
  // sending anything (the client sees its request vanish: outcome unknown).
  bool drop = false;

  static Response Json(int status, std::string body);  // application/json
  static Response Text(int status, std::string body);  // text/plain; charset=utf-8
  static Response Drop();

  std::optional<std::string_view> header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// "OK", "Not Found", … ("" for codes it does not know).
std::string_view StatusText(int status);

// %XX-decoding (RFC 3986); with `plus_is_space`, '+' decodes to ' ' (forms and
// query strings). InvalidArgument on a malformed escape.
absl::StatusOr<std::string> PercentDecode(std::string_view text, bool plus_is_space = false);
// Encodes every byte except the unreserved set A-Z a-z 0-9 - . _ ~, so the
// result is safe as one path segment or one query value.
std::string PercentEncode(std::string_view text);

// "http://host[:port][/target]". Only plain http (no TLS).
struct Url {
  std::string host;
  int port = 80;
  std::string target = "/";
};
absl::StatusOr<Url> ParseUrl(std::string_view url);

}  // namespace mutualaid::http

#endif  // MUTUALAID_HTTP_MESSAGE_H_

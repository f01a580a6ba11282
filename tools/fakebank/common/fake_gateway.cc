#include "fake_gateway.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mutualaid::fakes {

void FlagParser::String(std::string name, std::string* out, std::string help) {
  flags_[std::move(name)] = Flag{Flag::Type::kString, out, std::move(help)};
}
void FlagParser::Int(std::string name, int64_t* out, std::string help) {
  flags_[std::move(name)] = Flag{Flag::Type::kInt, out, std::move(help)};
}
void FlagParser::Double(std::string name, double* out, std::string help) {
  flags_[std::move(name)] = Flag{Flag::Type::kDouble, out, std::move(help)};
}
void FlagParser::Bool(std::string name, bool* out, std::string help) {
  flags_[std::move(name)] = Flag{Flag::Type::kBool, out, std::move(help)};
}

absl::StatusOr<std::vector<std::string>> FlagParser::Parse(int argc, char** argv) const {
  std::vector<std::string> positional;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      positional.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    std::string name(arg.substr(0, arg.find('=')));
    std::optional<std::string> value;
    if (arg.find('=') != std::string_view::npos) value = std::string(arg.substr(arg.find('=') + 1));
    const auto it = flags_.find(name);
    if (it == flags_.end()) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    const Flag& flag = it->second;
    if (flag.type == Flag::Type::kBool) {
      if (!value.has_value() || *value == "true" || *value == "1") {
        *static_cast<bool*>(flag.out) = true;
      } else if (*value == "false" || *value == "0") {
        *static_cast<bool*>(flag.out) = false;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": not a boolean"));
      }
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, ": no value"));
      value = argv[++i];
    }
    const char* begin = value->data();
    const char* end = begin + value->size();
    switch (flag.type) {
      case Flag::Type::kString:
        *static_cast<std::string*>(flag.out) = *value;
        break;
      case Flag::Type::kInt: {
        int64_t n = 0;
        const auto r = std::from_chars(begin, end, n);
        if (r.ec != std::errc() || r.ptr != end) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, ": not an integer"));
        }
        *static_cast<int64_t*>(flag.out) = n;
        break;
      }
      case Flag::Type::kDouble: {
        char* stop = nullptr;
        const double d = std::strtod(value->c_str(), &stop);
        if (value->empty() || stop != value->c_str() + value->size()) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, ": not a number"));
        }
        *static_cast<double*>(flag.out) = d;
        break;
      }
      case Flag::Type::kBool:
        break;
    }
  }
  return positional;
}

std::string FlagParser::Help() const {
  std::string out;
  for (const auto& [name, flag] : flags_) {
    absl::StrAppendFormat(&out, "  --%-24s %s\n", name, flag.help);
  }
  return out;
}

void RegisterCommonFlags(FlagParser& flags, CommonOptions& o) {
  flags.String("host", &o.host, "address to bind (default 127.0.0.1)");
  flags.Int("port", &o.port, "port; 0 picks a free one (printed as 'listening HOST:PORT')");
  flags.Int("threads", &o.threads, "worker threads (default 16)");
  flags.Double("error-rate", &o.error_rate, "P: answer 500/503 without doing anything");
  flags.Double("timeout-rate", &o.timeout_rate,
               "P: do the work, then hang --hang-ms and close without answering");
  flags.Int("hang-ms", &o.hang_ms, "how long an injected timeout hangs (default 30000)");
  flags.Int("slow-ms", &o.slow_ms, "delay every request by N ms");
  flags.Int("crash-after", &o.crash_after,
            "N: carry out the Nth request, then exit(1) before answering it");
  flags.Int("seed", &o.seed, "seed for the fault draws (default 1)");
  flags.Bool("fault-queries", &o.fault_queries,
             "also inject errors/timeouts into GET requests (default: POST only)");
}

absl::Status CheckCommonOptions(const CommonOptions& o) {
  if (o.error_rate < 0 || o.error_rate > 1) return absl::InvalidArgumentError("--error-rate: not in [0,1]");
  if (o.timeout_rate < 0 || o.timeout_rate > 1) {
    return absl::InvalidArgumentError("--timeout-rate: not in [0,1]");
  }
  if (o.port < 0 || o.port > 65535) return absl::InvalidArgumentError("--port: not in 0..65535");
  if (o.threads < 1 || o.threads > 1024) return absl::InvalidArgumentError("--threads: not in 1..1024");
  if (o.hang_ms < 0 || o.slow_ms < 0 || o.crash_after < 0) {
    return absl::InvalidArgumentError("--hang-ms, --slow-ms, --crash-after: must be >= 0");
  }
  return absl::OkStatus();
}

Faults::Faults(const CommonOptions& options)
    : options_(options), random_(static_cast<uint64_t>(options.seed)) {}

bool Faults::Draw(double probability) {
  if (probability <= 0) return false;
  absl::MutexLock lock(&mu_);
  return std::uniform_real_distribution<double>(0, 1)(random_) < probability;
}

http::Handler Faults::Wrap(bool submits, http::Handler handler) {
  return [this, submits, handler = std::move(handler)](const http::Request& request) {
    const int64_t n = ++requests_;
    if (options_.slow_ms > 0) Pause(absl::Milliseconds(options_.slow_ms));
    const bool faulty = submits || options_.fault_queries;
    if (faulty && Draw(options_.error_rate)) {
      const int status = Draw(0.5) ? 500 : 503;
      if (n == options_.crash_after) _exit(1);
      return JsonError(status, "INJECTED_ERROR", "fault injection: nothing was done");
    }
    http::Response response = handler(request);
    if (n == options_.crash_after) {
      std::fflush(stderr);
      _exit(1);  // abruptly: the work is done (and on disk), the answer never leaves
    }
    if (faulty && Draw(options_.timeout_rate)) {
      Pause(absl::Milliseconds(options_.hang_ms));
      return http::Response::Drop();
    }
    return response;
  };
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(
    const std::string& path, const std::function<absl::Status(const json::Value&)>& replay) {
  if (path.empty()) return std::unique_ptr<Journal>(new Journal(-1));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<Journal> journal(new Journal(fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is in use by another process"));
  }
  std::string content;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("cannot read ", path));
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  size_t good_end = 0;  // offset after the last complete, valid line
  int line_number = 0;
  for (size_t start = 0; start < content.size();) {
    const size_t nl = content.find('\n', start);
    ++line_number;
    if (nl == std::string::npos) break;  // torn tail: never acknowledged
    const std::string_view line = std::string_view(content).substr(start, nl - start);
    if (!line.empty()) {
      absl::StatusOr<json::Value> value = json::Parse(line);
      if (!value.ok()) {
        if (nl + 1 == content.size()) break;  // a garbled last line: torn as well
        return absl::DataLossError(absl::StrCat(path, " line ", line_number, ": ",
                                                std::string(value.status().message())));
      }
      if (absl::Status s = replay(*value); !s.ok()) {
        return absl::DataLossError(
            absl::StrCat(path, " line ", line_number, ": ", std::string(s.message())));
      }
    }
    good_end = nl + 1;
    start = nl + 1;
  }
  if (good_end != content.size()) {
    if (::ftruncate(fd, static_cast<off_t>(good_end)) != 0 || ::fsync(fd) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot truncate the torn tail of ", path));
    }
  }
  if (::lseek(fd, 0, SEEK_END) < 0) return absl::UnavailableError("lseek failed");
  return journal;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status Journal::Append(const json::Value& value) {
  if (fd_ < 0) return absl::OkStatus();
  std::string line = json::Write(value);
  line.push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("journal write: ", std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    return absl::UnavailableError(absl::StrCat("journal fsync: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

http::Response JsonError(int status, std::string_view code, std::string_view reason) {
  return http::Response::Json(
      status, json::Write(json::Value::Object({{"error", code}, {"reason", reason}})));
}

http::Response JsonOk(const json::Value& value) {
  return http::Response::Json(200, json::Write(value));
}

absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(std::string(text), &day) ||
      FormatDay(day) != text) {
    return absl::InvalidArgumentError(absl::StrCat("not a date (YYYY-MM-DD): ", std::string(text)));
  }
  return day;
}

std::string FormatDay(absl::CivilDay day) { return absl::FormatCivilTime(day); }

void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void ServeUntilSignalled(http::Server& server, Faults& faults, std::string_view host) {
  std::cout << "listening " << host << ":" << server.port() << std::endl;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  faults.Stop();
  server.Stop();
}

}  // namespace mutualaid::fakes

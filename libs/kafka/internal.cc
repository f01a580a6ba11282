#include "internal.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/kafka/error.h"

namespace mutualaid::kafka {
namespace {

// The payload every Status from this library carries:
// "<flags>:<librdkafka error name>", flags from {r, a, f, x} for retriable,
// requires-abort, fatal, fenced.
constexpr absl::string_view kPayloadUrl = "type.mutualaid/kafka.error";

std::string PayloadOf(const absl::Status& status) {
  auto p = status.GetPayload(kPayloadUrl);
  return p.has_value() ? std::string(*p) : std::string();
}

bool HasFlag(const absl::Status& status, char flag) {
  if (status.ok()) return false;
  std::string p = PayloadOf(status);
  size_t colon = p.find(':');
  return colon != std::string::npos && p.substr(0, colon).find(flag) != std::string::npos;
}

}  // namespace

bool IsRetriable(const absl::Status& status) { return HasFlag(status, 'r'); }
bool RequiresAbort(const absl::Status& status) { return HasFlag(status, 'a'); }
bool IsFatal(const absl::Status& status) { return HasFlag(status, 'f'); }
bool IsFenced(const absl::Status& status) { return HasFlag(status, 'x'); }

std::string KafkaErrorName(const absl::Status& status) {
  std::string p = PayloadOf(status);
  size_t colon = p.find(':');
  return colon == std::string::npos ? std::string() : p.substr(colon + 1);
}

absl::StatusOr<ClientConfig> ClientConfigFromEnv(std::string client_id) {
  const char* bootstrap = std::getenv(kBootstrapEnv);
  if (bootstrap == nullptr || *bootstrap == '\0') {
    return absl::FailedPreconditionError(
        absl::StrCat(kBootstrapEnv, " is not set (e.g. 127.0.0.1:19092; "
                                    "deploy/local/kafka start prints it)"));
  }
  ClientConfig config;
  config.bootstrap = bootstrap;
  config.client_id = std::move(client_id);
  return config;
}

namespace internal {
namespace {

const Logger& DefaultLogger() {
  static const Logger* logger =
      new Logger("kafka", nullptr, nullptr, LogLevel::kWarning);
  return *logger;
}

void LogCallback(const rd_kafka_t* rk, int level, const char* facility,
                 const char* buf) {
  auto* context = static_cast<ClientContext*>(rd_kafka_opaque(rk));
  const Logger& logger = context != nullptr ? context->logger() : DefaultLogger();
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  LogLevel l = level <= 3   ? LogLevel::kError
               : level == 4 ? LogLevel::kWarning
               : level <= 6 ? LogLevel::kInfo
                            : LogLevel::kDebug;
  if (!logger.Enabled(l)) return;
  logger.Log(l, buf, {{"facility", facility}, {"client", rd_kafka_name(rk)}});
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* context = static_cast<ClientContext*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  bool fatal = code == RD_KAFKA_RESP_ERR__FATAL;
  if (fatal) {
    char buf[512];
    code = rd_kafka_fatal_error(rk, buf, sizeof(buf));
  }
  absl::Status s = MakeStatus(code, "kafka client", reason, !fatal, false, fatal);
  if (context != nullptr) {
    context->set_last_client_error(s);
    context->logger().Log(fatal ? LogLevel::kError : LogLevel::kWarning,
                          "kafka client error",
                          {{"client", rd_kafka_name(rk)},
                           {"error", rd_kafka_err2name(code)},
                           {"reason", reason}});
  }
}

absl::StatusCode CodeFor(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::StatusCode::kOk;
    // A broker outage: nothing to reach, or the leader/coordinator moving.
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__NOT_CONFIGURED:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
      return absl::StatusCode::kUnavailable;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::StatusCode::kDeadlineExceeded;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__NOENT:
      return absl::StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::StatusCode::kAlreadyExists;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT:
      return absl::StatusCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__CONFLICT:
    case RD_KAFKA_RESP_ERR_INVALID_TXN_STATE:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      return absl::StatusCode::kFailedPrecondition;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return absl::StatusCode::kPermissionDenied;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return absl::StatusCode::kResourceExhausted;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return absl::StatusCode::kCancelled;
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return absl::StatusCode::kOutOfRange;
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
      return absl::StatusCode::kUnimplemented;
    default:
      return absl::StatusCode::kInternal;
  }
}

bool IsFencingErr(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

}  // namespace

ClientContext::ClientContext(const Logger* logger)
    : logger_(logger != nullptr ? logger : &DefaultLogger()) {}

absl::Status ClientContext::last_client_error() const {
  absl::MutexLock lock(&mu_);
  return last_client_error_;
}

void ClientContext::set_last_client_error(absl::Status s) {
  absl::MutexLock lock(&mu_);
  last_client_error_ = std::move(s);
}

absl::StatusOr<Conf> BuildConf(
    const ClientConfig& client,
    const std::vector<std::pair<std::string, std::string>>& role,
    ClientContext* context) {
  Conf conf(rd_kafka_conf_new());
  char errstr[512];
  auto set = [&](const std::string& name, const std::string& value) -> absl::Status {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka property ", name, "=", value, ": ", errstr));
    }
    return absl::OkStatus();
  };
  bool mock = false;
  for (const auto& [k, v] : client.properties) mock |= k == "test.mock.num.brokers";
  if (client.bootstrap.empty() && !mock) {
    return absl::InvalidArgumentError("kafka: empty bootstrap address");
  }
  if (!client.bootstrap.empty()) {
    if (auto s = set("bootstrap.servers", client.bootstrap); !s.ok()) return s;
  }
  if (auto s = set("client.id", client.client_id); !s.ok()) return s;
  for (const auto& [k, v] : role) {
    if (auto s = set(k, v); !s.ok()) return s;
  }
  for (const auto& [k, v] : client.properties) {
    if (auto s = set(k, v); !s.ok()) return s;
  }
  rd_kafka_conf_set_opaque(conf.get(), context);
  rd_kafka_conf_set_log_cb(conf.get(), LogCallback);
  rd_kafka_conf_set_error_cb(conf.get(), ErrorCallback);
  return conf;
}

absl::StatusOr<Handle> NewHandle(rd_kafka_type_t type, Conf conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: cannot create client: ", errstr));
  }
  (void)conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

absl::Status MakeStatus(rd_kafka_resp_err_t err, absl::string_view what,
                        absl::string_view detail, bool retriable, bool abortable,
                        bool fatal) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && !fatal && !abortable) return absl::OkStatus();
  bool fenced = IsFencingErr(err);
  if (fenced) {
    fatal = true;
    retriable = false;
    abortable = false;
  }
  absl::StatusCode code = CodeFor(err);
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kInternal;
  if (abortable && !fatal) {
    code = absl::StatusCode::kAborted;
  } else if (fatal && !fenced &&
             (code == absl::StatusCode::kUnavailable ||
              code == absl::StatusCode::kDeadlineExceeded)) {
    // A fatal error must not look like something worth retrying.
    code = absl::StatusCode::kInternal;
  }
  std::string message = absl::StrCat(what, ": ", rd_kafka_err2name(err));
  if (!detail.empty()) absl::StrAppend(&message, " (", detail, ")");
  absl::Status status(code, message);
  std::string flags;
  if (retriable) flags += 'r';
  if (abortable) flags += 'a';
  if (fatal) flags += 'f';
  if (fenced) flags += 'x';
  status.SetPayload(kPayloadUrl,
                    absl::Cord(absl::StrCat(flags, ":", rd_kafka_err2name(err))));
  return status;
}

absl::Status StatusFromErr(rd_kafka_resp_err_t err, absl::string_view what,
                           absl::string_view detail) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  absl::StatusCode code = CodeFor(err);
  bool retriable = code == absl::StatusCode::kUnavailable ||
                   code == absl::StatusCode::kDeadlineExceeded ||
                   code == absl::StatusCode::kResourceExhausted;
  return MakeStatus(err, what, detail, retriable, false, false);
}

absl::Status StatusFromError(rd_kafka_error_t* error, absl::string_view what) {
  if (error == nullptr) return absl::OkStatus();
  absl::Status s =
      MakeStatus(rd_kafka_error_code(error), what, rd_kafka_error_string(error),
                 rd_kafka_error_is_retriable(error) != 0,
                 rd_kafka_error_txn_requires_abort(error) != 0,
                 rd_kafka_error_is_fatal(error) != 0);
  rd_kafka_error_destroy(error);
  return s;
}

absl::Status WithCode(const absl::Status& status, absl::StatusCode code) {
  absl::Status out(code, status.message());
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

absl::Status FatalErrorOf(rd_kafka_t* rk) {
  char buf[512];
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk, buf, sizeof(buf));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return MakeStatus(err, "kafka fatal error", buf, false, false, true);
}

Message ToMessage(const rd_kafka_message_t* msg) {
  Message m;
  if (msg->rkt != nullptr) m.topic = rd_kafka_topic_name(msg->rkt);
  m.partition = msg->partition;
  m.offset = msg->offset;
  if (msg->key != nullptr) m.key.assign(static_cast<const char*>(msg->key), msg->key_len);
  if (msg->payload != nullptr) {
    m.value.assign(static_cast<const char*>(msg->payload), msg->len);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      headers != nullptr) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      m.headers.push_back(
          {name, value != nullptr ? std::string(static_cast<const char*>(value), size)
                                  : std::string()});
    }
  }
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(msg, &type);
  if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= 0) {
    m.timestamp = absl::FromUnixMillis(ts);
  }
  return m;
}

rd_kafka_resp_err_t Produce(rd_kafka_t* rk, const Record& record, void* opaque) {
  rd_kafka_headers_t* headers = nullptr;
  if (!record.headers.empty()) {
    headers = rd_kafka_headers_new(record.headers.size());
    for (const Header& h : record.headers) {
      rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                          h.value.data(), static_cast<ssize_t>(h.value.size()));
    }
  }
  // RD_KAFKA_V_HEADERS hands the headers to librdkafka only on success.
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(record.topic.c_str()),
      RD_KAFKA_V_PARTITION(record.partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(const_cast<char*>(record.key.data()), record.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    rd_kafka_headers_destroy(headers);
  }
  return err;
}

PartitionList ToPartitionList(const std::vector<TopicPartitionOffset>& offsets) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset =
        o.offset;
  }
  return list;
}

PartitionList ToPartitionList(const std::vector<TopicPartition>& partitions,
                              int64_t offset) {
  PartitionList list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
        offset;
  }
  return list;
}

std::vector<TopicPartitionOffset> FromPartitionList(
    const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  if (list == nullptr) return out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  }
  return out;
}

int TimeoutMs(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d >= absl::Hours(24 * 20)) return 24 * 20 * 3600 * 1000;  // fits an int
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1))));
}

Poller::Poller(rd_kafka_t* rk) : rk_(rk) {
  thread_ = std::thread([this] {
    while (!stop_.load(std::memory_order_relaxed)) rd_kafka_poll(rk_, 100);
  });
}

Poller::~Poller() {
  stop_.store(true);
  thread_.join();
}

}  // namespace internal
}  // namespace mutualaid::kafka

namespace mutualaid::kafka::internal {

Deadline::Deadline(absl::Duration timeout)
    : end_(std::chrono::steady_clock::now() +
           absl::ToChronoNanoseconds(std::min(timeout, absl::Hours(24 * 365)))) {}

absl::Duration Deadline::Remaining() const {
  auto left = end_ - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return absl::ZeroDuration();
  return absl::FromChrono(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
}

}  // namespace mutualaid::kafka::internal

// Private to libs/kafka: librdkafka handles, config building, error mapping,
// record conversions. Nothing here is part of the public surface.

#ifndef MUTUALAID_KAFKA_INTERNAL_H_
#define MUTUALAID_KAFKA_INTERNAL_H_

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mutualaid/core/log.h"
#include "mutualaid/kafka/config.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/record.h"

namespace mutualaid::kafka::internal {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// What every handle's opaque points at (rd_kafka_opaque): the owner's hooks.
// Lives as long as the handle.
class ClientContext {
 public:
  explicit ClientContext(const Logger* logger);
  virtual ~ClientContext() = default;

  const Logger& logger() const { return *logger_; }

  // Delivery report for one message (producers only). Called on whichever
  // thread serves the handle's queue.
  virtual void OnDelivery(const rd_kafka_message_t* /*msg*/) {}

  // Last error reported through error_cb (e.g. _ALL_BROKERS_DOWN); OK after
  // a successful delivery clears it.
  absl::Status last_client_error() const;
  void set_last_client_error(absl::Status s);

 private:
  const Logger* logger_;
  mutable absl::Mutex mu_;
  absl::Status last_client_error_ ABSL_GUARDED_BY(mu_);
};

// A conf with bootstrap, client id, logging and error callbacks, then `role`
// properties, then the ClientConfig's own `properties` (last, so they win).
// InvalidArgument naming the property on a bad one.
absl::StatusOr<Conf> BuildConf(
    const ClientConfig& client,
    const std::vector<std::pair<std::string, std::string>>& role,
    ClientContext* context);

// rd_kafka_new; takes ownership of conf on success and failure.
absl::StatusOr<Handle> NewHandle(rd_kafka_type_t type, Conf conf);

// A Status for err with the canonical code, the librdkafka name in the
// payload, marked retriable for transient broker errors. OK for NO_ERROR.
absl::Status StatusFromErr(rd_kafka_resp_err_t err, absl::string_view what,
                           absl::string_view detail = {});

// A Status for a rd_kafka_error_t (transactional/consumer APIs), classified
// with rd_kafka_error_is_retriable / txn_requires_abort / is_fatal. Destroys
// the error. OK for nullptr.
absl::Status StatusFromError(rd_kafka_error_t* error, absl::string_view what);

// Status with explicit classification (used by both of the above).
absl::Status MakeStatus(rd_kafka_resp_err_t err, absl::string_view what,
                        absl::string_view detail, bool retriable, bool abortable,
                        bool fatal);

// `status` with another code, same message and payloads.
absl::Status WithCode(const absl::Status& status, absl::StatusCode code);

// The producer's fatal error (rd_kafka_fatal_error) as a fatal Status, or OK.
absl::Status FatalErrorOf(rd_kafka_t* rk);

// Copies a fetched message into a Message.
Message ToMessage(const rd_kafka_message_t* msg);

// rd_kafka_producev with the record's fields; `opaque` is the per-message
// opaque handed to the delivery report.
rd_kafka_resp_err_t Produce(rd_kafka_t* rk, const Record& record, void* opaque);

PartitionList ToPartitionList(const std::vector<TopicPartitionOffset>& offsets);
PartitionList ToPartitionList(const std::vector<TopicPartition>& partitions,
                              int64_t offset);
std::vector<TopicPartitionOffset> FromPartitionList(
    const rd_kafka_topic_partition_list_t* list);

int TimeoutMs(absl::Duration d);

// Serves a producer handle's queue (delivery reports, errors, logs) on a
// background thread until destroyed.
class Poller {
 public:
  explicit Poller(rd_kafka_t* rk);
  ~Poller();  // stops and joins
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

 private:
  rd_kafka_t* rk_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The consumer's handle, for SendOffsetsToTransaction (group metadata).
rd_kafka_t* HandleOf(const Consumer::Impl& consumer);

// Monotonic deadline helper: time left until `deadline`, never negative.
class Deadline {
 public:
  explicit Deadline(absl::Duration timeout);
  absl::Duration Remaining() const;
  bool Expired() const { return Remaining() <= absl::ZeroDuration(); }

 private:
  std::chrono::steady_clock::time_point end_;
};

}  // namespace mutualaid::kafka::internal

#endif  // MUTUALAID_KAFKA_INTERNAL_H_

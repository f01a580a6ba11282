#include "mutualaid/kafka/producer.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "internal.h"

namespace mutualaid::kafka {
namespace {

using internal::StatusFromErr;

absl::StatusOr<TopicPartitionOffset> DeliveryResult(const rd_kafka_message_t* msg,
                                                    const internal::ClientContext& context) {
  std::string topic = msg->rkt != nullptr ? rd_kafka_topic_name(msg->rkt) : "";
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return TopicPartitionOffset{std::move(topic), msg->partition, msg->offset};
  }
  std::string what = absl::StrCat("append to ", topic);
  if (msg->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT) {
    // Timed out while the broker was unreachable: report the outage, the way
    // a caller expects it (Unavailable), still saying the outcome is unknown.
    absl::Status client = context.last_client_error();
    if (client.code() == absl::StatusCode::kUnavailable) {
      return internal::WithCode(
          internal::MakeStatus(msg->err, what,
                               absl::StrCat("no broker reachable (", client.message(),
                                            "); the record may or may not be in the log"),
                               true, false, false),
          absl::StatusCode::kUnavailable);
    }
    return StatusFromErr(msg->err, what, "the record may or may not be in the log");
  }
  return StatusFromErr(msg->err, what);
}

}  // namespace

class Producer::Impl : public internal::ClientContext {
 public:
  explicit Impl(ProducerOptions options)
      : ClientContext(options.client.logger), options_(std::move(options)) {}

  ~Impl() override {
    if (handle_ == nullptr) return;
    rd_kafka_t* rk = handle_.get();
    rd_kafka_flush(rk, internal::TimeoutMs(options_.delivery_timeout + absl::Seconds(1)));
    // Whatever is still queued fails with _PURGE_*, so every callback runs.
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk, 1000);
    poller_.reset();
    handle_.reset();
  }

  absl::Status Init() {
    std::vector<std::pair<std::string, std::string>> role = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        // The Java client's partitioner, so every client maps a key to the
        // same partition.
        {"partitioner", "murmur2_random"},
        {"compression.type", options_.compression},
        {"message.timeout.ms",
         std::to_string(internal::TimeoutMs(options_.delivery_timeout))},
        {"linger.ms", std::to_string(internal::TimeoutMs(options_.linger))},
    };
    auto conf = internal::BuildConf(options_.client, role, this);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &Impl::DeliveryReport);
    auto handle = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
    if (!handle.ok()) return handle.status();
    handle_ = std::move(*handle);
    poller_ = std::make_unique<internal::Poller>(handle_.get());
    return absl::OkStatus();
  }

  absl::Status AppendAsync(const Record& record, DeliveryCallback done) {
    auto* cb = new DeliveryCallback(std::move(done));
    rd_kafka_resp_err_t err = internal::Produce(handle_.get(), record, cb);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      delete cb;
      if (err == RD_KAFKA_RESP_ERR__FATAL) return internal::FatalErrorOf(handle_.get());
      return StatusFromErr(err, absl::StrCat("append to ", record.topic));
    }
    return absl::OkStatus();
  }

  std::vector<absl::StatusOr<TopicPartitionOffset>> AppendBatch(
      const std::vector<Record>& records) {
    struct Batch {
      absl::Mutex mu;
      size_t pending ABSL_GUARDED_BY(mu) = 0;
      std::vector<absl::StatusOr<TopicPartitionOffset>> results ABSL_GUARDED_BY(mu);
    };
    auto batch = std::make_shared<Batch>();
    {
      absl::MutexLock lock(&batch->mu);
      batch->results.assign(records.size(), absl::UnknownError("not delivered"));
    }
    for (size_t i = 0; i < records.size(); ++i) {
      {
        absl::MutexLock lock(&batch->mu);
        ++batch->pending;
      }
      absl::Status queued =
          AppendAsync(records[i], [batch, i](absl::StatusOr<TopicPartitionOffset> r) {
            absl::MutexLock lock(&batch->mu);
            batch->results[i] = std::move(r);
            --batch->pending;
          });
      if (queued.code() == absl::StatusCode::kResourceExhausted) {
        // Local queue full: wait for some acks and try once more.
        rd_kafka_flush(handle_.get(), 1000);
        queued = AppendAsync(records[i], [batch, i](absl::StatusOr<TopicPartitionOffset> r) {
          absl::MutexLock lock(&batch->mu);
          batch->results[i] = std::move(r);
          --batch->pending;
        });
      }
      if (!queued.ok()) {
        absl::MutexLock lock(&batch->mu);
        batch->results[i] = queued;
        --batch->pending;
      }
    }
    absl::MutexLock lock(&batch->mu);
    auto all_done = [&batch]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(batch->mu) {
      return batch->pending == 0;
    };
    batch->mu.Await(absl::Condition(&all_done));
    return batch->results;
  }

  absl::Status Flush(absl::Duration timeout) {
    return StatusFromErr(rd_kafka_flush(handle_.get(), internal::TimeoutMs(timeout)),
                         "flush producer");
  }

  absl::Status FatalError() const { return internal::FatalErrorOf(handle_.get()); }

 private:
  static void DeliveryReport(rd_kafka_t* rk, const rd_kafka_message_t* msg,
                             void* opaque) {
    auto* self = static_cast<Impl*>(static_cast<internal::ClientContext*>(opaque));
    std::unique_ptr<DeliveryCallback> cb(static_cast<DeliveryCallback*>(msg->_private));
    absl::StatusOr<TopicPartitionOffset> result;
    if (msg->err == RD_KAFKA_RESP_ERR__FATAL) {
      result = internal::FatalErrorOf(rk);
    } else {
      result = DeliveryResult(msg, *self);
      if (result.ok()) self->set_last_client_error(absl::OkStatus());
    }
    if (cb != nullptr && *cb) (*cb)(std::move(result));
  }

  ProducerOptions options_;
  internal::Handle handle_;
  std::unique_ptr<internal::Poller> poller_;
};

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(ProducerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::~Producer() = default;

absl::StatusOr<TopicPartitionOffset> Producer::Append(absl::string_view topic,
                                                      absl::string_view key,
                                                      absl::string_view value,
                                                      const Headers& headers) {
  return Append(Record{std::string(topic), std::string(key), std::string(value), headers});
}

absl::StatusOr<TopicPartitionOffset> Producer::Append(const Record& record) {
  std::vector<absl::StatusOr<TopicPartitionOffset>> r = impl_->AppendBatch({record});
  return std::move(r.front());
}

std::vector<absl::StatusOr<TopicPartitionOffset>> Producer::AppendBatch(
    const std::vector<Record>& records) {
  return impl_->AppendBatch(records);
}

absl::Status Producer::AppendAsync(const Record& record, DeliveryCallback done) {
  return impl_->AppendAsync(record, std::move(done));
}

absl::Status Producer::Flush(absl::Duration timeout) { return impl_->Flush(timeout); }

absl::Status Producer::FatalError() const { return impl_->FatalError(); }

}  // namespace mutualaid::kafka

namespace mutualaid::kafka {

int32_t PartitionOf(std::string_view key, int32_t partitions) {
  // The same function the producers' "murmur2_random" partitioner calls for a
  // non-empty key; it does not use the topic handle.
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

}  // namespace mutualaid::kafka

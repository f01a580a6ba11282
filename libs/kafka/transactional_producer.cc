#include "mutualaid/kafka/transactional_producer.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "internal.h"
#include "mutualaid/kafka/error.h"

namespace mutualaid::kafka {

using internal::StatusFromErr;
using internal::StatusFromError;

class TransactionalProducer::Impl : public internal::ClientContext {
 public:
  explicit Impl(TransactionalProducerOptions options)
      : ClientContext(options.client.logger), options_(std::move(options)) {}

  ~Impl() override {
    if (handle_ == nullptr) return;
    if (in_transaction_) {
      // Best effort: an open transaction would otherwise hold back the last
      // stable offset until the broker's transaction timeout.
      (void)StatusFromError(rd_kafka_abort_transaction(handle_.get(), 5000),
                            "abort transaction on close");
    }
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(handle_.get(), 1000);
    poller_.reset();
    handle_.reset();
  }

  absl::Status Init() {
    if (options_.transactional_id.empty()) {
      return absl::InvalidArgumentError("kafka transactional producer: empty transactional id");
    }
    std::vector<std::pair<std::string, std::string>> role = {
        {"transactional.id", options_.transactional_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"partitioner", "murmur2_random"},
        {"compression.type", options_.compression},
        {"linger.ms", std::to_string(internal::TimeoutMs(options_.linger))},
        {"transaction.timeout.ms",
         std::to_string(internal::TimeoutMs(options_.transaction_timeout))},
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

  rd_kafka_t* rk() const { return handle_.get(); }

  absl::Status Track(absl::Status s) {
    if (IsFenced(s)) {
      logger().Error("kafka producer fenced: another instance took over",
                     {{"transactional_id", options_.transactional_id}, {"status", s}});
    }
    return s;
  }

  absl::Status InitTransactions(absl::Duration timeout) {
    return Track(StatusFromError(
        rd_kafka_init_transactions(rk(), internal::TimeoutMs(timeout)), "init transactions"));
  }

  absl::Status Begin() {
    absl::Status s = Track(StatusFromError(rd_kafka_begin_transaction(rk()), "begin transaction"));
    if (s.ok()) {
      in_transaction_ = true;
      absl::MutexLock l(&delivered_mu_);
      sent_ = 0;
      reported_ = 0;
      delivered_.clear();
    }
    return s;
  }

  absl::Status Send(const Record& record) {
    rd_kafka_resp_err_t err = internal::Produce(rk(), record, nullptr);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk(), 100);
      err = internal::Produce(rk(), record, nullptr);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      absl::MutexLock l(&delivered_mu_);
      ++sent_;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) return Track(internal::FatalErrorOf(rk()));
    if (err == RD_KAFKA_RESP_ERR__STATE) {
      // Produce outside a transaction, or the transaction is in an abortable
      // error state: report the transaction's own error when there is one.
      absl::Status fatal = internal::FatalErrorOf(rk());
      if (!fatal.ok()) return Track(fatal);
    }
    return StatusFromErr(err, absl::StrCat("send to ", record.topic));
  }

  absl::Status SendOffsets(rd_kafka_t* consumer,
                           const std::vector<TopicPartitionOffset>& offsets,
                           absl::Duration timeout) {
    rd_kafka_consumer_group_metadata_t* meta = rd_kafka_consumer_group_metadata(consumer);
    if (meta == nullptr) {
      return absl::FailedPreconditionError("send offsets: consumer has no group metadata");
    }
    internal::PartitionList list = internal::ToPartitionList(offsets);
    absl::Status s = StatusFromError(
        rd_kafka_send_offsets_to_transaction(rk(), list.get(), meta,
                                             internal::TimeoutMs(timeout)),
        "send offsets to transaction");
    rd_kafka_consumer_group_metadata_destroy(meta);
    return Track(s);
  }

  absl::Status Commit(absl::Duration timeout) {
    absl::Status s = Track(StatusFromError(
        rd_kafka_commit_transaction(rk(), internal::TimeoutMs(timeout)), "commit transaction"));
    // Retriable: still open, commit again. Requires abort: still open until
    // AbortTransaction. Fatal: nothing left to abort.
    if (s.ok() || IsFatal(s)) in_transaction_ = false;
    return s;
  }

  absl::Status Abort(absl::Duration timeout) {
    absl::Status s = Track(StatusFromError(
        rd_kafka_abort_transaction(rk(), internal::TimeoutMs(timeout)), "abort transaction"));
    if (s.ok() || IsFatal(s)) in_transaction_ = false;
    return s;
  }

  int64_t failed_deliveries() const { return failed_deliveries_.load(); }

  absl::StatusOr<std::vector<TopicPartitionOffset>> TakeDelivered(absl::Duration timeout) {
    absl::MutexLock l(&delivered_mu_);
    // Commit flushed every record, but the delivery reports are served on the
    // poller thread: wait until each record sent has been reported.
    if (!delivered_mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Impl* self) { return self->reported_ >= self->sent_; }, this),
            timeout)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "delivery reports: ", reported_, " of ", sent_, " records reported"));
    }
    std::vector<TopicPartitionOffset> out;
    for (const auto& [tp, offset] : delivered_) out.push_back({tp.topic, tp.partition, offset});
    delivered_.clear();
    return out;
  }

 private:
  static void DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<Impl*>(static_cast<internal::ClientContext*>(opaque));
    {
      absl::MutexLock l(&self->delivered_mu_);
      ++self->reported_;
      if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR && msg->rkt != nullptr) {
        TopicPartition tp{rd_kafka_topic_name(msg->rkt), msg->partition};
        int64_t& last = self->delivered_[tp];
        last = std::max(last, static_cast<int64_t>(msg->offset));
      }
    }
    // Records purged by AbortTransaction were not meant to be delivered.
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR || msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      return;
    }
    self->failed_deliveries_.fetch_add(1);
    // The transaction is now abortable; CommitTransaction will say so.
    self->logger().Warning(
        "kafka transactional record not delivered",
        {{"transactional_id", self->options_.transactional_id},
         {"topic", msg->rkt != nullptr ? rd_kafka_topic_name(msg->rkt) : ""},
         {"error", rd_kafka_err2name(msg->err)}});
  }

  TransactionalProducerOptions options_;
  internal::Handle handle_;
  std::unique_ptr<internal::Poller> poller_;
  bool in_transaction_ = false;
  std::atomic<int64_t> failed_deliveries_{0};
  // Where the current transaction's records landed (highest offset per
  // partition), for TakeDelivered.
  absl::Mutex delivered_mu_;
  int64_t sent_ ABSL_GUARDED_BY(delivered_mu_) = 0;
  int64_t reported_ ABSL_GUARDED_BY(delivered_mu_) = 0;
  std::map<TopicPartition, int64_t> delivered_ ABSL_GUARDED_BY(delivered_mu_);
};

absl::StatusOr<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    TransactionalProducerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<TransactionalProducer>(new TransactionalProducer(std::move(impl)));
}

TransactionalProducer::TransactionalProducer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
TransactionalProducer::~TransactionalProducer() = default;

absl::Status TransactionalProducer::InitTransactions(absl::Duration timeout) {
  return impl_->InitTransactions(timeout);
}
absl::Status TransactionalProducer::BeginTransaction() { return impl_->Begin(); }
absl::Status TransactionalProducer::Send(const Record& record) { return impl_->Send(record); }

absl::Status TransactionalProducer::SendOffsetsToTransaction(
    const Consumer& consumer, const std::vector<TopicPartitionOffset>& offsets,
    absl::Duration timeout) {
  return impl_->SendOffsets(internal::HandleOf(*consumer.impl_), offsets, timeout);
}

absl::Status TransactionalProducer::CommitTransaction(absl::Duration timeout) {
  return impl_->Commit(timeout);
}
absl::Status TransactionalProducer::AbortTransaction(absl::Duration timeout) {
  return impl_->Abort(timeout);
}
int64_t TransactionalProducer::failed_deliveries() const { return impl_->failed_deliveries(); }
absl::StatusOr<std::vector<TopicPartitionOffset>> TransactionalProducer::TakeDelivered(
    absl::Duration timeout) {
  return impl_->TakeDelivered(timeout);
}

}  // namespace mutualaid::kafka

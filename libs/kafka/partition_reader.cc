#include "mutualaid/kafka/partition_reader.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "internal.h"
#include "mutualaid/kafka/error.h"

namespace mutualaid::kafka {

using internal::StatusFromErr;

class PartitionReader::Impl : public internal::ClientContext {
 public:
  Impl(const ClientConfig& client, std::string topic, int32_t partition)
      : ClientContext(client.logger), client_(client), topic_(std::move(topic)),
        partition_(partition) {}

  ~Impl() override {
    if (handle_ == nullptr) return;
    rd_kafka_assign(handle_.get(), nullptr);
    handle_.reset();
  }

  absl::Status Open(int64_t start_offset, absl::Duration timeout) {
    if (start_offset < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("partition reader: start offset ", start_offset, " < 0"));
    }
    std::vector<std::pair<std::string, std::string>> role = {
        // No group: nothing is committed, no rebalances. librdkafka wants a
        // group.id for any consumer handle; it is never used to join.
        {"group.id", absl::StrCat("mutualaid-reader-", client_.client_id)},
        {"isolation.level", "read_committed"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
        {"allow.auto.create.topics", "false"},
        {"fetch.wait.max.ms", "100"},
    };
    auto conf = internal::BuildConf(client_, role, this);
    if (!conf.ok()) return conf.status();
    auto handle = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
    if (!handle.ok()) return handle.status();
    handle_ = std::move(*handle);
    rd_kafka_poll_set_consumer(handle_.get());

    // The partition must exist: a replay of a missing topic is a mistake.
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        handle_.get(), topic_.c_str(), partition_, &low, &high, internal::TimeoutMs(timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return StatusFromErr(err, absl::StrCat("open ", topic_, "/", partition_));
    }
    internal::PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition_)->offset =
        start_offset;
    return StatusFromErr(rd_kafka_assign(handle_.get(), list.get()),
                         absl::StrCat("assign ", topic_, "/", partition_));
  }

  absl::StatusOr<std::optional<Message>> Next(absl::Duration timeout) {
    if (at_end_) return std::nullopt;
    internal::Deadline deadline(timeout);
    while (true) {
      rd_kafka_message_t* raw =
          rd_kafka_consumer_poll(handle_.get(), internal::TimeoutMs(deadline.Remaining()));
      if (raw == nullptr) {
        if (deadline.Expired()) {
          return absl::DeadlineExceededError(
              absl::StrCat("replay of ", topic_, "/", partition_, ": nothing within timeout"));
        }
        continue;
      }
      std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> msg(
          raw, &rd_kafka_message_destroy);
      if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) return internal::ToMessage(msg.get());
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end_ = true;
        return std::nullopt;
      }
      if (msg->err == RD_KAFKA_RESP_ERR__FATAL) return internal::FatalErrorOf(handle_.get());
      absl::Status s = StatusFromErr(msg->err, absl::StrCat("replay ", topic_, "/", partition_),
                                     rd_kafka_message_errstr(msg.get()));
      if (!IsRetriable(s)) return s;
      logger().Warning("kafka replay error, retrying",
                       {{"topic", topic_}, {"partition", partition_}, {"status", s}});
      if (deadline.Expired()) return s;
    }
  }

  bool at_end() const { return at_end_; }

 private:
  ClientConfig client_;
  std::string topic_;
  int32_t partition_;
  internal::Handle handle_;
  bool at_end_ = false;
};

absl::StatusOr<std::unique_ptr<PartitionReader>> PartitionReader::Open(
    const ClientConfig& client, absl::string_view topic, int32_t partition,
    int64_t start_offset, absl::Duration timeout) {
  auto impl = std::make_unique<Impl>(client, std::string(topic), partition);
  if (auto s = impl->Open(start_offset, timeout); !s.ok()) return s;
  return std::unique_ptr<PartitionReader>(new PartitionReader(std::move(impl)));
}

PartitionReader::PartitionReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PartitionReader::~PartitionReader() = default;

absl::StatusOr<std::optional<Message>> PartitionReader::Next(absl::Duration timeout) {
  return impl_->Next(timeout);
}

bool PartitionReader::at_end() const { return impl_->at_end(); }

}  // namespace mutualaid::kafka

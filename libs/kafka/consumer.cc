#include "mutualaid/kafka/consumer.h"

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "internal.h"

namespace mutualaid::kafka {

using internal::StatusFromErr;
using internal::StatusFromError;

class Consumer::Impl : public internal::ClientContext {
 public:
  explicit Impl(ConsumerOptions options)
      : ClientContext(options.client.logger), options_(std::move(options)) {}

  ~Impl() override {
    if (handle_ == nullptr) return;
    if (!closed_) (void)Close();
    handle_.reset();
  }

  absl::Status Init() {
    if (options_.group_id.empty()) {
      return absl::InvalidArgumentError("kafka consumer: empty group id");
    }
    int session_ms = internal::TimeoutMs(options_.session_timeout);
    std::vector<std::pair<std::string, std::string>> role = {
        {"group.id", options_.group_id},
        {"isolation.level", "read_committed"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"partition.assignment.strategy",
         options_.co_partitioned ? "range" : "cooperative-sticky"},
        {"session.timeout.ms", std::to_string(session_ms)},
        {"heartbeat.interval.ms", std::to_string(std::max(100, std::min(3000, session_ms / 3)))},
        {"max.poll.interval.ms",
         std::to_string(internal::TimeoutMs(options_.max_poll_interval))},
        {"allow.auto.create.topics", "false"},
    };
    auto conf = internal::BuildConf(options_.client, role, this);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_rebalance_cb(conf->get(), &Impl::RebalanceCallback);
    auto handle = internal::NewHandle(RD_KAFKA_CONSUMER, std::move(*conf));
    if (!handle.ok()) return handle.status();
    handle_ = std::move(*handle);
    // Errors, logs and rebalances are all served by Poll.
    rd_kafka_poll_set_consumer(handle_.get());
    return absl::OkStatus();
  }

  rd_kafka_t* rk() const { return handle_.get(); }

  void Restash(absl::Status s) {
    if (pending_error_.ok()) pending_error_ = std::move(s);
  }

  absl::Status Subscribe(const std::vector<std::string>& topics) {
    internal::PartitionList list(
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const auto& t : topics) {
      rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    return StatusFromErr(rd_kafka_subscribe(rk(), list.get()),
                         absl::StrCat("subscribe to ", absl::StrJoin(topics, ",")));
  }

  absl::StatusOr<std::optional<Message>> Poll(absl::Duration timeout) {
    rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk(), internal::TimeoutMs(timeout));
    if (!pending_error_.ok()) {
      absl::Status s = std::move(pending_error_);
      pending_error_ = absl::OkStatus();
      if (raw != nullptr) rd_kafka_message_destroy(raw);
      return s;
    }
    if (raw == nullptr) return std::nullopt;
    std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> msg(
        raw, &rd_kafka_message_destroy);
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) return internal::ToMessage(msg.get());
    switch (msg->err) {
      case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        return std::nullopt;
      case RD_KAFKA_RESP_ERR__FATAL:
        return internal::FatalErrorOf(rk());
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        return StatusFromErr(msg->err, "consume",
                             msg->rkt != nullptr ? rd_kafka_topic_name(msg->rkt) : "");
      default:
        // Transient (broker down, leader moving): librdkafka retries.
        logger().Warning("kafka consumer error",
                         {{"group", options_.group_id},
                          {"error", rd_kafka_err2name(msg->err)},
                          {"reason", rd_kafka_message_errstr(msg.get())}});
        return std::nullopt;
    }
  }

  std::vector<PartitionLag> Lag() const {
    std::vector<PartitionLag> out;
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(rk(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
    internal::PartitionList list(raw);
    rd_kafka_position(rk(), list.get());
    for (int i = 0; i < list.get()->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = list.get()->elems[i];
      int64_t low = 0, high = 0;
      // Cached from fetch responses: no request to the broker.
      if (rd_kafka_get_watermark_offsets(rk(), tp.topic, tp.partition, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        continue;
      }
      const int64_t position = tp.offset >= 0 ? tp.offset : low;
      out.push_back({tp.topic, tp.partition, position, high, std::max<int64_t>(0, high - position)});
    }
    return out;
  }

  absl::StatusOr<std::vector<TopicPartition>> Assignment() const {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (auto s = StatusFromErr(rd_kafka_assignment(rk(), &raw), "assignment"); !s.ok()) {
      return s;
    }
    internal::PartitionList list(raw);
    std::vector<TopicPartition> out;
    for (const auto& o : internal::FromPartitionList(list.get())) {
      out.push_back({o.topic, o.partition});
    }
    return out;
  }

  absl::Status CommitOffsets(const std::vector<TopicPartitionOffset>& offsets) {
    if (offsets.empty()) return absl::OkStatus();
    internal::PartitionList list = internal::ToPartitionList(offsets);
    if (auto s = StatusFromErr(rd_kafka_commit(rk(), list.get(), /*async=*/0), "commit offsets");
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return StatusFromErr(list->elems[i].err,
                             absl::StrCat("commit offset ", list->elems[i].topic, "/",
                                          list->elems[i].partition));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions, absl::Duration timeout) const {
    internal::PartitionList list =
        internal::ToPartitionList(partitions, RD_KAFKA_OFFSET_INVALID);
    if (auto s = StatusFromErr(
            rd_kafka_committed(rk(), list.get(), internal::TimeoutMs(timeout)),
            "committed offsets");
        !s.ok()) {
      return s;
    }
    return internal::FromPartitionList(list.get());
  }

  absl::Status Seek(const std::vector<TopicPartitionOffset>& offsets, absl::Duration timeout) {
    if (offsets.empty()) return absl::OkStatus();
    internal::PartitionList list = internal::ToPartitionList(offsets);
    if (auto s = StatusFromError(
            rd_kafka_seek_partitions(rk(), list.get(), internal::TimeoutMs(timeout)),
            "seek");
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return StatusFromErr(list->elems[i].err,
                             absl::StrCat("seek ", list->elems[i].topic, "/",
                                          list->elems[i].partition));
      }
    }
    return absl::OkStatus();
  }

  absl::Status RewindToCommitted(absl::Duration timeout) {
    internal::Deadline deadline(timeout);
    auto assigned = Assignment();
    if (!assigned.ok()) return assigned.status();
    if (assigned->empty()) return absl::OkStatus();
    auto committed = Committed(*assigned, deadline.Remaining());
    if (!committed.ok()) return committed.status();
    for (auto& o : *committed) {
      if (o.offset >= 0) continue;
      // Nothing committed yet: back to where the partition was started.
      auto it = start_offsets_.find(TopicPartition{o.topic, o.partition});
      o.offset = it != start_offsets_.end() && it->second != kCommittedOffset
                     ? it->second
                     : kBeginningOffset;
    }
    return Seek(*committed, deadline.Remaining());
  }

  absl::Status Close() {
    if (closed_) return absl::OkStatus();
    closed_ = true;
    absl::Status s = StatusFromErr(rd_kafka_consumer_close(rk()), "close consumer");
    if (s.ok() && !pending_error_.ok()) s = std::move(pending_error_);
    return s;
  }

 private:
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(static_cast<internal::ClientContext*>(opaque));
    self->Rebalance(rk, err, parts);
  }

  void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    std::vector<TopicPartition> tps;
    for (const auto& o : internal::FromPartitionList(parts)) tps.push_back({o.topic, o.partition});

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::vector<PartitionStart> starts;
      for (const auto& tp : tps) starts.push_back({tp.topic, tp.partition, kCommittedOffset});
      // Cooperative rebalances also hand out empty increments: no news for
      // the owner.
      absl::Status s = options_.rebalance_handler != nullptr && !starts.empty()
                           ? options_.rebalance_handler->OnAssigned(starts)
                           : absl::OkStatus();
      if (!s.ok()) {
        // Leave them unassigned; Poll hands the failure to the owner, who
        // should Close (the group then gives the partitions to others).
        pending_error_ = s;
        return;
      }
      if (starts.size() != tps.size()) {
        pending_error_ = absl::InternalError("RebalanceHandler::OnAssigned resized partitions");
        return;
      }
      for (int i = 0; i < parts->cnt; ++i) {
        parts->elems[i].offset = starts[i].offset;
        start_offsets_[tps[i]] = starts[i].offset;
      }
      absl::Status a = cooperative
                           ? StatusFromError(rd_kafka_incremental_assign(rk, parts),
                                             "incremental assign")
                           : StatusFromErr(rd_kafka_assign(rk, parts), "assign");
      if (!a.ok()) pending_error_ = a;
      logger().Info("kafka partitions assigned",
                    {{"group", options_.group_id}, {"count", parts->cnt}});
      return;
    }

    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      bool lost = rd_kafka_assignment_lost(rk) != 0;
      if (options_.rebalance_handler != nullptr && !tps.empty()) {
        options_.rebalance_handler->OnRevoked(tps, lost);
      }
      for (const auto& tp : tps) start_offsets_.erase(tp);
      absl::Status a = cooperative
                           ? StatusFromError(rd_kafka_incremental_unassign(rk, parts),
                                             "incremental unassign")
                           : StatusFromErr(rd_kafka_assign(rk, nullptr), "unassign");
      if (!a.ok() && pending_error_.ok()) pending_error_ = a;
      logger().Info("kafka partitions revoked",
                    {{"group", options_.group_id}, {"count", parts->cnt}, {"lost", lost}});
      return;
    }

    // Any other error: drop the whole assignment, as librdkafka asks.
    logger().Warning("kafka rebalance error",
                     {{"group", options_.group_id}, {"error", rd_kafka_err2name(err)}});
    start_offsets_.clear();
    if (cooperative) {
      rd_kafka_topic_partition_list_t* current = nullptr;
      if (rd_kafka_assignment(rk, &current) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        internal::PartitionList list(current);
        (void)StatusFromError(rd_kafka_incremental_unassign(rk, list.get()), "unassign");
      }
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  ConsumerOptions options_;
  internal::Handle handle_;
  bool closed_ = false;
  absl::Status pending_error_;
  std::map<TopicPartition, int64_t> start_offsets_;
};

namespace internal {
rd_kafka_t* HandleOf(const Consumer::Impl& consumer) { return consumer.rk(); }
}  // namespace internal

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(ConsumerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Consumer::~Consumer() = default;

absl::Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  return impl_->Subscribe(topics);
}

absl::StatusOr<std::optional<Message>> Consumer::Poll(absl::Duration timeout) {
  return impl_->Poll(timeout);
}

absl::StatusOr<std::vector<Message>> Consumer::PollBatch(size_t max, absl::Duration timeout) {
  std::vector<Message> out;
  internal::Deadline deadline(timeout);
  while (out.size() < max) {
    // Once something arrived, take only what is already there.
    absl::Duration wait = out.empty() ? deadline.Remaining() : absl::ZeroDuration();
    auto m = impl_->Poll(wait);
    if (!m.ok()) {
      if (out.empty()) return m.status();
      impl_->Restash(m.status());  // hand over what we have; the error comes next
      break;
    }
    if (!m->has_value()) {
      if (!out.empty() || deadline.Expired()) break;
      continue;
    }
    out.push_back(std::move(**m));
  }
  return out;
}

absl::StatusOr<std::vector<TopicPartition>> Consumer::Assignment() const {
  return impl_->Assignment();
}

std::vector<PartitionLag> Consumer::Lag() const { return impl_->Lag(); }

absl::Status Consumer::CommitOffsets(const std::vector<TopicPartitionOffset>& offsets) {
  return impl_->CommitOffsets(offsets);
}

absl::StatusOr<std::vector<TopicPartitionOffset>> Consumer::Committed(
    const std::vector<TopicPartition>& partitions, absl::Duration timeout) const {
  return impl_->Committed(partitions, timeout);
}

absl::Status Consumer::Seek(const std::vector<TopicPartitionOffset>& offsets,
                            absl::Duration timeout) {
  return impl_->Seek(offsets, timeout);
}

absl::Status Consumer::RewindToCommitted(absl::Duration timeout) {
  return impl_->RewindToCommitted(timeout);
}

absl::Status Consumer::Close() { return impl_->Close(); }

}  // namespace mutualaid::kafka

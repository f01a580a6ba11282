#include "mutualaid/kafka/admin.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal.h"
#include "mutualaid/kafka/topics.h"

namespace mutualaid::kafka {

using internal::StatusFromErr;

TopicSpec TopicSpec::EventLog(std::string name, int32_t partitions) {
  TopicSpec spec;
  spec.name = std::move(name);
  spec.partitions = partitions;
  // The log is the truth: nothing is ever deleted by age or size.
  spec.config = {{"retention.ms", "-1"}, {"retention.bytes", "-1"}};
  return spec;
}

namespace {

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

struct TopicState {
  int32_t partitions = 0;
  bool all_led = true;  // every partition has a leader
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

}  // namespace

class Admin::Impl : public internal::ClientContext {
 public:
  explicit Impl(const ClientConfig& client) : ClientContext(client.logger), client_(client) {}

  ~Impl() override {
    queue_.reset();
    handle_.reset();
  }

  absl::Status Init() {
    auto conf = internal::BuildConf(client_, {}, this);
    if (!conf.ok()) return conf.status();
    auto handle = internal::NewHandle(RD_KAFKA_PRODUCER, std::move(*conf));
    if (!handle.ok()) return handle.status();
    handle_ = std::move(*handle);
    queue_.reset(rd_kafka_queue_new(handle_.get()));
    return absl::OkStatus();
  }

  rd_kafka_t* rk() const { return handle_.get(); }

  absl::StatusOr<std::map<std::string, TopicState>> Topics(absl::Duration timeout) {
    const rd_kafka_metadata_t* raw = nullptr;
    absl::MutexLock lock(&mu_);  // one request at a time is plenty
    if (auto s = StatusFromErr(
            rd_kafka_metadata(rk(), /*all_topics=*/1, nullptr, &raw, internal::TimeoutMs(timeout)),
            "read cluster metadata");
        !s.ok()) {
      return s;
    }
    Metadata md(raw);
    std::map<std::string, TopicState> out;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      TopicState st;
      st.err = t.err;
      st.partitions = t.partition_cnt;
      for (int p = 0; p < t.partition_cnt; ++p) {
        if (t.partitions[p].leader < 0 || t.partitions[p].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          st.all_led = false;
        }
      }
      out[t.topic] = st;
    }
    return out;
  }

  // Runs an admin request whose result arrives on queue_ as one event.
  absl::StatusOr<internal::Event> AwaitResult(rd_kafka_event_type_t type,
                                              absl::Duration timeout, absl::string_view what) {
    internal::Deadline deadline(timeout + absl::Seconds(5));
    while (true) {
      internal::Event ev(
          rd_kafka_queue_poll(queue_.get(), internal::TimeoutMs(deadline.Remaining())));
      if (ev == nullptr) {
        return absl::DeadlineExceededError(absl::StrCat(what, ": no answer in time"));
      }
      if (rd_kafka_event_type(ev.get()) != type) continue;  // stale result of a timed-out call
      if (auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return StatusFromErr(err, what, rd_kafka_event_error_string(ev.get()));
      }
      return ev;
    }
  }

  internal::Queue& queue() { return queue_; }
  absl::Mutex& admin_mu() { return admin_mu_; }

 private:
  ClientConfig client_;
  internal::Handle handle_;
  internal::Queue queue_;
  absl::Mutex mu_;
  absl::Mutex admin_mu_;  // serialises requests on queue_
};

absl::StatusOr<std::unique_ptr<Admin>> Admin::Create(const ClientConfig& client) {
  auto impl = std::make_unique<Impl>(client);
  if (auto s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Admin::~Admin() = default;

absl::Status Admin::EnsureTopics(const std::vector<TopicSpec>& topics, absl::Duration timeout) {
  internal::Deadline deadline(timeout);
  auto existing = impl_->Topics(deadline.Remaining());
  if (!existing.ok()) return existing.status();

  std::vector<const TopicSpec*> missing;
  for (const TopicSpec& spec : topics) {
    auto it = existing->find(spec.name);
    if (it == existing->end() || it->second.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      missing.push_back(&spec);
    } else if (it->second.partitions != spec.partitions) {
      return absl::FailedPreconditionError(
          absl::StrCat("topic ", spec.name, " exists with ", it->second.partitions,
                       " partitions, want ", spec.partitions));
    }
  }

  if (!missing.empty()) {
    absl::MutexLock lock(&impl_->admin_mu());
    std::vector<rd_kafka_NewTopic_t*> new_topics;
    absl::Status build_status;
    char errstr[512];
    for (const TopicSpec* spec : missing) {
      rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(spec->name.c_str(), spec->partitions,
                                                      spec->replication_factor, errstr,
                                                      sizeof(errstr));
      if (nt == nullptr) {
        build_status = absl::InvalidArgumentError(absl::StrCat("topic ", spec->name, ": ", errstr));
        break;
      }
      new_topics.push_back(nt);
      for (const auto& [k, v] : spec->config) {
        if (auto err = rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
            err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          build_status = StatusFromErr(err, absl::StrCat("topic ", spec->name, " config ", k));
        }
      }
    }
    if (build_status.ok()) {
      rd_kafka_AdminOptions_t* opts =
          rd_kafka_AdminOptions_new(impl_->rk(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
      rd_kafka_AdminOptions_set_operation_timeout(
          opts, internal::TimeoutMs(deadline.Remaining()), errstr, sizeof(errstr));
      rd_kafka_AdminOptions_set_request_timeout(
          opts, internal::TimeoutMs(deadline.Remaining()), errstr, sizeof(errstr));
      rd_kafka_CreateTopics(impl_->rk(), new_topics.data(), new_topics.size(), opts,
                            impl_->queue().get());
      rd_kafka_AdminOptions_destroy(opts);
      auto ev = impl_->AwaitResult(RD_KAFKA_EVENT_CREATETOPICS_RESULT, deadline.Remaining(),
                                   "create topics");
      if (!ev.ok()) {
        build_status = ev.status();
      } else {
        size_t n = 0;
        const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev->get()), &n);
        for (size_t i = 0; i < n && build_status.ok(); ++i) {
          auto err = rd_kafka_topic_result_error(results[i]);
          if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            continue;  // someone else may have created it meanwhile: fine
          }
          const char* detail = rd_kafka_topic_result_error_string(results[i]);
          build_status = StatusFromErr(
              err, absl::StrCat("create topic ", rd_kafka_topic_result_name(results[i])),
              detail != nullptr ? detail : "");
        }
      }
    }
    rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
    if (!build_status.ok()) return build_status;
  }

  // Wait until every topic is visible with a leader for each partition, so a
  // producer or consumer started right after does not see it missing.
  while (true) {
    auto now = impl_->Topics(deadline.Remaining());
    if (!now.ok()) return now.status();
    bool ready = true;
    for (const TopicSpec& spec : topics) {
      auto it = now->find(spec.name);
      if (it == now->end() || it->second.err != RD_KAFKA_RESP_ERR_NO_ERROR ||
          it->second.partitions != spec.partitions || !it->second.all_led) {
        ready = false;
        break;
      }
    }
    if (ready) return absl::OkStatus();
    if (deadline.Expired()) {
      return absl::DeadlineExceededError("topics created but not all partitions have a leader");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

absl::StatusOr<std::vector<std::string>> Admin::ListTopics(absl::Duration timeout) {
  auto topics = impl_->Topics(timeout);
  if (!topics.ok()) return topics.status();
  std::vector<std::string> out;
  for (const auto& [name, st] : *topics) {
    if (!absl::StartsWith(name, "__") && st.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back(name);
    }
  }
  return out;
}

absl::StatusOr<TopicDescription> Admin::DescribeTopic(absl::string_view topic,
                                                      absl::Duration timeout) {
  internal::Deadline deadline(timeout);
  auto topics = impl_->Topics(deadline.Remaining());
  if (!topics.ok()) return topics.status();
  auto it = topics->find(std::string(topic));
  if (it == topics->end() || it->second.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return absl::NotFoundError(absl::StrCat("topic ", topic, " does not exist"));
  }
  TopicDescription d;
  d.name = std::string(topic);
  d.partitions = it->second.partitions;

  absl::MutexLock lock(&impl_->admin_mu());
  rd_kafka_ConfigResource_t* res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, d.name.c_str());
  char errstr[512];
  rd_kafka_AdminOptions_t* opts =
      rd_kafka_AdminOptions_new(impl_->rk(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_AdminOptions_set_request_timeout(opts, internal::TimeoutMs(deadline.Remaining()),
                                            errstr, sizeof(errstr));
  rd_kafka_DescribeConfigs(impl_->rk(), &res, 1, opts, impl_->queue().get());
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_ConfigResource_destroy(res);
  auto ev = impl_->AwaitResult(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, deadline.Remaining(),
                               absl::StrCat("describe topic ", topic));
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_ConfigResource_error(resources[i]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return StatusFromErr(err, absl::StrCat("describe topic ", topic),
                           rd_kafka_ConfigResource_error_string(resources[i]));
    }
    size_t m = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &m);
    for (size_t j = 0; j < m; ++j) {
      if (rd_kafka_ConfigEntry_source(entries[j]) !=
          RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) {
        continue;
      }
      const char* value = rd_kafka_ConfigEntry_value(entries[j]);
      d.config[rd_kafka_ConfigEntry_name(entries[j])] = value != nullptr ? value : "";
    }
  }
  return d;
}

absl::Status Admin::DeleteTopics(const std::vector<std::string>& topics,
                                 absl::Duration timeout) {
  if (topics.empty()) return absl::OkStatus();
  absl::MutexLock lock(&impl_->admin_mu());
  std::vector<rd_kafka_DeleteTopic_t*> dels;
  for (const auto& t : topics) dels.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  char errstr[512];
  rd_kafka_AdminOptions_t* opts =
      rd_kafka_AdminOptions_new(impl_->rk(), RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, internal::TimeoutMs(timeout), errstr,
                                              sizeof(errstr));
  rd_kafka_DeleteTopics(impl_->rk(), dels.data(), dels.size(), opts, impl_->queue().get());
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_DeleteTopic_destroy_array(dels.data(), dels.size());
  auto ev = impl_->AwaitResult(RD_KAFKA_EVENT_DELETETOPICS_RESULT, timeout, "delete topics");
  if (!ev.ok()) return ev.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      continue;
    }
    return StatusFromErr(err, absl::StrCat("delete topic ", rd_kafka_topic_result_name(results[i])));
  }
  return absl::OkStatus();
}

absl::StatusOr<Watermarks> Admin::QueryWatermarks(absl::string_view topic, int32_t partition,
                                                  absl::Duration timeout) {
  Watermarks w;
  std::string t(topic);
  // librdkafka asks with its isolation.level, read_committed by default: the
  // high mark is the last stable offset.
  if (auto s = StatusFromErr(rd_kafka_query_watermark_offsets(impl_->rk(), t.c_str(), partition,
                                                             &w.low, &w.high,
                                                             internal::TimeoutMs(timeout)),
                             absl::StrCat("watermarks of ", t, "/", partition));
      !s.ok()) {
    return s;
  }
  return w;
}

absl::Status EnsureSystemTopics(Admin& admin, int32_t partitions, absl::Duration timeout) {
  std::vector<TopicSpec> specs;
  for (absl::string_view name : kAllTopics) {
    specs.push_back(TopicSpec::EventLog(std::string(name), partitions));
  }
  return admin.EnsureTopics(specs, timeout);
}

}  // namespace mutualaid::kafka

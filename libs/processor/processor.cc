#include "mutualaid/processor/processor.h"

#include <chrono>
#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/log.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/consumer.h"
#include "mutualaid/kafka/error.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/transactional_producer.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/processor/replay.h"

namespace mutualaid::processor {
namespace {

// Catch-up and replay write to the store every this many events.
constexpr int kApplyBatch = 2000;
// How often input event topics are brought up to date between batches.
constexpr auto kInputRefresh = std::chrono::milliseconds(200);
// How long a poll waits while a transaction is in flight (the batch it fills
// goes as soon as that transaction is done).
constexpr absl::Duration kInFlightPoll = absl::Milliseconds(2);

kafka::Record DeadLetter(const ProcessorOptions& o, const kafka::Message& m,
                         const absl::Status& why) {
  kafka::Record r;
  r.topic = o.dead_letter_topic;
  r.key = m.key;
  r.value = m.value;
  r.headers = m.headers;
  r.headers.push_back({kDeadLetterReasonHeader, std::string(why.message())});
  r.headers.push_back(
      {kDeadLetterSourceHeader, absl::StrCat(m.topic, "/", m.partition, "/", m.offset)});
  r.headers.push_back({kDeadLetterConsumerHeader, o.group_id});
  return r;
}

}  // namespace

class Processor::Impl : public kafka::RebalanceHandler {
 public:
  Impl(ProcessorOptions options, Logic* logic, store::StateStore* store)
      : o_(std::move(options)),
        logic_(logic),
        store_(store),
        own_log_(o_.logger == nullptr ? std::make_unique<Logger>(o_.name) : nullptr),
        log_(o_.logger != nullptr ? *o_.logger : *own_log_) {}

  absl::Status Run(const std::atomic<bool>& stop) {
    kafka::ConsumerOptions co;
    co.client = o_.client;
    co.group_id = o_.group_id;
    co.rebalance_handler = this;
    co.co_partitioned = !o_.extra_request_topics.empty();
    absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer = kafka::Consumer::Create(co);
    if (!consumer.ok()) return consumer.status();
    consumer_ = std::move(*consumer);
    if (absl::Status s = EnsureProducer(); !s.ok()) return s;
    std::vector<std::string> subscription = {o_.requests_topic};
    subscription.insert(subscription.end(), o_.extra_request_topics.begin(),
                        o_.extra_request_topics.end());
    if (absl::Status s = consumer_->Subscribe(subscription); !s.ok()) return s;
    log_.Info("processor running", {{"group", o_.group_id}, {"requests", o_.requests_topic},
                                    {"events", o_.events_topic}});

    absl::Status result = Loop(stop);
    // Let the transaction in flight finish (its requests are answered); a
    // batch decided but not yet in a transaction is dropped: nothing of it
    // was committed, the next owner decides it again.
    absl::Status settled = Settle();
    if (result.ok()) result = settled;
    next_.reset();
    if (result.ok()) result = fatal_;
    absl::Status closed = consumer_->Close();
    if (result.ok()) result = fatal_;  // a commit that failed while revoking
    consumer_.reset();
    producer_.reset();
    if (result.ok() && !closed.ok()) result = closed;
    ProcessorStats st = stats();
    log_.Info("processor stopped",
              {{"status", result},
               {"requests", st.requests},
               {"batches", st.batches},
               {"aborts", st.aborts},
               {"poll_s", absl::StrFormat("%.2f", st.poll_seconds)},
               {"refresh_s", absl::StrFormat("%.2f", st.refresh_seconds)},
               {"decide_s", absl::StrFormat("%.2f", st.decide_seconds)},
               {"wait_s", absl::StrFormat("%.2f", st.wait_seconds)},
               {"transaction_s", absl::StrFormat("%.2f", st.transaction_seconds)},
               {"store_s", absl::StrFormat("%.2f", st.store_seconds)}});
    return result;
  }

  absl::Status Loop(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      if (!fatal_.ok()) return fatal_;
      if (next_ == nullptr) {
        // Between batches: bring the input event topics up to date.
        Phase refresh(this, &ProcessorStats::refresh_seconds);
        if (absl::Status s = RefreshInputs(/*force=*/false); !s.ok()) return s;
      }
      if (absl::Status s = RewindIfAborted(); !s.ok()) return s;
      UpdateLag();
      // Fill the next batch: while a transaction is in flight, poll briefly
      // and often, so the batch goes as soon as that transaction is done.
      const size_t have = next_ == nullptr ? 0 : static_cast<size_t>(next_->delta.requests);
      absl::StatusOr<std::vector<kafka::Message>> polled;
      {
        Phase poll(this, &ProcessorStats::poll_seconds);
        polled = consumer_->PollBatch(o_.max_batch - have, inflight_ != nullptr
                                                              ? kInFlightPoll
                                                              : o_.poll_timeout);
      }
      if (!polled.ok()) return polled.status();
      if (!fatal_.ok()) return fatal_;
      if (rewind_) {
        // A rebalance or an aborted transaction while polling: what was
        // polled and decided since the last commit is read again.
        if (absl::Status s = RewindIfAborted(); !s.ok()) return s;
        continue;
      }
      if (!polled->empty()) {
        if (o_.input_barrier) {
          // The barrier may catch up on input topics: nothing in flight.
          if (absl::Status s = Settle(); !s.ok()) return s;
          if (rewind_) continue;
        }
        if (next_ == nullptr) {
          next_ = std::make_unique<Work>();
          next_->state = std::make_unique<State>(
              *store_, inflight_ != nullptr ? inflight_->state.get() : nullptr);
        }
        Phase decide(this, &ProcessorStats::decide_seconds);
        absl::StatusOr<bool> decided = Decide(*polled, *next_);
        if (!decided.ok()) return decided.status();
        if (!*decided) {
          // Upstream not current: the requests wait (nothing is in flight).
          next_.reset();
          if (absl::Status s = consumer_->RewindToCommitted(o_.kafka_timeout); !s.ok()) return s;
          continue;
        }
      }
      // Hand the batch over once the previous transaction is done (or the
      // batch is full).
      if (next_ != nullptr &&
          (inflight_ == nullptr || static_cast<size_t>(next_->delta.requests) >= o_.max_batch ||
           inflight_->done.wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
        if (absl::Status s = Settle(); !s.ok()) return s;
        if (rewind_) continue;
        Submit(std::move(next_));
        if (!o_.pipelined) {
          if (absl::Status s = Settle(); !s.ok()) return s;
        }
      }
      if (next_ == nullptr) {
        if (absl::Status s = RunTicks(); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  // --- rebalancing: catch up before deciding anything ---------------------
  absl::Status OnAssigned(std::vector<kafka::PartitionStart>& partitions) override {
    // Catching up writes the store: first let the transaction in flight
    // finish; the batch decided meanwhile is read again.
    if (absl::Status s = SettleAndDropNext(); !s.ok()) return s;
    // Partition p of every request topic comes together; its state is
    // caught up once.
    for (kafka::PartitionStart& p : partitions) {
      p.offset = kafka::kCommittedOffset;
      if (assigned_.count(p.partition) != 0) continue;
      for (const std::string& topic : StateTopics()) {
        if (absl::Status s = CatchUp(topic, p.partition); !s.ok()) return s;
      }
      assigned_.insert(p.partition);
      log_.Info("partition assigned", {{"partition", p.partition}});
    }
    return absl::OkStatus();
  }

  void OnRevoked(const std::vector<kafka::TopicPartition>& partitions, bool lost) override {
    // The last chance to commit what was decided for these partitions: the
    // transaction in flight finishes first (if the partitions are lost, the
    // group's new generation makes its offsets fail and it aborts). The
    // batch decided meanwhile may hold their requests: read again.
    if (absl::Status s = SettleAndDropNext(); !s.ok() && fatal_.ok()) fatal_ = s;
    for (const auto& p : partitions) {
      assigned_.erase(p.partition);
      log_.Info("partition revoked", {{"partition", p.partition}, {"lost", lost}});
    }
  }

  ProcessorStats stats() const {
    absl::MutexLock l(&mu_);
    return stats_;
  }

 private:
  std::vector<std::string> StateTopics() const {
    std::vector<std::string> topics = {o_.events_topic};
    topics.insert(topics.end(), o_.input_event_topics.begin(), o_.input_event_topics.end());
    return topics;
  }

  // Applies `topic`/`partition` from the store's applied offset to the end of
  // the log, writing state and offset together every kApplyBatch events.
  absl::Status CatchUp(const std::string& topic, int32_t partition) {
    absl::StatusOr<std::optional<int64_t>> applied = store_->AppliedOffset(topic, partition);
    if (!applied.ok()) return applied.status();
    int64_t start = applied->value_or(0);
    absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> reader =
        OpenReader(o_.client, topic, partition, start, o_.kafka_timeout);
    if (!reader.ok()) return reader.status();
    State state(*store_);
    int64_t pending = 0;
    int64_t next = start;
    auto flush = [&]() -> absl::Status {
      if (pending == 0) return absl::OkStatus();
      store::Batch batch = store_->NewBatch();
      state.MoveTo(batch);
      batch.SetAppliedOffset(topic, partition, next);
      if (absl::Status s = store_->Commit(batch); !s.ok()) return s;
      Count(&ProcessorStats::applied, pending);
      pending = 0;
      return absl::OkStatus();
    };
    while (true) {
      absl::StatusOr<std::optional<kafka::Message>> m = (*reader)->Next(o_.kafka_timeout);
      if (!m.ok()) return m.status();
      if (!m->has_value()) break;
      if (absl::Status s = ApplyOne(state, **m); !s.ok()) return s;
      next = (*m)->offset + 1;
      if (++pending >= kApplyBatch) {
        if (absl::Status s = flush(); !s.ok()) return s;
      }
    }
    return flush();
  }

  absl::Status ApplyOne(State& state, const kafka::Message& m) {
    FollowChain(state, m);
    absl::Status s = logic_->Apply(state, m);
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      Count(&ProcessorStats::skipped, 1);
      log_.Error("event skipped: cannot apply", {{"topic", m.topic},
                                                 {"partition", m.partition},
                                                 {"offset", m.offset},
                                                 {"reason", s.message()}});
      return absl::OkStatus();
    }
    return s;
  }

  // Other services' events for the assigned partitions (e.g. coverage for
  // claims). Throttled: each refresh reads every input partition's tail.
  absl::Status RefreshInputs(bool force) {
    if (o_.input_event_topics.empty()) return absl::OkStatus();
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_refresh_ < kInputRefresh) return absl::OkStatus();
    last_refresh_ = now;
    // Opening a reader costs a client and a connection: first ask (one
    // round trip on a long-lived admin client) whether the partition grew
    // since it was last read to its end.
    if (admin_ == nullptr) {
      absl::StatusOr<std::unique_ptr<kafka::Admin>> admin = kafka::Admin::Create(o_.client);
      if (!admin.ok()) return admin.status();
      admin_ = std::move(*admin);
    }
    for (int32_t p : assigned_) {
      for (const std::string& topic : o_.input_event_topics) {
        absl::StatusOr<kafka::Watermarks> wm = admin_->QueryWatermarks(topic, p);
        if (wm.ok()) {
          auto seen = input_end_.find({topic, p});
          if (seen != input_end_.end() && wm->high <= seen->second) continue;
        }
        // Catching up writes the store: the transaction in flight first.
        if (absl::Status s = Settle(); !s.ok()) return s;
        if (absl::Status s = CatchUp(topic, p); !s.ok()) return s;
        // Everything below this end is applied now (a transaction marker
        // may sit at the end: it holds nothing to apply).
        if (wm.ok()) input_end_[{topic, p}] = wm->high;
      }
    }
    return absl::OkStatus();
  }

  absl::Status EnsureProducer() {
    if (producer_ != nullptr) return absl::OkStatus();
    kafka::TransactionalProducerOptions po;
    po.client = o_.client;
    po.transactional_id = o_.transactional_id;
    absl::StatusOr<std::unique_ptr<kafka::TransactionalProducer>> p =
        kafka::TransactionalProducer::Create(po);
    if (!p.ok()) return p.status();
    absl::Status s;
    for (int attempt = 0; attempt < 10; ++attempt) {
      s = (*p)->InitTransactions(o_.kafka_timeout);
      if (s.ok() || !kafka::IsRetriable(s)) break;
      log_.Warning("init transactions: retrying", {{"status", s}});
    }
    if (!s.ok()) return s;
    producer_ = std::move(*p);
    return absl::OkStatus();
  }

  struct Delta {
    int64_t requests = 0, events = 0, dead = 0, ticks = 0;
  };

  // A batch decided and on its way into a transaction.
  struct Work {
    std::unique_ptr<State> state;
    std::vector<kafka::Record> records;
    std::map<std::pair<std::string, int32_t>, int64_t> next_offset;
    Delta delta;
    // Set by Submit: the commit thread's outcome.
    std::future<absl::Status> done;
    bool aborted = false;  // the transaction did not commit (set by Commit)
  };

  // Times a phase into stats_.*field.
  class Phase {
   public:
    Phase(Impl* impl, double ProcessorStats::*field)
        : impl_(impl), field_(field), start_(std::chrono::steady_clock::now()) {}
    ~Phase() {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      absl::MutexLock l(&impl_->mu_);
      impl_->stats_.*field_ += s;
    }

   private:
    Impl* impl_;
    double ProcessorStats::*field_;
    std::chrono::steady_clock::time_point start_;
  };

  // Decides `requests` into `work` on top of what it holds. false: the input
  // barrier said upstream is not current (the batch must wait).
  absl::StatusOr<bool> Decide(const std::vector<kafka::Message>& requests, Work& work) {
    State& state = *work.state;
    for (const kafka::Message& request : requests) {
      if (o_.input_barrier) {
        absl::StatusOr<bool> refresh = o_.input_barrier(request);
        if (!refresh.ok()) {
          log_.Warning("upstream not current; the batch waits", {{"status", refresh.status()}});
          return false;
        }
        for (const std::string& topic : o_.input_event_topics) {
          if (!*refresh) break;
          if (absl::Status s = CatchUp(topic, request.partition); !s.ok()) return s;
        }
      }
      std::vector<kafka::Record> out;
      absl::Status decided = logic_->Decide(state, request, &out);
      if (decided.code() == absl::StatusCode::kInvalidArgument) {
        out = {DeadLetter(o_, request, decided)};
        ++work.delta.dead;
        log_.Warning("request dead-lettered", {{"topic", request.topic},
                                               {"partition", request.partition},
                                               {"offset", request.offset},
                                               {"reason", decided.message()}});
      } else if (!decided.ok()) {
        return decided;
      }
      if (absl::Status s = ApplyOwn(state, request.partition, out, &work.delta); !s.ok()) return s;
      for (kafka::Record& r : out) work.records.push_back(std::move(r));
      work.next_offset[{request.topic, request.partition}] = request.offset + 1;
      ++work.delta.requests;
    }
    return true;
  }

  // Starts `work`'s transaction on the commit thread. Nothing may be in
  // flight.
  void Submit(std::unique_ptr<Work> work) {
    Work* w = work.get();
    inflight_ = std::move(work);
    w->done = std::async(std::launch::async, [this, w] { return Commit(*w); });
  }

  // Waits for the transaction in flight. OK: it committed (its state is in
  // RocksDB; the next batch stops reading through it) or it aborted (the
  // next batch is dropped and rewind_ set: the consumer goes back to the
  // committed offsets). An error: the processor must stop.
  absl::Status Settle() {
    if (inflight_ == nullptr) return absl::OkStatus();
    absl::Status s;
    {
      Phase wait(this, &ProcessorStats::wait_seconds);
      s = inflight_->done.get();
    }
    const bool aborted = inflight_->aborted;
    if (next_ != nullptr) {
      if (aborted || !s.ok()) {
        next_.reset();  // decided on top of a state that never was
      } else {
        next_->state->DropBase();
      }
    }
    inflight_.reset();
    if (!s.ok()) return s;
    if (aborted) rewind_ = true;
    return absl::OkStatus();
  }

  // For rebalances: settles, and drops the batch decided meanwhile.
  absl::Status SettleAndDropNext() {
    absl::Status s = Settle();
    if (next_ != nullptr) {
      next_.reset();
      rewind_ = true;
    }
    return s;
  }

  absl::Status RewindIfAborted() {
    if (!rewind_) return absl::OkStatus();
    rewind_ = false;
    next_.reset();
    return consumer_->RewindToCommitted(o_.kafka_timeout);
  }

  // Logic::Tick for every assigned partition, each in its own transaction.
  // Runs between batches, with nothing in flight.
  absl::Status RunTicks() {
    if (o_.tick_interval <= absl::ZeroDuration() || o_.clock == nullptr) return absl::OkStatus();
    auto now = std::chrono::steady_clock::now();
    if (now - last_tick_ < absl::ToChronoNanoseconds(o_.tick_interval)) return absl::OkStatus();
    last_tick_ = now;
    if (absl::Status s = Settle(); !s.ok()) return s;
    if (rewind_) return absl::OkStatus();
    for (int32_t p : assigned_) {
      auto work = std::make_unique<Work>();
      work->state = std::make_unique<State>(*store_);
      if (absl::Status s = logic_->Tick(*work->state, p, o_.clock->Now(), &work->records);
          !s.ok()) {
        return s;
      }
      if (work->records.empty()) continue;
      work->delta.ticks = 1;
      if (absl::Status s = ApplyOwn(*work->state, p, work->records, &work->delta); !s.ok()) {
        return s;
      }
      Submit(std::move(work));
      if (absl::Status s = Settle(); !s.ok()) return s;
      if (rewind_) return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  // Routes `out` (events to the events topic unless said otherwise, in
  // partition `partition`) and applies the service's own events to the
  // in-flight state, so what is decided next sees them.
  absl::Status ApplyOwn(State& state, int32_t partition, std::vector<kafka::Record>& out,
                        Delta* delta) {
    for (kafka::Record& r : out) {
      if (r.topic.empty()) r.topic = o_.events_topic;
      if (r.topic != o_.events_topic) continue;
      r.partition = partition;  // co-partitioned with what caused it
      if (absl::Status s = LinkRecord(state, r); !s.ok()) return s;
      kafka::Message as_event{r.topic, r.partition, -1, r.key, r.value, r.headers, {}};
      if (absl::Status s = logic_->Apply(state, as_event); !s.ok()) {
        return absl::InternalError(
            absl::StrCat("the service cannot apply its own event: ", s.message()));
      }
      ++delta->events;
    }
    return absl::OkStatus();
  }

  // After a failed transaction (on the commit thread): abort it or make a
  // new producer. The processor thread forgets the state and rewinds the
  // consumer (Settle). An error: stop (fenced: another instance with our
  // transactional id took over, we are a zombie).
  absl::Status Aborted(Work& work, const absl::Status& why) {
    work.aborted = true;
    if (kafka::IsFenced(why)) return why;
    if (kafka::IsFatal(why) || !kafka::RequiresAbort(why)) {
      producer_.reset();
      Count(&ProcessorStats::producer_restarts, 1);
      log_.Warning("producer recreated", {{"status", why}});
    } else {
      absl::Status a = producer_->AbortTransaction(o_.kafka_timeout);
      if (!a.ok()) {
        producer_.reset();
        Count(&ProcessorStats::producer_restarts, 1);
        log_.Warning("abort failed; producer recreated", {{"status", a}});
      }
      Count(&ProcessorStats::aborts, 1);
      log_.Warning("transaction aborted; redoing the batch", {{"status", why}});
    }
    return EnsureProducer();
  }

  // On the commit thread. One Kafka transaction: the work's records and
  // consumed offsets; then its state and where the events landed, in one
  // RocksDB batch. The state is only read (a batch decided on top of it may
  // be reading it too).
  absl::Status Commit(Work& work) {
    if (absl::Status s = EnsureProducer(); !s.ok()) return s;
    std::vector<kafka::TopicPartitionOffset> offsets;
    for (const auto& [tp, next] : work.next_offset) offsets.push_back({tp.first, tp.second, next});
    {
      Phase transaction(this, &ProcessorStats::transaction_seconds);
      if (absl::Status s = producer_->BeginTransaction(); !s.ok()) return Aborted(work, s);
      for (const kafka::Record& r : work.records) {
        if (absl::Status s = producer_->Send(r); !s.ok()) return Aborted(work, s);
      }
      if (!offsets.empty()) {
        // Thread-safe on the consumer: librdkafka asks its group thread.
        if (absl::Status s =
                producer_->SendOffsetsToTransaction(*consumer_, offsets, o_.kafka_timeout);
            !s.ok()) {
          return Aborted(work, s);
        }
      }
      absl::Status committed;
      for (int attempt = 0;; ++attempt) {
        committed = producer_->CommitTransaction(o_.kafka_timeout);
        if (committed.ok() || !kafka::IsRetriable(committed) || attempt >= 10) break;
      }
      if (!committed.ok()) return Aborted(work, committed);
    }

    // Committed: the events are in the log. If the delivery reports do not
    // come, stop without writing: the next start applies the committed
    // events from the log instead.
    Phase store(this, &ProcessorStats::store_seconds);
    absl::StatusOr<std::vector<kafka::TopicPartitionOffset>> delivered =
        producer_->TakeDelivered(o_.kafka_timeout);
    if (!delivered.ok()) return delivered.status();
    store::Batch write = store_->NewBatch();
    work.state->CopyTo(write);
    for (const kafka::TopicPartitionOffset& d : *delivered) {
      if (d.topic == o_.events_topic) write.SetAppliedOffset(d.topic, d.partition, d.offset + 1);
    }
    if (absl::Status s = store_->Commit(write); !s.ok()) return s;
    {
      absl::MutexLock l(&mu_);
      stats_.requests += work.delta.requests;
      stats_.events += work.delta.events;
      stats_.applied += work.delta.events;
      stats_.dead_lettered += work.delta.dead;
      stats_.ticks += work.delta.ticks;
      stats_.batches += 1;
    }
    if (o_.on_committed) {
      std::vector<kafka::Record> answered;
      for (const kafka::Record& r : work.records) {
        if (r.topic == o_.events_topic) answered.push_back(r);
      }
      if (!answered.empty()) o_.on_committed(answered);
    }
    return absl::OkStatus();
  }

  void UpdateLag() {
    std::vector<kafka::PartitionLag> lag = consumer_->Lag();
    int64_t total = 0;
    for (const auto& l : lag) total += l.lag;
    absl::MutexLock l(&mu_);
    stats_.lag = total;
    stats_.lag_by_partition = std::move(lag);
  }

  void Count(int64_t ProcessorStats::*field, int64_t n) {
    absl::MutexLock l(&mu_);
    stats_.*field += n;
  }

  ProcessorOptions o_;
  Logic* logic_;
  store::StateStore* store_;
  std::unique_ptr<Logger> own_log_;
  const Logger& log_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::TransactionalProducer> producer_;  // the commit thread's while one runs
  // The batch whose transaction runs on the commit thread, and the batch
  // being decided on top of it.
  std::unique_ptr<Work> inflight_;
  std::unique_ptr<Work> next_;
  // A transaction aborted or a rebalance dropped the decided batch: the
  // consumer goes back to the committed offsets.
  bool rewind_ = false;
  // A commit that failed where no status can be returned (OnRevoked).
  absl::Status fatal_;
  std::set<int32_t> assigned_;
  std::chrono::steady_clock::time_point last_refresh_{};
  std::unique_ptr<kafka::Admin> admin_;
  // Per input partition: the end (last stable offset) it was read to.
  std::map<std::pair<std::string, int32_t>, int64_t> input_end_;
  std::chrono::steady_clock::time_point last_tick_{};
  mutable absl::Mutex mu_;
  ProcessorStats stats_;
};

absl::StatusOr<std::unique_ptr<Processor>> Processor::Create(ProcessorOptions options, Logic* logic,
                                                             store::StateStore* store) {
  if (logic == nullptr || store == nullptr) {
    return absl::InvalidArgumentError("processor: logic and store are required");
  }
  if (options.name.empty() || options.requests_topic.empty() || options.events_topic.empty()) {
    return absl::InvalidArgumentError("processor: name, requests_topic and events_topic are required");
  }
  if (options.group_id.empty()) options.group_id = absl::StrCat("mutualaid.", options.name);
  if (options.transactional_id.empty()) options.transactional_id = absl::StrCat(options.name, "-0");
  return std::unique_ptr<Processor>(
      new Processor(std::make_unique<Impl>(std::move(options), logic, store)));
}

Processor::Processor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Processor::~Processor() = default;
absl::Status Processor::Run(const std::atomic<bool>& stop) { return impl_->Run(stop); }
ProcessorStats Processor::stats() const { return impl_->stats(); }

}  // namespace mutualaid::processor

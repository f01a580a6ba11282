#include "shadow.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/processor/chain.h"
#include "mutualaid/processor/state.h"
#include "mutualaid/store/state_store.h"
#include "services/claims/claims_logic.h"

namespace mutualaid::mutualctl::ops {
namespace {

struct Event {
  kafka::Message message;
  v1::Envelope envelope;
  int source = 0;  // 0 enrollment events, 1 claims events (ties: enrollment first)
};

std::string Reasons(const v1::ClaimDecision& c) {
  std::vector<std::string> r;
  for (int code : c.decision().reasons()) r.push_back(ReasonName(code));
  return absl::StrJoin(r, "+");
}

// A recorded decision (the event `e` on partition `p`) to be made again.
Redecision Recorded(const Event& e, int32_t p, const v1::ClaimDecision& recorded) {
  Redecision r;
  r.partition = p;
  r.offset = e.message.offset;
  r.event_id = e.envelope.event_id();
  r.recorded = recorded;
  return r;
}

// `e`'s envelope with `body` instead of its own: the request the claims
// processor received, as a claims.requests record.
template <typename SetBody>
kafka::Message AsRequest(const ShadowOptions& options, int32_t p, const Event& e, SetBody body) {
  v1::Envelope request = e.envelope;
  request.clear_body();
  request.set_rule_set_version("");
  body(request);
  request.set_type(events::BodyType(request));
  kafka::Message req;
  req.topic = options.prefix + std::string(kafka::kClaimsRequests);
  req.partition = p;
  req.key = e.message.key;
  req.value = request.SerializeAsString();
  return req;
}

// The investigator's recorded verdict asked again of `logic` on the claim as
// the shadow holds it (decided again). Visits the outcome; sets `to_apply` to
// the verdict given again. False when there is nothing to apply: the claim
// does not wait for an investigator under the rules in force.
absl::StatusOr<bool> Reverdict(const ShadowOptions& options, claims::ClaimsLogic& logic,
                               const processor::State& state, const Event& e, int32_t p,
                               kafka::Message* to_apply,
                               const std::function<void(const Redecision&)>& visit) {
  const v1::ClaimInvestigationDecided& x = e.envelope.claim_investigation_decided();
  Redecision r = Recorded(e, p, x.claim());
  r.verdict = true;
  // The request as the investigator made it: corrected facts are given only
  // with an approval (the rules may still deny on them).
  const kafka::Message req = AsRequest(options, p, e, [&](v1::Envelope& request) {
    v1::InvestigationDecisionRequested* q = request.mutable_investigation_decision_requested();
    q->set_claim_id(x.claim().claim_id());
    q->set_approve(x.approved() || x.facts_corrected());
    q->set_reason(x.reason());
    q->set_investigator(x.investigator());
    *q->mutable_decided_at() = x.decided_at();
    *q->mutable_decided_on() = e.envelope.occurred_on();
    if (x.facts_corrected()) *q->mutable_corrected_facts() = x.claim().facts();
  });
  std::vector<kafka::Record> out;
  bool applies = false;
  if (absl::Status s = logic.Decide(state, req, &out); !s.ok()) {
    r.error = std::string(s.message());
  } else {
    for (kafka::Record& rec : out) {
      v1::Envelope answer;
      if (answer.ParseFromString(rec.value) && answer.has_claim_investigation_decided()) {
        r.again = answer.claim_investigation_decided().claim();
        to_apply->value = rec.value;
        to_apply->headers.clear();
        applies = true;
      }
    }
  }
  if (options.plan_year == 0 || r.recorded.plan_year() == options.plan_year ||
      r.again.plan_year() == options.plan_year) {
    visit(r);
  }
  return applies;
}

}  // namespace

std::string DecisionDiff(const v1::ClaimDecision& a, const v1::ClaimDecision& b) {
  std::vector<std::string> d;
  if (a.status() != b.status()) {
    d.push_back(absl::StrCat("status ", ClaimStatusName(a.status()), " -> ",
                             ClaimStatusName(b.status())));
  }
  if (a.amount_fen() != b.amount_fen()) {
    d.push_back(absl::StrCat("amount ", Yuan(a.amount_fen()), " -> ", Yuan(b.amount_fen())));
  }
  if (a.capped() != b.capped()) d.push_back(absl::StrCat("capped ", a.capped(), " -> ", b.capped()));
  if (Reasons(a) != Reasons(b)) {
    d.push_back(absl::StrCat("reasons [", Reasons(a), "] -> [", Reasons(b), "]"));
  }
  if (absl::StrJoin(a.decision().clauses(), ",") != absl::StrJoin(b.decision().clauses(), ",")) {
    d.push_back(absl::StrCat("clauses [", absl::StrJoin(a.decision().clauses(), ","), "] -> [",
                             absl::StrJoin(b.decision().clauses(), ","), "]"));
  }
  if (a.plan_year() != b.plan_year()) {
    d.push_back(absl::StrCat("plan year ", a.plan_year(), " -> ", b.plan_year()));
  }
  return absl::StrJoin(d, "; ");
}

absl::Status Readjudicate(const ShadowOptions& options,
                          const std::function<void(const Redecision&)>& visit) {
  const std::string enrollment_topic = options.prefix + std::string(kafka::kEnrollmentEvents);
  const std::string claims_topic = options.prefix + std::string(kafka::kClaimsEvents);
  absl::StatusOr<int32_t> partitions = PartitionCount(options.client, claims_topic);
  if (!partitions.ok()) return partitions.status();

  claims::LogicOptions lo;
  lo.producer = "mutualctl-audit";
  claims::ClaimsLogic logic(lo, options.book != nullptr ? *options.book : plan::BuiltInPlanBook());

  namespace fs = std::filesystem;
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() /
                       absl::StrFormat("mutualctl-shadow-%d-%08x", getpid(), rd());
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  store::StateStore::Options so;
  so.column_families = processor::ColumnFamiliesFor(logic);
  absl::StatusOr<std::unique_ptr<store::StateStore>> store = store::StateStore::Open(dir.string(), so);
  if (!store.ok()) return store.status();

  for (int32_t p = 0; p < *partitions; ++p) {
    std::vector<Event> events;
    int source = 0;
    for (const std::string& topic : {enrollment_topic, claims_topic}) {
      absl::Status s = ReadPartition(options.client, topic, p, [&](const kafka::Message& m) {
        absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(m);
        if (env.ok()) events.push_back({m, *std::move(env), source});
        return true;
      });
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) return s;
      ++source;
    }
    // Recorded order across the two topics; within a topic, log order.
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      const absl::Time ta = RecordedAt(a.envelope), tb = RecordedAt(b.envelope);
      if (ta != tb) return ta < tb;
      return a.source < b.source;
    });
    // Within one topic keep log order even if recorded times step back.
    {
      std::vector<size_t> idx[2];
      for (size_t i = 0; i < events.size(); ++i) idx[events[i].source].push_back(i);
      for (auto& positions : idx) {
        std::vector<Event> ordered;
        for (size_t i : positions) ordered.push_back(events[i]);
        std::stable_sort(ordered.begin(), ordered.end(),
                         [](const Event& a, const Event& b) { return a.message.offset < b.message.offset; });
        for (size_t k = 0; k < positions.size(); ++k) events[positions[k]] = std::move(ordered[k]);
      }
    }

    for (Event& e : events) {
      processor::State state(**store);
      kafka::Message to_apply = e.message;
      if (e.envelope.body_case() == v1::Envelope::kClaimDecided) {
        const v1::ClaimDecided& decided = e.envelope.claim_decided();
        Redecision r = Recorded(e, p, decided.claim());
        // The filing as the claims processor received it.
        const kafka::Message req = AsRequest(options, p, e, [&](v1::Envelope& request) {
          *request.mutable_claim_filed() = decided.filed();
        });
        std::vector<kafka::Record> out;
        absl::Status s = logic.Decide(state, req, &out);
        if (!s.ok()) {
          r.error = std::string(s.message());
        } else {
          for (kafka::Record& rec : out) {
            v1::Envelope answer;
            if (answer.ParseFromString(rec.value) && answer.has_claim_decided()) {
              r.again = answer.claim_decided().claim();
              if (options.fold_redecided) {
                to_apply.value = rec.value;
                to_apply.headers.clear();
              }
            }
          }
          if (r.again.status() == v1::CLAIM_STATUS_UNSPECIFIED && r.error.empty()) {
            r.error = "no decision came back (the claim id was already decided)";
          }
        }
        if (options.plan_year == 0 || r.recorded.plan_year() == options.plan_year ||
            r.again.plan_year() == options.plan_year) {
          visit(r);
        }
      }
      if (options.fold_redecided &&
          e.envelope.body_case() == v1::Envelope::kClaimInvestigationDecided) {
        absl::StatusOr<bool> applies = Reverdict(options, logic, state, e, p, &to_apply, visit);
        if (!applies.ok()) return applies.status();
        if (!*applies) continue;  // the claim decided again does not wait for an investigator
      }
      processor::FollowChain(state, to_apply);
      absl::Status s = logic.Apply(state, to_apply);
      if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) return s;
      store::Batch batch = (*store)->NewBatch();
      state.MoveTo(batch);
      if (absl::Status cs = (*store)->Commit(batch); !cs.ok()) return cs;
    }
  }
  return (*store)->Close();
}

}  // namespace mutualaid::mutualctl::ops

#include "services/claims/claims_logic.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "mutualaid/events/claims_convert.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/claims.h"
#include "mutualaid/store/keys.h"

namespace mutualaid::claims {
namespace {

using events::FromProto;
using events::ToProto;

// Reads a stored message; nullopt when absent, Internal when unreadable.
template <typename M>
absl::StatusOr<std::optional<M>> Read(const processor::State& state, const char* cf,
                                      const std::string& key) {
  absl::StatusOr<std::optional<std::string>> raw = state.Get(cf, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) {
    return absl::InternalError(absl::StrCat("unreadable state in ", cf));
  }
  return std::optional<M>(std::move(m));
}

std::string CoverageKey(const std::string& worker_key, int plan_year) {
  return store::KeyBuilder().Text(worker_key).Int64(plan_year).Build();
}

std::string DueKey(const v1::Date& due, const std::string& claim_id) {
  return store::KeyBuilder().Int64(DayNumber(due)).Text(claim_id).Build();
}

void AddReason(v1::DecisionRecord* record, v1::ReasonCode code) {
  for (int r : record->reasons()) {
    if (r == code) return;
  }
  record->add_reasons(code);
}

void RemoveReason(v1::DecisionRecord* record, v1::ReasonCode code) {
  auto* reasons = record->mutable_reasons();
  reasons->erase(std::remove(reasons->begin(), reasons->end(), static_cast<int>(code)),
                 reasons->end());
}

void AddClause(v1::DecisionRecord* record, const std::string& clause) {
  for (const std::string& c : record->clauses()) {
    if (c == clause) return;
  }
  record->add_clauses(clause);
}

// A claim's amount is no longer owed: zero, no payee.
void MakeDenial(v1::ClaimDecision* c) {
  c->set_status(v1::CLAIM_STATUS_DENIED);
  c->set_amount_fen(0);
  c->set_capped(false);
  c->set_payee(v1::PAYEE_KIND_UNSPECIFIED);
  c->set_hospital_days_paid(0);
  c->clear_hospital_days();
  c->mutable_decision()->set_amount_fen(0);
  c->mutable_decision()->set_capped(false);
}

constexpr char kInvestigationClause[] = "§六(三)";  // 调查核实 before payment

}  // namespace

std::string FilingCausation(const std::string& claim_id) { return absl::StrCat("claim/", claim_id); }

bool ValidClaimId(const std::string& claim_id) {
  if (claim_id.empty() || claim_id.size() > 64) return false;
  for (char c : claim_id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) {
      return false;
    }
  }
  return true;
}

int64_t DayNumber(const v1::Date& date) {
  return int64_t{date.year()} * 10000 + date.month() * 100 + date.day();
}

absl::StatusOr<std::optional<v1::ClaimState>> ReadClaim(const processor::State& state,
                                                        const std::string& claim_id) {
  return Read<v1::ClaimState>(state, kClaims, claim_id);
}

absl::StatusOr<LoadedFile> LoadWorkerFile(const processor::State& state,
                                          const std::string& worker_key,
                                          const std::string& except_claim_id) {
  LoadedFile loaded;
  absl::Status bad = absl::OkStatus();
  absl::Status s = state.ScanPrefix(
      kCoverage, store::KeyBuilder().Text(worker_key).Prefix(),
      [&](absl::string_view, absl::string_view value) {
        v1::HeldEnrollment held;
        if (!held.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::InternalError("unreadable enrollment in the coverage view");
          return false;
        }
        absl::StatusOr<plan::EnrollmentRecord> r = events::ToPlanEnrollment(held);
        if (!r.ok()) {
          bad = absl::InternalError(absl::StrCat("stored enrollment: ", r.status().message()));
          return false;
        }
        if (loaded.file.id_number.empty()) loaded.file.id_number = r->decision.id_number;
        loaded.file.enrollments.push_back(*std::move(r));
        loaded.enrollments[held.enrollment().plan_year()] = std::move(held);
        return true;
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;

  std::vector<std::string> ids;
  s = state.ScanPrefix(kWorkerClaims, store::KeyBuilder().Text(worker_key).Prefix(),
                       [&](absl::string_view key, absl::string_view) {
                         store::KeyReader kr(key);
                         kr.Text();
                         if (auto id = kr.Text()) ids.emplace_back(*id);
                         return true;
                       });
  if (!s.ok()) return s;
  std::vector<v1::ClaimState> held;
  for (const std::string& id : ids) {
    if (id == except_claim_id) continue;
    auto claim = ReadClaim(state, id);
    if (!claim.ok()) return claim.status();
    if (claim->has_value()) held.push_back(**claim);
  }
  std::sort(held.begin(), held.end(),
            [](const v1::ClaimState& a, const v1::ClaimState& b) { return a.seq() < b.seq(); });
  for (const v1::ClaimState& c : held) {
    absl::StatusOr<plan::ClaimRecord> record = events::ToClaimRecord(c.claim());
    if (!record.ok()) {
      return absl::InternalError(absl::StrCat("stored claim ", c.claim().claim_id(), ": ",
                                              record.status().message()));
    }
    loaded.file.claims.push_back(*std::move(record));
  }
  return loaded;
}

std::vector<std::string> ClaimsLogic::ColumnFamilies() const {
  return {kCoverage, kPlatforms, kClaims, kWorkerClaims, kBySite, kByDue, kInvestigations, kUnpaid};
}

plan::PlanData ClaimsLogic::PlanFor(int plan_year) const {
  plan::PlanData plan = book_.ForPlanYear(plan_year);
  if (o_.investigation_threshold_fen.has_value()) {
    plan.investigation_threshold_fen = *o_.investigation_threshold_fen;
  }
  return plan;
}

v1::Envelope ClaimsLogic::Answer(const v1::Envelope& request, const std::string& suffix,
                                 const v1::Date& occurred_on) const {
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat(request.event_id(), "/", suffix);
  h.worker_key = request.worker_key();
  h.occurred_on = FromProto(occurred_on, "occurred_on")
                      .value_or(FromProto(request.occurred_on(), "occurred_on").value_or(absl::CivilDay()));
  h.recorded_at = events::FromProto(request.recorded_at());
  h.causation_id = request.causation_id();
  h.producer = o_.producer;
  return events::NewEnvelope(h);
}

absl::Status ClaimsLogic::Decide(const processor::State& state, const kafka::Message& request,
                                 std::vector<kafka::Record>* out) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(request);
  if (!env.ok()) return env.status();
  if (env->worker_key() != request.key) {
    return absl::InvalidArgumentError("envelope worker key differs from the record key");
  }
  switch (env->body_case()) {
    case v1::Envelope::kClaimFiled:
      return DecideFiling(state, *env, out);
    case v1::Envelope::kInvestigationDecisionRequested:
      return DecideInvestigation(state, *env, out);
    case v1::Envelope::kPayoutConfirmed:
      return DecidePayout(state, *env, out);
    case v1::Envelope::kPayoutRequested:
    case v1::Envelope::kPayoutSent:
    case v1::Envelope::kPayoutFailed:
    case v1::Envelope::kPayoutReturned:
    case v1::Envelope::kPayoutReissued:
      return absl::OkStatus();  // payout's own progress: nothing to decide here
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("not a claims request: ", events::BodyType(*env)));
  }
}

v1::ClaimDecision ClaimsLogic::Adjudicate(const LoadedFile& loaded,
                                          const plan::ClaimRequest& request,
                                          const v1::ClaimFiled& filed) const {
  const plan::ClaimDecision d = plan::DecideClaim(book_, request, loaded.file);
  v1::ClaimDecision c = events::ToClaimDecision(d, request);
  const plan::EnrollmentRecord* cover =
      plan::CoveringEnrollment(loaded.file, plan::EventDate(request));
  if (cover != nullptr) {
    auto it = loaded.enrollments.find(cover->decision.plan_year);
    if (it != loaded.enrollments.end()) c.set_enrollment_id(it->second.enrollment().enrollment_id());
    c.set_platform_id(cover->decision.platform_id);
  }
  // §六(一): a platform claims a death for its own worker only; another
  // platform is not a claimant the plan knows.
  if (filed.filed_by_platform() && cover != nullptr &&
      cover->decision.platform_id != filed.application().platform_id()) {
    MakeDenial(&c);
    AddReason(c.mutable_decision(), v1::REASON_CODE_INVALID_CLAIMANT);
    AddClause(c.mutable_decision(), "§六(一)");
    c.mutable_decision()->set_detail("the filing platform did not enrol this worker");
  }
  return c;
}

absl::Status ClaimsLogic::DecideFiling(const processor::State& state, const v1::Envelope& request,
                                       std::vector<kafka::Record>* out) {
  const v1::ClaimFiled& filed = request.claim_filed();
  const v1::ClaimApplication& app = filed.application();
  if (!ValidClaimId(app.claim_id())) {
    return absl::InvalidArgumentError("claim_id: 1-64 of letters, digits, '.', '_', ':', '-'");
  }
  // A retry racing the original (or a claim id reused): the first decision
  // stands; the gRPC edge reads it from the state.
  auto existing = ReadClaim(state, app.claim_id());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();

  absl::StatusOr<absl::CivilDay> received = FromProto(filed.received_on(), "received_on");
  if (!received.ok()) return absl::InvalidArgumentError(received.status().message());
  std::optional<plan::Site> site = plan::ParseSite(app.site());
  if (!site.has_value()) return absl::InvalidArgumentError("site: not the hall or a district");
  absl::StatusOr<plan::ClaimRequest> pr =
      events::ToClaimRequest(app.claim_id(), app.facts(), *received, *site);
  if (!pr.ok()) return absl::InvalidArgumentError(pr.status().message());

  absl::StatusOr<LoadedFile> loaded = LoadWorkerFile(state, request.worker_key());
  if (!loaded.ok()) return loaded.status();
  v1::ClaimDecision c = Adjudicate(*loaded, *pr, filed);
  if (c.status() == v1::CLAIM_STATUS_APPROVED) {
    absl::StatusOr<plan::ClaimDecision> d = events::ToPlanDecision(c);
    if (!d.ok()) return absl::InternalError(d.status().message());
    if (plan::MustInvestigate(PlanFor(c.plan_year()), *d)) {
      c.set_status(v1::CLAIM_STATUS_INVESTIGATING);
      AddReason(c.mutable_decision(), v1::REASON_CODE_INVESTIGATION_REQUIRED);
      AddClause(c.mutable_decision(), kInvestigationClause);
      c.mutable_decision()->set_detail("调查核实: waits for an investigator before payment");
    }
  }

  v1::Envelope answer = Answer(request, "decided", filed.received_on());
  answer.set_rule_set_version(c.decision().rule_set_version());
  v1::ClaimDecided* x = answer.mutable_claim_decided();
  *x->mutable_claim() = std::move(c);
  *x->mutable_filed() = filed;
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status ClaimsLogic::DecideInvestigation(const processor::State& state,
                                              const v1::Envelope& request,
                                              std::vector<kafka::Record>* out) {
  const v1::InvestigationDecisionRequested& req = request.investigation_decision_requested();
  auto held = ReadClaim(state, req.claim_id());
  if (!held.ok()) return held.status();
  if (!held->has_value()) return absl::InvalidArgumentError("claim_id: unknown");
  const v1::ClaimState& claim = **held;
  if (claim.worker_key() != request.worker_key()) {
    return absl::InvalidArgumentError("claim_id: another worker's claim");
  }
  // Decided meanwhile (two investigators at once): the first verdict stands.
  if (claim.claim().status() != v1::CLAIM_STATUS_INVESTIGATING) return absl::OkStatus();

  v1::ClaimDecision next = claim.claim();
  bool corrected = false;
  if (!req.approve()) {
    MakeDenial(&next);
    RemoveReason(next.mutable_decision(), v1::REASON_CODE_INVESTIGATION_REQUIRED);
    AddReason(next.mutable_decision(), v1::REASON_CODE_INVESTIGATION_DENIED);
    AddClause(next.mutable_decision(), kInvestigationClause);
  } else if (req.has_corrected_facts()) {
    // The investigator's facts replace the filed ones; the rules decide again
    // against the worker's other claims.
    corrected = true;
    v1::ClaimFacts facts = req.corrected_facts();
    if (facts.benefit() == v1::BENEFIT_UNSPECIFIED) facts.set_benefit(claim.claim().facts().benefit());
    if (facts.claimant() == v1::CLAIMANT_UNSPECIFIED) {
      facts.set_claimant(claim.claim().facts().claimant());
    }
    if (facts.benefit() != claim.claim().facts().benefit()) {
      return absl::InvalidArgumentError("corrected_facts.benefit: must be the claim's benefit");
    }
    absl::StatusOr<absl::CivilDay> received = FromProto(claim.claim().received_on(), "received_on");
    if (!received.ok()) return absl::InternalError(received.status().message());
    const plan::Site site = plan::ParseSite(claim.claim().site()).value_or(plan::Site::kHall);
    absl::StatusOr<plan::ClaimRequest> pr =
        events::ToClaimRequest(req.claim_id(), facts, *received, site);
    if (!pr.ok()) return absl::InvalidArgumentError(pr.status().message());
    absl::StatusOr<LoadedFile> loaded =
        LoadWorkerFile(state, request.worker_key(), req.claim_id());
    if (!loaded.ok()) return loaded.status();
    next = Adjudicate(*loaded, *pr, claim.filed());
    AddClause(next.mutable_decision(), kInvestigationClause);
  } else {
    next.set_status(v1::CLAIM_STATUS_APPROVED);
    RemoveReason(next.mutable_decision(), v1::REASON_CODE_INVESTIGATION_REQUIRED);
  }
  next.mutable_decision()->set_detail(req.reason());

  v1::Envelope answer = Answer(request, "investigated", req.decided_on());
  answer.set_rule_set_version(next.decision().rule_set_version());
  v1::ClaimInvestigationDecided* x = answer.mutable_claim_investigation_decided();
  x->set_approved(next.status() == v1::CLAIM_STATUS_APPROVED);
  *x->mutable_claim() = std::move(next);
  x->set_investigator(req.investigator());
  x->set_reason(req.reason());
  *x->mutable_decided_at() = req.decided_at();
  x->set_facts_corrected(corrected);
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status ClaimsLogic::DecidePayout(const processor::State& state, const v1::Envelope& request,
                                       std::vector<kafka::Record>* out) {
  const v1::PayoutConfirmed& confirmed = request.payout_confirmed();
  auto held = ReadClaim(state, confirmed.payout().claim_id());
  if (!held.ok()) return held.status();
  // Only an approved, unpaid claim becomes paid; anything else (a duplicate
  // confirmation, a claim this service does not know) changes nothing.
  if (!held->has_value() || (*held)->claim().status() != v1::CLAIM_STATUS_APPROVED ||
      (*held)->has_paid()) {
    return absl::OkStatus();
  }
  v1::Envelope answer = Answer(request, "claim-paid", confirmed.confirmed_on());
  answer.set_causation_id(request.event_id());
  v1::ClaimPaid* x = answer.mutable_claim_paid();
  x->set_claim_id(confirmed.payout().claim_id());
  x->set_payout_id(confirmed.payout().payout_id());
  x->set_amount_fen(confirmed.payout().amount_fen());
  *x->mutable_paid_on() = confirmed.confirmed_on();
  out->push_back(events::ToRecord("", std::move(answer)));
  return absl::OkStatus();
}

absl::Status ClaimsLogic::Apply(processor::State& state, const kafka::Message& message) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(message);
  if (!env.ok()) return env.status();
  switch (env->body_case()) {
    case v1::Envelope::kEnrollmentAccepted:
    case v1::Envelope::kEnrollmentPendingReview:
    case v1::Envelope::kEnrollmentReviewDecided:
    case v1::Envelope::kPlatformRegistered:
      return ApplyCoverage(state, *env);
    case v1::Envelope::kClaimDecided:
    case v1::Envelope::kClaimInvestigationDecided:
    case v1::Envelope::kClaimPaid:
      return ApplyClaim(state, *env);
    default:
      return absl::OkStatus();  // events this service does not need
  }
}

absl::Status ClaimsLogic::ApplyCoverage(processor::State& state, const v1::Envelope& env) {
  const std::string& wk = env.worker_key();
  auto hold = [&](const v1::Enrollment& e, const v1::DecisionRecord& decision,
                  const std::string& approved_by) {
    v1::HeldEnrollment held;
    *held.mutable_enrollment() = e;
    *held.mutable_decision() = decision;
    held.set_approved_by(approved_by);
    state.Put(kCoverage, CoverageKey(wk, e.plan_year()), held.SerializeAsString());
  };
  switch (env.body_case()) {
    case v1::Envelope::kEnrollmentAccepted: {
      const auto& x = env.enrollment_accepted();
      hold(x.enrollment(), x.decision(), x.approved_by());
      return absl::OkStatus();
    }
    case v1::Envelope::kEnrollmentPendingReview: {
      const auto& x = env.enrollment_pending_review();
      hold(x.enrollment(), x.decision(), "");
      return absl::OkStatus();
    }
    case v1::Envelope::kEnrollmentReviewDecided: {
      // The reviewer's verdict changes the status; the first decision stays.
      const auto& x = env.enrollment_review_decided();
      auto held = Read<v1::HeldEnrollment>(state, kCoverage,
                                           CoverageKey(wk, x.enrollment().plan_year()));
      if (!held.ok()) return held.status();
      const v1::DecisionRecord first = held->has_value() ? (*held)->decision() : x.decision();
      hold(x.enrollment(), first, x.approved() ? x.reviewer() : "");
      return absl::OkStatus();
    }
    case v1::Envelope::kPlatformRegistered:
      state.Put(kPlatforms, env.platform_registered().platform().platform_id(),
                env.platform_registered().platform().SerializeAsString());
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

absl::Status ClaimsLogic::ApplyClaim(processor::State& state, const v1::Envelope& env) {
  const std::string& wk = env.worker_key();
  switch (env.body_case()) {
    case v1::Envelope::kClaimDecided: {
      const v1::ClaimDecided& x = env.claim_decided();
      const v1::ClaimDecision& c = x.claim();
      if (!ValidClaimId(c.claim_id())) return absl::InvalidArgumentError("claim_id: malformed");
      auto existing = ReadClaim(state, c.claim_id());
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) return absl::OkStatus();  // decided once; never twice
      int64_t seq = 0;
      absl::Status s = state.ScanPrefix(kWorkerClaims, store::KeyBuilder().Text(wk).Prefix(),
                                        [&](absl::string_view, absl::string_view) {
                                          ++seq;
                                          return true;
                                        });
      if (!s.ok()) return s;
      v1::ClaimState held;
      *held.mutable_claim() = c;
      *held.mutable_first() = c;
      *held.mutable_filed() = x.filed();
      held.set_seq(seq);
      held.set_worker_key(wk);
      held.set_decided_event_id(env.event_id());
      state.Put(kClaims, c.claim_id(), held.SerializeAsString());
      state.Put(kWorkerClaims, store::KeyBuilder().Text(wk).Text(c.claim_id()).Build(), "");
      state.Put(kBySite, store::KeyBuilder().Text(c.site()).Text(c.claim_id()).Build(), "");
      state.Put(kByDue, DueKey(c.due_by(), c.claim_id()), "");
      if (c.status() == v1::CLAIM_STATUS_INVESTIGATING) state.Put(kInvestigations, c.claim_id(), "");
      if (c.status() == v1::CLAIM_STATUS_INVESTIGATING || c.status() == v1::CLAIM_STATUS_APPROVED) {
        state.Put(kUnpaid, DueKey(c.due_by(), c.claim_id()), "");
      }
      return absl::OkStatus();
    }
    case v1::Envelope::kClaimInvestigationDecided: {
      const v1::ClaimInvestigationDecided& x = env.claim_investigation_decided();
      auto existing = ReadClaim(state, x.claim().claim_id());
      if (!existing.ok()) return existing.status();
      if (!existing->has_value()) return absl::InvalidArgumentError("verdict on an unknown claim");
      v1::ClaimState held = **existing;
      *held.mutable_claim() = x.claim();
      *held.add_investigations() = x;
      state.Put(kClaims, x.claim().claim_id(), held.SerializeAsString());
      state.Delete(kInvestigations, x.claim().claim_id());
      if (x.claim().status() != v1::CLAIM_STATUS_APPROVED) {
        state.Delete(kUnpaid, DueKey(x.claim().due_by(), x.claim().claim_id()));
      }
      return absl::OkStatus();
    }
    case v1::Envelope::kClaimPaid: {
      const v1::ClaimPaid& x = env.claim_paid();
      auto existing = ReadClaim(state, x.claim_id());
      if (!existing.ok()) return existing.status();
      if (!existing->has_value()) return absl::InvalidArgumentError("payment of an unknown claim");
      v1::ClaimState held = **existing;
      *held.mutable_paid() = x;
      held.mutable_claim()->set_status(v1::CLAIM_STATUS_PAID);
      state.Put(kClaims, x.claim_id(), held.SerializeAsString());
      state.Delete(kUnpaid, DueKey(held.claim().due_by(), x.claim_id()));
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

}  // namespace mutualaid::claims

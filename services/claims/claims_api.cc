#include "services/claims/claims_api.h"

#include <chrono>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/events/claims_convert.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/claims.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/processor/state.h"
#include "mutualaid/server/server.h"
#include "mutualaid/store/keys.h"
#include "services/claims/claims_logic.h"

namespace mutualaid::claims {
namespace {

using server::Role;
using server::ToGrpcStatus;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;
constexpr int kDefaultDueWithinDays = 10;
// How often a waiting handler also looks at the state: a retry racing the
// original, or another investigator's verdict, is answered from there.
constexpr absl::Duration kStateCheck = absl::Milliseconds(250);

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

int PageSize(const v1::PageRequest& page) {
  if (page.page_size() <= 0) return kDefaultPage;
  return std::min(page.page_size(), kMaxPage);
}

// The first key after every key starting with `prefix` (which ends in '/').
std::string PrefixEnd(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// Index keys end with the claim id (which holds no '/').
std::string ClaimIdOf(absl::string_view key) {
  const size_t slash = key.rfind('/');
  return std::string(slash == absl::string_view::npos ? key : key.substr(slash + 1));
}

std::string DayKey(absl::CivilDay day) {
  return store::KeyBuilder().Int64(DayNumber(events::ToProto(day))).Build();
}

// The site a district clerk may act for: its own district.
std::optional<plan::Site> SiteOf(const server::Principal& who) {
  if (who.role != Role::kDistrictCentre) return std::nullopt;
  return plan::ParseSite(who.subject);
}

}  // namespace

absl::StatusOr<CheckedFiling> CheckFiling(const v1::ClaimApplication& application,
                                          const server::Principal& who, absl::CivilDay today) {
  v1::ClaimApplication app = application;
  if (!ValidClaimId(app.claim_id())) {
    return absl::InvalidArgumentError(
        "claim_id: required, 1-64 of letters, digits, '.', '_', ':', '-'");
  }
  std::optional<plan::Site> site = plan::ParseSite(app.site());
  if (!site.has_value()) {
    return absl::InvalidArgumentError("site: 服务大厅 or one of the 16 districts (e.g. 浦东新区)");
  }
  if (who.role == Role::kDistrictCentre && SiteOf(who) != site) {
    return absl::PermissionDeniedError(
        absl::StrCat(who.ToString(), " files claims at its own district's centre only"));
  }
  app.set_site(std::string(plan::ToString(*site)));
  absl::StatusOr<plan::IdNumber> id = plan::ParseIdNumber(app.id_number(), today);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("id_number: INVALID_ID_NUMBER (", id.status().message(), ")"));
  }
  app.set_id_number(id->normalized);
  std::optional<plan::Benefit> benefit = events::ToPlan(app.facts().benefit());
  if (!benefit.has_value()) return absl::InvalidArgumentError("facts.benefit: required");
  const bool death = plan::IsDeathBenefit(*benefit);
  const bool by_platform = who.role == Role::kPlatform;
  if (by_platform) {
    if (!death) {
      return absl::PermissionDeniedError(
          "a platform files only death claims (§六(一)); the worker files the others");
    }
    if (!app.platform_id().empty() && app.platform_id() != who.subject) {
      return absl::PermissionDeniedError("platform_id: a platform files as itself");
    }
    app.set_platform_id(who.subject);
    if (app.facts().claimant() == v1::CLAIMANT_UNSPECIFIED) {
      app.mutable_facts()->set_claimant(v1::CLAIMANT_PLATFORM);
    }
  }
  if (death) {
    app.clear_payee_card();  // §六: death benefits go to the enrolling platform's account
  } else {
    const v1::PayeeCard& card = app.payee_card();
    if (card.kind() == v1::CARD_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "payee_card.kind: the union member card or the worker's Shanghai debit card");
    }
    if (!events::IsValidCardNumber(card.card_number())) {
      return absl::InvalidArgumentError(
          "payee_card.card_number: 16-19 digits with a valid check digit");
    }
  }
  absl::StatusOr<plan::ClaimRequest> pr =
      events::ToClaimRequest(app.claim_id(), app.facts(), today, *site);
  if (!pr.ok()) return pr.status();
  return CheckedFiling{std::move(app), *std::move(pr)};
}

absl::Status SealFiling(crypto::KeyRing& ring, const std::string& worker_key,
                        v1::ClaimFiled* filed) {
  v1::ClaimApplication* app = filed->mutable_application();
  v1::PersonalData person;
  person.set_id_number(app->id_number());
  // KeyForSealing makes the worker's key if no platform enrolled them yet.
  absl::StatusOr<v1::SealedPersonalData> sealed = crypto::SealPerson(ring, worker_key, person);
  if (!sealed.ok()) return sealed.status();
  *filed->mutable_sealed_person() = *std::move(sealed);
  app->clear_id_number();
  if (app->has_payee_card() && !app->payee_card().card_number().empty()) {
    const v1::PayeeCard card = app->payee_card();
    absl::StatusOr<v1::SealedPersonalData> sealed_card =
        crypto::SealField(ring, worker_key, crypto::kFieldCard, card.SerializeAsString());
    if (!sealed_card.ok()) return sealed_card.status();
    *filed->mutable_sealed_card() = *std::move(sealed_card);
    const std::string& number = card.card_number();
    filed->set_payee_card_last4(number.size() <= 4 ? number : number.substr(number.size() - 4));
    app->clear_payee_card();
    app->mutable_payee_card()->set_kind(card.kind());
  }
  return absl::OkStatus();
}

absl::Status CheckVerdict(const v1::DecideInvestigationRequest& req,
                          const v1::ClaimDecision& claim) {
  if (!req.approve() && req.reason().empty()) {
    return absl::InvalidArgumentError("reason: required to deny");
  }
  if (req.has_corrected_facts()) {
    if (!req.approve()) {
      return absl::InvalidArgumentError("corrected_facts: only with an approval");
    }
    v1::ClaimFacts facts = req.corrected_facts();
    if (facts.benefit() == v1::BENEFIT_UNSPECIFIED) facts.set_benefit(claim.facts().benefit());
    if (facts.claimant() == v1::CLAIMANT_UNSPECIFIED) facts.set_claimant(claim.facts().claimant());
    if (facts.benefit() != claim.facts().benefit()) {
      return absl::InvalidArgumentError(
          "corrected_facts.benefit: must be the claim's benefit (file a new claim)");
    }
    auto received = events::FromProto(claim.received_on(), "received_on");
    if (!received.ok()) return received.status();
    auto pr = events::ToClaimRequest(req.claim_id(), facts, *received, plan::Site::kHall);
    if (!pr.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("corrected_", pr.status().message()));
    }
  }
  return absl::OkStatus();
}

ClaimsApi::ClaimsApi(ApiOptions options, const server::TokenAuthenticator& auth,
                     const Clock& clock, const WorkerKeyer& keyer, kafka::Producer& producer,
                     kafka::Admin& admin, const store::StateStore& store,
                     server::Answers& answers,
                     std::function<plan::PlanData(int plan_year)> plan_for)
    : o_(std::move(options)),
      auth_(auth),
      clock_(clock),
      keyer_(keyer),
      producer_(producer),
      admin_(admin),
      store_(store),
      answers_(answers),
      plan_for_(std::move(plan_for)) {}

std::string ClaimsApi::NewId() const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&a), 8)) +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(&b), 8));
}

absl::StatusOr<std::optional<v1::ClaimState>> ClaimsApi::Stored(const std::string& claim_id) const {
  processor::State state(store_);
  return ReadClaim(state, claim_id);
}

grpc::Status ClaimsApi::FileClaim(grpc::ServerContext* ctx, const v1::FileClaimRequest* req,
                                  v1::FileClaimResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "FileClaim",
                               {Role::kHall, Role::kDistrictCentre, Role::kPlatform});
  if (!who.ok()) return ToGrpcStatus(who.status());
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = ShanghaiDay(now);
  absl::StatusOr<CheckedFiling> checked = CheckFiling(req->application(), *who, today);
  if (!checked.ok()) return ToGrpcStatus(checked.status());
  const v1::ClaimApplication& app = checked->application;
  const plan::ClaimRequest* pr = &checked->request;
  const bool by_platform = who->role == Role::kPlatform;

  const std::string wk = keyer_.KeyFor(app.id_number());
  // A retry: the original decision.
  auto stored = Stored(app.claim_id());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  if (stored->has_value()) {
    if ((*stored)->worker_key() != wk) {
      return Error(grpc::StatusCode::ALREADY_EXISTS, "claim_id: already used for another worker");
    }
    *resp->mutable_claim() = (*stored)->claim();
    resp->set_replayed(true);
    return grpc::Status::OK;
  }
  if (by_platform) {
    // What the edge can already see; the processor checks again at decision time.
    processor::State state(store_);
    absl::StatusOr<LoadedFile> loaded = LoadWorkerFile(state, wk);
    if (!loaded.ok()) return ToGrpcStatus(loaded.status());
    const plan::EnrollmentRecord* cover = plan::CoveringEnrollment(loaded->file, plan::EventDate(*pr));
    if (cover != nullptr && cover->decision.platform_id != who->subject) {
      return Error(grpc::StatusCode::PERMISSION_DENIED, "not a worker this platform enrolled");
    }
  }

  // The input barrier: every enrollment request in this worker's partition
  // so far must be decided before this claim is.
  const int32_t partition = kafka::PartitionOf(wk, o_.partitions);
  absl::StatusOr<kafka::Watermarks> marks =
      admin_.QueryWatermarks(o_.enrollment_requests_topic, partition, absl::Seconds(10));
  if (!marks.ok()) return ToGrpcStatus(absl::UnavailableError(marks.status().message()));

  const std::string causation = FilingCausation(app.claim_id());
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat("claim-request/", NewId());
  h.worker_key = wk;
  h.occurred_on = today;
  h.recorded_at = now;
  h.causation_id = causation;
  h.producer = o_.producer;
  v1::Envelope env = events::NewEnvelope(h);
  const std::string decided_event_id = absl::StrCat(h.event_id, "/decided");
  v1::ClaimFiled* filed = env.mutable_claim_filed();
  *filed->mutable_application() = app;
  *filed->mutable_received_on() = events::ToProto(today);  // stamped on receipt
  *filed->mutable_received_at() = events::ToProto(now);
  filed->set_caller(who->ToString());
  filed->set_enrollment_requests_offset(marks->high);
  filed->set_filed_by_platform(by_platform);
  if (ring_ != nullptr) {
    // The ID number and the card leave this process only sealed.
    if (absl::Status sealed = SealFiling(*ring_, wk, filed); !sealed.ok()) {
      return ToGrpcStatus(sealed);
    }
  }
  kafka::Record record = events::ToRecord(o_.requests_topic, std::move(env));
  record.partition = partition;

  auto ticket = answers_.Expect(causation);
  if (auto a = producer_.Append(record); !a.ok()) {
    answers_.Forget(causation, ticket);
    return ToGrpcStatus(a.status());
  }
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(o_.decision_timeout);
  while (true) {
    auto got = ticket->Wait(kStateCheck);
    if (got.ok()) {
      const v1::Envelope& event = got->front();
      *resp->mutable_claim() = event.claim_decided().claim();
      resp->set_replayed(event.event_id() != decided_event_id);
      return grpc::Status::OK;
    }
    auto now_stored = Stored(app.claim_id());
    if (now_stored.ok() && now_stored->has_value()) {
      answers_.Forget(causation, ticket);
      if ((*now_stored)->worker_key() != wk) {
        return Error(grpc::StatusCode::ALREADY_EXISTS, "claim_id: already used for another worker");
      }
      *resp->mutable_claim() = (*now_stored)->claim();
      resp->set_replayed((*now_stored)->decided_event_id() != decided_event_id);
      return grpc::Status::OK;
    }
    if (std::chrono::steady_clock::now() >= deadline || ctx->IsCancelled()) {
      answers_.Forget(causation, ticket);
      return Error(grpc::StatusCode::DEADLINE_EXCEEDED,
                   "no decision in time; the claim is recorded and will be decided: file it "
                   "again with the same claim_id to read the decision");
    }
  }
}

grpc::Status ClaimsApi::GetClaim(grpc::ServerContext* ctx, const v1::GetClaimRequest* req,
                                 v1::GetClaimResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "GetClaim",
                               {Role::kHall, Role::kDistrictCentre, Role::kInvestigator,
                                Role::kFinance, Role::kOperations, Role::kPlatform});
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto stored = Stored(req->claim_id());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  if (!stored->has_value() ||
      (who->role == Role::kPlatform &&
       !((*stored)->filed().filed_by_platform() &&
         (*stored)->filed().application().platform_id() == who->subject))) {
    return Error(grpc::StatusCode::NOT_FOUND, "claim_id: unknown");
  }
  *resp->mutable_claim() = (*stored)->claim();
  *resp->mutable_investigations() = (*stored)->investigations();
  if ((*stored)->has_paid()) *resp->mutable_paid() = (*stored)->paid();
  return grpc::Status::OK;
}

grpc::Status ClaimsApi::ListClaims(grpc::ServerContext* ctx, const v1::ListClaimsRequest* req,
                                   v1::ListClaimsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListClaims",
                               {Role::kHall, Role::kDistrictCentre, Role::kInvestigator,
                                Role::kFinance, Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string site;
  if (!req->site().empty()) {
    std::optional<plan::Site> s = plan::ParseSite(req->site());
    if (!s.has_value()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "site: unknown");
    site = std::string(plan::ToString(*s));
  }
  if (who->role == Role::kDistrictCentre) {
    const std::string own(plan::ToString(SiteOf(*who).value_or(plan::Site::kHall)));
    if (!site.empty() && site != own) {
      return Error(grpc::StatusCode::PERMISSION_DENIED, "a district centre lists its own claims");
    }
    site = own;
  }
  std::optional<int64_t> due_from, due_to;
  if (events::IsSet(req->due_from())) {
    if (!events::FromProto(req->due_from(), "due_from").ok()) {
      return Error(grpc::StatusCode::INVALID_ARGUMENT, "due_from: not a date");
    }
    due_from = DayNumber(req->due_from());
  }
  if (events::IsSet(req->due_to())) {
    if (!events::FromProto(req->due_to(), "due_to").ok()) {
      return Error(grpc::StatusCode::INVALID_ARGUMENT, "due_to: not a date");
    }
    due_to = DayNumber(req->due_to());
  }
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }

  // The narrowest index the filters allow.
  const char* cf = kClaims;
  std::string begin, end;
  if (!req->id_number().empty()) {
    const std::string prefix =
        store::KeyBuilder().Text(keyer_.KeyFor(plan::NormalizeIdNumberText(req->id_number()))).Prefix();
    cf = kWorkerClaims;
    begin = prefix;
    end = PrefixEnd(prefix);
  } else if (!site.empty()) {
    const std::string prefix = store::KeyBuilder().Text(site).Prefix();
    cf = kBySite;
    begin = prefix;
    end = PrefixEnd(prefix);
  } else if (due_from.has_value() || due_to.has_value()) {
    cf = kByDue;
    if (due_from.has_value()) begin = store::KeyBuilder().Int64(*due_from).Build();
    if (due_to.has_value()) end = store::KeyBuilder().Int64(*due_to + 1).Build();
  }
  if (!after.empty() && after > begin) begin = after;
  const int limit = PageSize(req->page());
  std::string last;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_.Scan(cf, begin, end, [&](absl::string_view key, absl::string_view) {
    if (key == after) return true;
    auto claim = Stored(ClaimIdOf(key));
    if (!claim.ok()) {
      bad = claim.status();
      return false;
    }
    if (!claim->has_value()) return true;
    const v1::ClaimDecision& c = (*claim)->claim();
    if (!site.empty() && c.site() != site) return true;
    if (req->status() != v1::CLAIM_STATUS_UNSPECIFIED && c.status() != req->status()) return true;
    if (due_from.has_value() && DayNumber(c.due_by()) < *due_from) return true;
    if (due_to.has_value() && DayNumber(c.due_by()) > *due_to) return true;
    if (resp->claims_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    *resp->add_claims() = c;
    last = std::string(key);
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  return ToGrpcStatus(bad);
}

grpc::Status ClaimsApi::GetEntitlements(grpc::ServerContext* ctx,
                                        const v1::GetEntitlementsRequest* req,
                                        v1::GetEntitlementsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "GetEntitlements",
                               {Role::kHall, Role::kDistrictCentre, Role::kInvestigator,
                                Role::kOperations});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->id_number().empty()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "id_number: required");
  const int year = req->plan_year() != 0 ? req->plan_year() : plan::PlanYearContaining(clock_.Today());
  const std::string wk = keyer_.KeyFor(plan::NormalizeIdNumberText(req->id_number()));
  processor::State state(store_);
  absl::StatusOr<LoadedFile> loaded = LoadWorkerFile(state, wk);
  if (!loaded.ok()) return ToGrpcStatus(loaded.status());
  const plan::PlanData plan = plan_for_(year);
  int days = 0;
  int64_t subsidy = 0, disability = 0, consolation = 0;
  for (const plan::ClaimRecord& r : loaded->file.claims) {
    // What counts against the caps: approved claims and those awaiting investigation.
    if (r.status == plan::ClaimStatus::kDenied || r.decision.plan_year != year) continue;
    switch (r.request.benefit) {
      case plan::Benefit::kHospitalAllowance:
        days += r.decision.hospital_days_paid;
        break;
      case plan::Benefit::kCriticalIllness:
        resp->set_critical_illness_paid(true);
        break;
      case plan::Benefit::kCovid19:
        resp->set_covid19_paid(true);
        break;
      case plan::Benefit::kCriticalIllnessSubsidy:
        subsidy += r.decision.amount_fen;
        break;
      case plan::Benefit::kAccidentalDisability:
        disability += r.decision.amount_fen;
        break;
      case plan::Benefit::kAccidentConsolation:
        consolation += r.decision.amount_fen;
        break;
      default:
        break;
    }
  }
  const std::optional<absl::CivilDay> died_on = plan::DateOfDeath(loaded->file);
  // §五: an approved death ends every liability.
  auto left = [&](int64_t cap, int64_t used) { return died_on.has_value() ? 0 : std::max<int64_t>(0, cap - used); };
  resp->set_plan_year(year);
  resp->set_hospital_days_used(days);
  resp->set_hospital_days_left(static_cast<int32_t>(left(plan.hospital_max_days_per_plan_year, days)));
  resp->set_subsidy_paid_fen(subsidy);
  resp->set_subsidy_left_fen(left(plan.subsidy_cap_per_plan_year_fen, subsidy));
  resp->set_disability_paid_fen(disability);
  resp->set_disability_left_fen(left(plan.disability_cap_per_plan_year_fen, disability));
  resp->set_consolation_paid_fen(consolation);
  resp->set_consolation_left_fen(left(plan.consolation_cap_per_plan_year_fen, consolation));
  if (died_on.has_value()) *resp->mutable_died_on() = events::ToProto(*died_on);
  absl::Status s = store_.ScanPrefix(kWorkerClaims, store::KeyBuilder().Text(wk).Prefix(),
                                     [&](absl::string_view key, absl::string_view) {
                                       auto claim = Stored(ClaimIdOf(key));
                                       if (claim.ok() && claim->has_value() &&
                                           (*claim)->claim().plan_year() == year) {
                                         *resp->add_claims() = (*claim)->claim();
                                       }
                                       return true;
                                     });
  return ToGrpcStatus(s);
}

grpc::Status ClaimsApi::ListInvestigations(grpc::ServerContext* ctx,
                                           const v1::ListInvestigationsRequest* req,
                                           v1::ListInvestigationsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListInvestigations",
                               {Role::kInvestigator, Role::kOperations, Role::kHall,
                                Role::kDistrictCentre});
  if (!who.ok()) return ToGrpcStatus(who.status());
  std::string site;
  if (!req->site().empty()) {
    std::optional<plan::Site> s = plan::ParseSite(req->site());
    if (!s.has_value()) return Error(grpc::StatusCode::INVALID_ARGUMENT, "site: unknown");
    site = std::string(plan::ToString(*s));
  }
  if (who->role == Role::kDistrictCentre) {
    site = std::string(plan::ToString(SiteOf(*who).value_or(plan::Site::kHall)));
  }
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = PageSize(req->page());
  std::string last;
  absl::Status s = store_.Scan(kInvestigations, after, "", [&](absl::string_view key, absl::string_view) {
    if (key == after) return true;
    auto claim = Stored(std::string(key));
    if (!claim.ok() || !claim->has_value()) return true;
    if (!site.empty() && (*claim)->claim().site() != site) return true;
    if (resp->claims_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    *resp->add_claims() = (*claim)->claim();
    last = std::string(key);
    return true;
  });
  return ToGrpcStatus(s);
}

grpc::Status ClaimsApi::DecideInvestigation(grpc::ServerContext* ctx,
                                            const v1::DecideInvestigationRequest* req,
                                            v1::DecideInvestigationResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "DecideInvestigation", {Role::kInvestigator});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!req->approve() && req->reason().empty()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "reason: required to deny");
  }
  auto stored = Stored(req->claim_id());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  if (!stored->has_value()) return Error(grpc::StatusCode::NOT_FOUND, "claim_id: unknown");
  const v1::ClaimState& claim = **stored;
  if (claim.claim().status() != v1::CLAIM_STATUS_INVESTIGATING) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION, "claim_id: not waiting for investigation");
  }
  if (absl::Status checked = CheckVerdict(*req, claim.claim()); !checked.ok()) {
    return ToGrpcStatus(checked);
  }
  const absl::Time now = clock_.Now();
  const std::string causation = absl::StrCat("investigation/", req->claim_id(), "/", NewId());
  events::EnvelopeHeader h{absl::StrCat("claim-request/", NewId()), claim.worker_key(),
                           ShanghaiDay(now), now, "", causation, o_.producer};
  v1::Envelope env = events::NewEnvelope(h);
  v1::InvestigationDecisionRequested* x = env.mutable_investigation_decision_requested();
  x->set_claim_id(req->claim_id());
  x->set_approve(req->approve());
  x->set_reason(req->reason());
  if (req->has_corrected_facts()) *x->mutable_corrected_facts() = req->corrected_facts();
  x->set_investigator(who->ToString());
  *x->mutable_decided_at() = events::ToProto(now);
  *x->mutable_decided_on() = events::ToProto(ShanghaiDay(now));
  kafka::Record record = events::ToRecord(o_.requests_topic, std::move(env));
  record.partition = kafka::PartitionOf(claim.worker_key(), o_.partitions);
  auto ticket = answers_.Expect(causation);
  if (auto a = producer_.Append(record); !a.ok()) {
    answers_.Forget(causation, ticket);
    return ToGrpcStatus(a.status());
  }
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(o_.decision_timeout);
  while (true) {
    auto got = ticket->Wait(kStateCheck);
    if (got.ok()) {
      *resp->mutable_claim() = got->front().claim_investigation_decided().claim();
      return grpc::Status::OK;
    }
    auto now_stored = Stored(req->claim_id());
    const bool decided_by_other = now_stored.ok() && now_stored->has_value() &&
                                  (*now_stored)->claim().status() != v1::CLAIM_STATUS_INVESTIGATING;
    if (decided_by_other || std::chrono::steady_clock::now() >= deadline || ctx->IsCancelled()) {
      answers_.Forget(causation, ticket);
      // The ticket may have been answered in the meantime.
      auto last = ticket->Wait(absl::ZeroDuration());
      if (last.ok()) {
        *resp->mutable_claim() = last->front().claim_investigation_decided().claim();
        return grpc::Status::OK;
      }
      return Error(grpc::StatusCode::ABORTED,
                   decided_by_other
                       ? "another investigator decided this claim first: read it again"
                       : "the verdict was not recorded in time: read the claim again");
    }
  }
}

grpc::Status ClaimsApi::ListDueClaims(grpc::ServerContext* ctx, const v1::ListDueClaimsRequest* req,
                                      v1::ListDueClaimsResponse* resp) {
  auto who = server::CheckCall(auth_, *ctx, "ListDueClaims",
                               {Role::kFinance, Role::kOperations, Role::kHall, Role::kInvestigator});
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (req->within_days() < 0) return Error(grpc::StatusCode::INVALID_ARGUMENT, "within_days: not negative");
  const int within = req->within_days() == 0 ? kDefaultDueWithinDays : req->within_days();
  const std::string end = DayKey(clock_.Today() + within + 1);
  std::string after;
  if (!req->page().page_token().empty() &&
      !absl::WebSafeBase64Unescape(req->page().page_token(), &after)) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not from this service");
  }
  const int limit = PageSize(req->page());
  std::string last;
  absl::Status s = store_.Scan(kUnpaid, after, end, [&](absl::string_view key, absl::string_view) {
    if (key == after) return true;
    auto claim = Stored(ClaimIdOf(key));
    if (!claim.ok() || !claim->has_value()) return true;
    if (resp->claims_size() == limit) {
      resp->set_next_page_token(absl::WebSafeBase64Escape(last));
      return false;
    }
    *resp->add_claims() = (*claim)->claim();
    last = std::string(key);
    return true;
  });
  return ToGrpcStatus(s);
}

}  // namespace mutualaid::claims

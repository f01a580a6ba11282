#include "services/notification/notification_logic.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/hash.h"
#include "mutualaid/core/log.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/store/keys.h"
#include "services/notification/sms_templates.h"

namespace mutualaid::notification {
namespace {

using Outcome = GatewayReport::Outcome;

// The gateway takes ids of at most 128 bytes.
constexpr size_t kMaxGatewayId = 128;

template <typename M>
absl::StatusOr<std::optional<M>> Read(const processor::State& state, const char* cf,
                                      const std::string& key) {
  absl::StatusOr<std::optional<std::string>> raw = state.Get(cf, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) return absl::InternalError(absl::StrCat("unreadable state in ", cf));
  return std::optional<M>(std::move(m));
}

std::string GatewayIdFor(const std::string& message_id, int32_t resend) {
  std::string id = resend == 0 ? message_id : absl::StrCat(message_id, "#r", resend);
  if (id.size() > kMaxGatewayId) id = absl::StrCat("sha256:", Sha256Hex(id));
  return id;
}

// In queue order within the partition, so the oldest message goes first
// when the rate or a cap holds some back.
std::string OutboxKey(int32_t partition, int64_t seq, const std::string& message_id) {
  return absl::StrCat(store::KeyBuilder().Int64(partition).Int64(seq).Prefix(), message_id);
}

std::string ByWorkerKey(const std::string& worker_key, int64_t seq, const std::string& message_id) {
  return absl::StrCat(store::KeyBuilder().Text(worker_key).Int64(seq).Prefix(), message_id);
}

std::string SentDailyKey(const std::string& phone, absl::CivilDay day) {
  return store::KeyBuilder()
      .Text(phone)
      .Int64(day.year() * 10000 + day.month() * 100 + day.day())
      .Build();
}

absl::StatusOr<int64_t> SentOn(const processor::State& state, const std::string& phone,
                               absl::CivilDay day) {
  absl::StatusOr<std::optional<std::string>> raw = state.Get(kSentDaily, SentDailyKey(phone, day));
  if (!raw.ok()) return raw.status();
  int64_t n = 0;
  if (raw->has_value() && !absl::SimpleAtoi(**raw, &n)) {
    return absl::InternalError("unreadable sent_daily count");
  }
  return n;
}

// The last 4 digits of what the payout shows of the account.
std::string Last4(absl::string_view shown) {
  std::string digits;
  for (char c : shown) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return digits.size() <= 4 ? digits : digits.substr(digits.size() - 4);
}

bool Denied(const v1::ClaimDecision& c) { return c.status() == v1::CLAIM_STATUS_DENIED; }

}  // namespace

std::string CapKeyOf(const v1::SmsRecord& r) {
  if (!r.phone().empty()) return r.phone();
  if (!r.phone_key().empty()) return r.phone_key();
  return absl::StrCat("worker:", r.message().worker_key());
}

absl::StatusOr<v1::SealedPersonalData> SealPhone(crypto::KeyRing& ring,
                                                 const std::string& worker_key,
                                                 const std::string& context,
                                                 const std::string& phone) {
  absl::StatusOr<crypto::DataKey> key = ring.KeyForSealing(worker_key);
  if (!key.ok()) return key.status();
  return crypto::SealSynthetic(*key, crypto::kFieldPhone, phone, context);
}

// ---------------------------------------------------------------------------
// Policy helpers

absl::Status ParseQuietHours(absl::string_view text, OutboxPolicy* policy) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text == "none" || text == "off") {
    policy->quiet_hours = false;
    return absl::OkStatus();
  }
  std::vector<std::string> ends = absl::StrSplit(text, '-');
  auto minute = [](absl::string_view hhmm, int* out) {
    std::vector<std::string> p = absl::StrSplit(hhmm, ':');
    int h = 0, m = 0;
    if (p.size() != 2 || !absl::SimpleAtoi(p[0], &h) || !absl::SimpleAtoi(p[1], &m) || h < 0 ||
        h > 23 || m < 0 || m > 59) {
      return false;
    }
    *out = h * 60 + m;
    return true;
  };
  if (ends.size() != 2 || !minute(ends[0], &policy->quiet_start_minute) ||
      !minute(ends[1], &policy->quiet_end_minute)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sms.quiet_hours: HH:MM-HH:MM or none, got ", text));
  }
  policy->quiet_hours = policy->quiet_start_minute != policy->quiet_end_minute;
  return absl::OkStatus();
}

bool InQuietHours(const OutboxPolicy& p, absl::Time t, absl::Time* until) {
  if (!p.quiet_hours) return false;
  const absl::CivilSecond s = absl::ToCivilSecond(t, ShanghaiTimeZone());
  const int m = s.hour() * 60 + s.minute();
  const absl::CivilDay day(s);
  const int end_h = p.quiet_end_minute / 60, end_m = p.quiet_end_minute % 60;
  bool quiet;
  absl::CivilDay end_day = day;
  if (p.quiet_start_minute > p.quiet_end_minute) {  // wraps midnight: 22:00-08:00
    quiet = m >= p.quiet_start_minute || m < p.quiet_end_minute;
    if (m >= p.quiet_start_minute) end_day = day + 1;
  } else {
    quiet = m >= p.quiet_start_minute && m < p.quiet_end_minute;
  }
  if (quiet && until != nullptr) *until = ShanghaiTime(end_day, end_h, end_m);
  return quiet;
}

// The gateway's rate is a property of real elapsed time, not of the business
// day: a simulated clock that stands still (tests, the demo, a replayed year)
// must not starve the outbox, nor a clock moved forward a month flood the
// gateway. So the bucket runs on a monotonic clock, which measures only
// durations (the business clock still decides quiet hours, caps and retries).
absl::Time PacingNow() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

bool SendRate::Take(absl::Time now) {
  if (per_second_ <= 0) return true;
  const absl::Duration t = absl::Seconds(1) / per_second_;
  const absl::Duration tau = t * (per_second_ - 1);  // burst: a second's worth
  // First use, or the clock was set back past anything this bucket promised.
  if (tat_ == absl::InfinitePast() || tat_ > now + tau + absl::Seconds(1)) tat_ = now;
  if (now < tat_ - tau) return false;
  tat_ = std::max(tat_, now) + t;
  return true;
}

void SendRate::Drain(absl::Time now) {
  if (per_second_ <= 0) return;
  const absl::Duration t = absl::Seconds(1) / per_second_;
  tat_ = now + absl::Seconds(1) + t * (per_second_ - 1);
}

void DeliveryReports::Add(const std::string& gateway_message_id, GatewayReport report) {
  absl::MutexLock l(&mu_);
  reports_[gateway_message_id] = std::move(report);
}

std::optional<GatewayReport> DeliveryReports::Take(const std::string& gateway_message_id) {
  absl::MutexLock l(&mu_);
  auto it = reports_.find(gateway_message_id);
  if (it == reports_.end()) return std::nullopt;
  GatewayReport r = std::move(it->second);
  reports_.erase(it);
  return r;
}

absl::StatusOr<std::optional<v1::SmsRecord>> ReadMessage(const store::StateStore& store,
                                                         const std::string& message_id) {
  absl::StatusOr<std::optional<std::string>> raw = store.Get(kMessages, message_id);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<v1::SmsRecord>();
  v1::SmsRecord r;
  if (!r.ParseFromString(**raw)) return absl::InternalError("unreadable message in state");
  return std::optional<v1::SmsRecord>(std::move(r));
}

// ---------------------------------------------------------------------------
// Decide

struct NotificationLogic::Queue {
  v1::SmsTemplate template_id = v1::SMS_TEMPLATE_UNSPECIFIED;
  std::string phone;
  std::string text;
  std::string platform_id;  // the recipient is this platform's contact
  bool urgent = false;
  bool erased = false;      // no phone because the worker's data was erased
};

NotificationLogic::NotificationLogic(LogicOptions options, SmsGateway* gateway,
                                     DeliveryReports* reports, const Logger* log)
    : o_(std::move(options)),
      gateway_(gateway),
      reports_(reports),
      log_(log),
      rate_(o_.policy.rate_per_second) {}

absl::StatusOr<v1::SmsWorkerContact> NotificationLogic::Opened(
    const v1::SmsWorkerContact& contact, bool* erased) const {
  if (!contact.has_sealed_person()) return contact;
  v1::SmsWorkerContact out = contact;
  out.clear_sealed_person();
  if (ring_ == nullptr) return absl::InternalError("sealed contact and no key ring");
  absl::StatusOr<v1::PersonalData> p =
      crypto::OpenPerson(*ring_, contact.worker_key(), contact.sealed_person());
  if (p.ok()) {
    out.set_name(p->name());
    out.set_phone(p->phone());
    return out;
  }
  const absl::StatusCode c = p.status().code();
  if (c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kDeadlineExceeded) {
    return p.status();  // the key ring's broker: try again
  }
  // Erased (or unreadable): nobody to write to.
  if (erased != nullptr && crypto::IsErased(p.status())) *erased = true;
  out.clear_name();
  out.clear_phone();
  return out;
}

absl::Status NotificationLogic::SetRecipient(const std::string& worker_key,
                                             const std::string& phone, bool to_platform,
                                             v1::SmsQueued* queued) const {
  v1::SmsMessage* m = queued->mutable_message();
  m->set_phone_masked(phone.empty() ? "" : MaskPhone(phone));
  m->clear_sealed_phone();
  queued->clear_phone();
  queued->clear_phone_key();
  if (phone.empty()) return absl::OkStatus();
  if (keyer_ != nullptr) queued->set_phone_key(keyer_->KeyFor(absl::StrCat("phone:", phone)));
  if (to_platform || ring_ == nullptr) {
    queued->set_phone(phone);  // a company's contact, or no master key: in clear
    return absl::OkStatus();
  }
  absl::StatusOr<v1::SealedPersonalData> sealed =
      SealPhone(*ring_, worker_key, queued->gateway_message_id(), phone);
  if (!sealed.ok()) return sealed.status();
  *m->mutable_sealed_phone() = *std::move(sealed);
  return absl::OkStatus();
}

absl::StatusOr<std::string> NotificationLogic::RecipientPhone(const v1::SmsRecord& r) const {
  if (!r.phone().empty()) return r.phone();
  if (!r.message().has_sealed_phone()) {
    return absl::FailedPreconditionError(kNoContactPhone);
  }
  if (ring_ == nullptr) {
    // A master key taken away from a running deployment: hold the message
    // until it is back rather than fail what a restart would send.
    return absl::UnavailableError("sealed phone and no key ring (crypto.master_key_file)");
  }
  absl::StatusOr<std::string> phone = crypto::OpenField(*ring_, r.message().worker_key(),
                                                        crypto::kFieldPhone,
                                                        r.message().sealed_phone());
  if (phone.ok()) {
    if (phone->empty()) return absl::FailedPreconditionError(kNoContactPhone);
    return phone;
  }
  if (crypto::IsErased(phone.status())) {
    return absl::FailedPreconditionError(kRecipientDataErased);
  }
  const absl::StatusCode c = phone.status().code();
  if (c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kDeadlineExceeded) {
    return phone.status();  // the key ring's broker: next tick
  }
  return absl::FailedPreconditionError(
      absl::StrCat(kRecipientPhoneUnreadable, ": ", phone.status().message()));
}

std::vector<std::string> NotificationLogic::ColumnFamilies() const {
  return {kMessages, kOutbox, kByWorker, kContacts, kPlatforms, kSentDaily};
}

absl::Status NotificationLogic::Decide(const processor::State& state, const kafka::Message& request,
                                       std::vector<kafka::Record>* out) {
  if (request.topic == o_.requests_topic) {
    // An operator's command; a malformed one is dead-lettered.
    v1::SmsCommand command;
    if (!command.ParseFromString(request.value)) {
      return absl::InvalidArgumentError("not a mutualaid.v1.SmsCommand");
    }
    if (command.has_resend()) return DecideResend(state, command, out);
    return absl::InvalidArgumentError("SmsCommand without a known body");
  }
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(request);
  // Another service's record we cannot read is that service's business.
  if (!env.ok()) return absl::OkStatus();
  const std::string& wk = env->worker_key();
  auto contact = Read<v1::SmsWorkerContact>(state, kContacts, wk);
  if (!contact.ok()) return contact.status();
  bool known_erased = false;
  absl::StatusOr<v1::SmsWorkerContact> opened =
      Opened(contact->value_or(v1::SmsWorkerContact()), &known_erased);
  if (!opened.ok()) return opened.status();
  const v1::SmsWorkerContact known = *std::move(opened);
  auto platform_phone = [&](const std::string& platform_id) -> absl::StatusOr<std::string> {
    auto p = Read<v1::Platform>(state, kPlatforms, platform_id);
    if (!p.ok()) return p.status();
    return p->has_value() ? (*p)->contact_phone() : std::string();
  };

  auto cover_started = [&](const v1::Enrollment& e) -> absl::Status {
    v1::SmsWorkerContact from_event;
    from_event.set_worker_key(wk);
    if (e.has_sealed_person()) {
      // Only when the event has one: an empty sealed person would read as
      // erased and the SMS would fail with NO_CONTACT_PHONE.
      *from_event.mutable_sealed_person() = e.sealed_person();
    } else {
      from_event.set_name(e.person().name());
      from_event.set_phone(e.person().phone());
    }
    bool erased = false;
    absl::StatusOr<v1::SmsWorkerContact> person = Opened(from_event, &erased);
    if (!person.ok()) return person.status();
    Queue q;
    q.template_id = v1::SMS_TEMPLATE_COVER_STARTED;
    q.phone = !person->phone().empty() ? person->phone() : known.phone();
    q.erased = q.phone.empty() && (erased || known_erased);
    const std::string& name = !person->name().empty() ? person->name() : known.name();
    q.text = RenderCoverStarted({name, e.plan_year(), e.coverage_start(), e.coverage_end()});
    return Enqueue(state, *env, std::move(q), out);
  };
  auto claim_denied = [&](const v1::ClaimDecision& c) -> absl::Status {
    ClaimDenied d;
    d.name = known.name();
    d.benefit = c.benefit();
    for (int r : c.decision().reasons()) d.reasons.push_back(static_cast<v1::ReasonCode>(r));
    Queue q;
    q.template_id = v1::SMS_TEMPLATE_CLAIM_DENIED;
    if (IsDeathBenefit(c.benefit())) {
      // §六: a death claim is the platform's; its contact hears the answer.
      d.to_platform = true;
      q.platform_id = !c.platform_id().empty() ? c.platform_id() : known.platform_id();
      absl::StatusOr<std::string> phone = platform_phone(q.platform_id);
      if (!phone.ok()) return phone.status();
      q.phone = *phone;
    } else {
      q.phone = known.phone();
      q.erased = known_erased;
    }
    q.text = RenderClaimDenied(d);
    return Enqueue(state, *env, std::move(q), out);
  };

  switch (env->body_case()) {
    case v1::Envelope::kEnrollmentAccepted:
      return cover_started(env->enrollment_accepted().enrollment());
    case v1::Envelope::kEnrollmentReviewDecided:
      if (!env->enrollment_review_decided().approved()) return absl::OkStatus();
      return cover_started(env->enrollment_review_decided().enrollment());
    case v1::Envelope::kPayoutConfirmed: {
      const v1::Payout& p = env->payout_confirmed().payout();
      PayoutConfirmed pc;
      pc.name = known.name();
      pc.benefit = p.benefit();
      pc.amount_fen = p.amount_fen();
      pc.payee = p.payee();
      pc.account_last4 = Last4(p.account_last4());
      Queue q;
      q.template_id = v1::SMS_TEMPLATE_PAYOUT_CONFIRMED;
      if (p.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT || IsDeathBenefit(p.benefit())) {
        q.platform_id = !p.platform_id().empty() ? p.platform_id() : known.platform_id();
        absl::StatusOr<std::string> phone = platform_phone(q.platform_id);
        if (!phone.ok()) return phone.status();
        q.phone = *phone;
      } else {
        q.phone = known.phone();
        q.erased = known_erased;
      }
      q.text = RenderPayoutConfirmed(pc);
      return Enqueue(state, *env, std::move(q), out);
    }
    case v1::Envelope::kClaimDecided:
      if (!Denied(env->claim_decided().claim())) return absl::OkStatus();
      return claim_denied(env->claim_decided().claim());
    case v1::Envelope::kClaimInvestigationDecided:
      if (!Denied(env->claim_investigation_decided().claim())) return absl::OkStatus();
      return claim_denied(env->claim_investigation_decided().claim());
    default:
      return absl::OkStatus();  // the rest of those topics is not ours to tell
  }
}

absl::Status NotificationLogic::Enqueue(const processor::State& state, const v1::Envelope& source,
                                        Queue q, std::vector<kafka::Record>* out) {
  const std::string message_id = MessageIdFor(source.event_id(), q.template_id);
  // One message per (event, template), whatever is replayed or redelivered.
  auto existing = state.Get(kMessages, message_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();

  events::EnvelopeHeader h;
  h.event_id = absl::StrCat(message_id, "/queued");
  h.worker_key = source.worker_key();
  h.occurred_on = events::FromProto(source.occurred_on(), "occurred_on").value_or(absl::CivilDay());
  h.recorded_at = events::FromProto(source.recorded_at());
  h.causation_id = source.event_id();
  h.producer = o_.producer;
  v1::Envelope env = events::NewEnvelope(h);
  v1::SmsQueued* x = env.mutable_sms_queued();
  v1::SmsMessage* m = x->mutable_message();
  m->set_message_id(message_id);
  m->set_source_event_id(source.event_id());
  m->set_template_(q.template_id);
  m->set_worker_key(source.worker_key());
  m->set_text(q.text);
  m->set_segments(Segments(q.text));
  m->set_urgent(q.urgent);
  if (q.phone.empty()) {
    // Nobody to send to: final at once, never in the outbox (a message with
    // no number would wait there forever). Visible as failed with the
    // reason; an operator resends it once the contact is known.
    m->set_status(v1::SMS_STATUS_FAILED);
    m->set_failure_reason(q.erased ? kRecipientDataErased : kNoContactPhone);
    if (log_ != nullptr) {
      log_->Info("sms not sendable", {{"message_id", message_id},
                                      {"reason", m->failure_reason()}});
    }
  } else {
    m->set_status(v1::SMS_STATUS_QUEUED);
  }
  absl::Time until;
  if (!q.urgent && InQuietHours(o_.policy, h.recorded_at, &until)) {
    *m->mutable_not_before() = events::ToProto(until);
  }
  x->set_resend(0);
  x->set_gateway_message_id(GatewayIdFor(message_id, 0));
  x->set_platform_id(q.platform_id);
  absl::Status recipient = SetRecipient(source.worker_key(), q.phone, !q.platform_id.empty(), x);
  if (!recipient.ok()) return recipient;
  out->push_back(events::ToRecord("", std::move(env)));
  return absl::OkStatus();
}

absl::Status NotificationLogic::DecideResend(const processor::State& state,
                                             const v1::SmsCommand& command,
                                             std::vector<kafka::Record>* out) {
  const v1::SmsResendRequested& req = command.resend();
  auto rec = Read<v1::SmsRecord>(state, kMessages, req.message_id());
  if (!rec.ok()) return rec.status();
  if (!rec->has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("message_id: unknown ", req.message_id()));
  }
  const v1::SmsRecord& r = **rec;
  // Resent meanwhile by another operator, or not failed: nothing to do.
  if (r.message().status() != v1::SMS_STATUS_FAILED) return absl::OkStatus();

  // To the recipient as known now (the worker may have changed the phone),
  // else as the message had it.
  std::string phone;
  bool erased = false;
  const bool to_platform = !r.platform_id().empty();
  if (to_platform) {
    phone = r.phone();
    auto p = Read<v1::Platform>(state, kPlatforms, r.platform_id());
    if (!p.ok()) return p.status();
    if (p->has_value() && !(*p)->contact_phone().empty()) phone = (*p)->contact_phone();
  } else {
    auto c = Read<v1::SmsWorkerContact>(state, kContacts, r.message().worker_key());
    if (!c.ok()) return c.status();
    if (c->has_value()) {
      absl::StatusOr<v1::SmsWorkerContact> known = Opened(**c, &erased);
      if (!known.ok()) return known.status();
      phone = known->phone();
    }
    if (phone.empty() && !erased) {
      absl::StatusOr<std::string> before = RecipientPhone(r);
      if (before.ok()) {
        phone = *before;
      } else if (absl::IsUnavailable(before.status()) ||
                 absl::IsDeadlineExceeded(before.status())) {
        return before.status();  // the key ring's broker: decided again later
      } else {
        erased = before.status().message() == kRecipientDataErased;
      }
    }
  }
  if (phone.empty()) {
    return absl::InvalidArgumentError(
        erased ? absl::StrCat("message_id: the recipient's personal data was erased (",
                              kRecipientDataErased, "): nothing to send to")
               : absl::StrCat("message_id: no contact phone known for this message (",
                              kNoContactPhone, ")"));
  }
  const int32_t resend = r.resend() + 1;
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat(r.message().message_id(), "/resend", resend);
  h.worker_key = r.message().worker_key();
  h.occurred_on = events::FromProto(command.recorded_on(), "recorded_on").value_or(absl::CivilDay());
  h.recorded_at = events::FromProto(command.recorded_at());
  h.causation_id = command.request_id();  // the gRPC edge waits on it
  h.producer = o_.producer;
  v1::Envelope env = events::NewEnvelope(h);
  v1::SmsQueued* x = env.mutable_sms_queued();
  *x->mutable_message() = r.message();
  v1::SmsMessage* m = x->mutable_message();
  m->set_status(v1::SMS_STATUS_QUEUED);
  m->set_attempts(0);
  m->set_failure_reason("");
  m->clear_not_before();
  x->set_resend(resend);
  x->set_gateway_message_id(GatewayIdFor(r.message().message_id(), resend));
  x->set_platform_id(r.platform_id());
  absl::Status recipient = SetRecipient(r.message().worker_key(), phone, to_platform, x);
  if (!recipient.ok()) return recipient;
  out->push_back(events::ToRecord("", std::move(env)));
  return absl::OkStatus();
}

bool NotificationLogic::NeedsContacts(const store::StateStore& store,
                                      const kafka::Message& request) const {
  // A resend goes to the contact as it stands now.
  if (request.topic == o_.requests_topic) return true;
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(request);
  if (!env.ok()) return false;
  auto has = [&](const char* cf, const std::string& key) {
    absl::StatusOr<std::optional<std::string>> v = store.Get(cf, key);
    return v.ok() && v->has_value();
  };
  auto worker_and_platform = [&](const std::string& platform_id, bool to_platform) {
    if (!has(kContacts, env->worker_key())) return true;
    return to_platform && !platform_id.empty() && !has(kPlatforms, platform_id);
  };
  switch (env->body_case()) {
    case v1::Envelope::kPayoutConfirmed: {
      const v1::Payout& p = env->payout_confirmed().payout();
      return worker_and_platform(p.platform_id(), p.payee() == v1::PAYEE_KIND_PLATFORM_ACCOUNT ||
                                                      IsDeathBenefit(p.benefit()));
    }
    case v1::Envelope::kClaimDecided: {
      const v1::ClaimDecision& c = env->claim_decided().claim();
      return Denied(c) && worker_and_platform(c.platform_id(), IsDeathBenefit(c.benefit()));
    }
    case v1::Envelope::kClaimInvestigationDecided: {
      const v1::ClaimDecision& c = env->claim_investigation_decided().claim();
      return Denied(c) && worker_and_platform(c.platform_id(), IsDeathBenefit(c.benefit()));
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Apply

absl::Status NotificationLogic::Apply(processor::State& state, const kafka::Message& event) {
  absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(event);
  if (!env.ok()) return env.status();
  const std::string& wk = env->worker_key();

  auto note_contact = [&](const v1::Enrollment& e) -> absl::Status {
    auto c = Read<v1::SmsWorkerContact>(state, kContacts, wk);
    if (!c.ok()) return c.status();
    v1::SmsWorkerContact contact = c->value_or(v1::SmsWorkerContact());
    if (e.has_sealed_person()) {
      *contact.mutable_sealed_person() = e.sealed_person();
      contact.set_worker_key(wk);
      contact.clear_name();
      contact.clear_phone();
    } else {
      if (!e.person().name().empty()) contact.set_name(e.person().name());
      if (!e.person().phone().empty()) contact.set_phone(e.person().phone());
    }
    if (!e.platform_id().empty()) contact.set_platform_id(e.platform_id());
    state.Put(kContacts, wk, contact.SerializeAsString());
    return absl::OkStatus();
  };
  auto load = [&](const std::string& id) -> absl::StatusOr<v1::SmsRecord> {
    auto r = Read<v1::SmsRecord>(state, kMessages, id);
    if (!r.ok()) return r.status();
    if (!r->has_value()) return absl::InvalidArgumentError(absl::StrCat("unknown message ", id));
    return **r;
  };
  auto save = [&](const v1::SmsRecord& r) {
    state.Put(kMessages, r.message().message_id(), r.SerializeAsString());
    const std::string key = OutboxKey(r.partition(), r.seq(), r.message().message_id());
    const v1::SmsStatus s = r.message().status();
    if (s == v1::SMS_STATUS_QUEUED || s == v1::SMS_STATUS_SENT) {
      state.Put(kOutbox, key, "");
    } else {
      state.Delete(kOutbox, key);
    }
  };

  switch (env->body_case()) {
    case v1::Envelope::kEnrollmentAccepted:
      return note_contact(env->enrollment_accepted().enrollment());
    case v1::Envelope::kEnrollmentPendingReview:
      return note_contact(env->enrollment_pending_review().enrollment());
    case v1::Envelope::kEnrollmentReviewDecided:
      return note_contact(env->enrollment_review_decided().enrollment());
    case v1::Envelope::kContactPhoneChanged: {
      const v1::ContactPhoneChanged& x = env->contact_phone_changed();
      auto c = Read<v1::SmsWorkerContact>(state, kContacts, wk);
      if (!c.ok()) return c.status();
      v1::SmsWorkerContact contact = c->value_or(v1::SmsWorkerContact());
      if (x.has_sealed_person()) {
        *contact.mutable_sealed_person() = x.sealed_person();
        contact.set_worker_key(wk);
        contact.clear_name();
        contact.clear_phone();
      } else {
        if (!x.person().phone().empty()) contact.set_phone(x.person().phone());
        if (!x.person().name().empty()) contact.set_name(x.person().name());
      }
      state.Put(kContacts, wk, contact.SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Envelope::kPlatformRegistered: {
      const v1::Platform& p = env->platform_registered().platform();
      state.Put(kPlatforms, p.platform_id(), p.SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Envelope::kSmsQueued: {
      const v1::SmsQueued& x = env->sms_queued();
      const std::string& id = x.message().message_id();
      if (id.empty()) return absl::InvalidArgumentError("sms_queued without a message id");
      auto existing = Read<v1::SmsRecord>(state, kMessages, id);
      if (!existing.ok()) return existing.status();
      if (existing->has_value() && x.resend() <= (*existing)->resend()) return absl::OkStatus();
      v1::SmsRecord r;
      *r.mutable_message() = x.message();
      r.set_phone(x.phone());
      r.set_phone_key(x.phone_key());
      r.set_partition(existing->has_value() ? (*existing)->partition() : event.partition);
      r.set_gateway_message_id(x.gateway_message_id());
      r.set_resend(x.resend());
      r.set_seq(existing->has_value() ? (*existing)->seq()
                                      : absl::ToUnixMicros(events::FromProto(env->recorded_at())));
      r.set_platform_id(x.platform_id());
      save(r);
      state.Put(kByWorker, ByWorkerKey(r.message().worker_key(), r.seq(), id), "");
      return absl::OkStatus();
    }
    case v1::Envelope::kSmsSent: {
      const v1::SmsSent& x = env->sms_sent();
      absl::StatusOr<v1::SmsRecord> r = load(x.message_id());
      if (!r.ok()) return r.status();
      if (r->message().status() != v1::SMS_STATUS_QUEUED) return absl::OkStatus();
      const absl::Time at = events::FromProto(x.sent_at());
      const std::string cap_key = CapKeyOf(*r);
      const std::string key = SentDailyKey(cap_key, ShanghaiDay(at));
      absl::StatusOr<int64_t> n = SentOn(state, cap_key, ShanghaiDay(at));
      if (!n.ok()) return n.status();
      state.Put(kSentDaily, key, absl::StrCat(*n + 1));
      r->mutable_message()->set_status(v1::SMS_STATUS_SENT);
      r->mutable_message()->set_attempts(x.attempt());
      r->mutable_message()->set_failure_reason("");
      *r->mutable_sent_at() = x.sent_at();
      r->set_gateway_id(x.gateway_id());
      save(*r);
      return absl::OkStatus();
    }
    case v1::Envelope::kSmsDelivered: {
      absl::StatusOr<v1::SmsRecord> r = load(env->sms_delivered().message_id());
      if (!r.ok()) return r.status();
      r->mutable_message()->set_status(v1::SMS_STATUS_DELIVERED);
      save(*r);
      return absl::OkStatus();
    }
    case v1::Envelope::kSmsFailed: {
      const v1::SmsFailed& x = env->sms_failed();
      absl::StatusOr<v1::SmsRecord> r = load(x.message_id());
      if (!r.ok()) return r.status();
      r->mutable_message()->set_failure_reason(x.reason());
      r->mutable_message()->set_attempts(std::max(r->message().attempts(), x.attempt()));
      if (x.retriable()) {
        r->mutable_message()->set_status(v1::SMS_STATUS_QUEUED);
        *r->mutable_next_attempt_at() = x.next_attempt_at();
      } else {
        r->mutable_message()->set_status(v1::SMS_STATUS_FAILED);
      }
      save(*r);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

// ---------------------------------------------------------------------------
// Tick: the outbox

absl::Duration NotificationLogic::Backoff(int32_t attempt) const {
  absl::Duration d = o_.policy.retry_initial;
  for (int32_t i = 1; i < attempt && d < o_.policy.retry_max; ++i) d *= 2;
  return std::min(d, o_.policy.retry_max);
}

v1::Envelope NotificationLogic::TickEvent(const v1::SmsRecord& r, const std::string& what,
                                          absl::Time now) const {
  events::EnvelopeHeader h;
  h.event_id = absl::StrCat(r.message().message_id(), "/", what);
  h.worker_key = r.message().worker_key();
  h.occurred_on = ShanghaiDay(now);
  h.recorded_at = now;
  h.causation_id = r.message().message_id();
  h.producer = o_.producer;
  return events::NewEnvelope(h);
}

absl::Status NotificationLogic::Tick(const processor::State& state, int32_t partition,
                                     absl::Time now, std::vector<kafka::Record>* out) {
  if (gateway_ == nullptr) return absl::OkStatus();
  const OutboxPolicy& p = o_.policy;
  std::vector<std::string> ids;
  const std::string prefix = store::KeyBuilder().Int64(partition).Prefix();
  absl::Status scanned = state.ScanPrefix(kOutbox, prefix, [&](absl::string_view key, absl::string_view) {
    ids.emplace_back(key.substr(prefix.size() + 9));  // after the 8-byte seq and its '/'
    return true;
  });
  if (!scanned.ok()) return scanned;

  const bool quiet = InQuietHours(p, now);
  const absl::CivilDay today = ShanghaiDay(now);
  std::map<std::string, int64_t> sent_now;  // phone -> sent in this tick
  int32_t sends = 0, polls = 0;
  bool rate_exhausted = false;
  std::optional<absl::Status> caught_up;

  for (const std::string& id : ids) {
    auto rec = Read<v1::SmsRecord>(state, kMessages, id);
    if (!rec.ok()) return rec.status();
    if (!rec->has_value()) continue;
    const v1::SmsRecord& r = **rec;
    const int32_t resend = r.resend();
    auto suffix = [&](const std::string& what, int32_t attempt) {
      return absl::StrCat(what, "/", resend, ".", attempt);
    };
    auto emit_final = [&](const GatewayReport& g, int32_t attempt) {
      if (g.outcome == Outcome::kDelivered) {
        v1::Envelope e = TickEvent(r, suffix("delivered", attempt), now);
        e.mutable_sms_delivered()->set_message_id(id);
        *e.mutable_sms_delivered()->mutable_delivered_at() = events::ToProto(now);
        out->push_back(events::ToRecord("", std::move(e)));
      } else if (g.outcome == Outcome::kFailed) {
        v1::Envelope e = TickEvent(r, suffix("undelivered", attempt), now);
        v1::SmsFailed* f = e.mutable_sms_failed();
        f->set_message_id(id);
        f->set_reason(g.reason);
        f->set_retriable(false);
        f->set_attempt(attempt);
        *f->mutable_failed_at() = events::ToProto(now);
        out->push_back(events::ToRecord("", std::move(e)));
      }
    };
    auto emit_sent = [&](const GatewayReport& g, int32_t attempt) {
      v1::Envelope e = TickEvent(r, suffix("sent", attempt), now);
      v1::SmsSent* s = e.mutable_sms_sent();
      s->set_message_id(id);
      s->set_gateway_id(g.gateway_id);
      *s->mutable_sent_at() = events::ToProto(now);
      s->set_attempt(attempt);
      out->push_back(events::ToRecord("", std::move(e)));
      ++sent_now[CapKeyOf(r)];
    };
    auto emit_retry = [&](const std::string& reason, int32_t attempt) {
      const bool again = attempt < p.max_attempts;
      v1::Envelope e = TickEvent(r, suffix("failed", attempt), now);
      v1::SmsFailed* f = e.mutable_sms_failed();
      f->set_message_id(id);
      f->set_reason(again ? reason : absl::StrCat(reason, " (gave up after ", attempt, " attempts)"));
      f->set_retriable(again);
      f->set_attempt(attempt);
      *f->mutable_failed_at() = events::ToProto(now);
      if (again) *f->mutable_next_attempt_at() = events::ToProto(now + Backoff(attempt));
      out->push_back(events::ToRecord("", std::move(e)));
    };

    if (r.message().status() == v1::SMS_STATUS_SENT) {
      // Delivery: a callback's report if one came, else ask.
      std::optional<GatewayReport> g;
      if (reports_ != nullptr) g = reports_->Take(r.gateway_message_id());
      if (!g.has_value()) {
        if (polls >= p.max_polls_per_tick) continue;
        ++polls;
        g = gateway_->Query(r.gateway_message_id());
      }
      if (g->outcome == Outcome::kNotFound) {
        // The gateway holds no such message (lost before it answered):
        // queue it again; the dedupe key keeps it one SMS.
        emit_retry("GATEWAY_LOST", r.message().attempts());
      } else {
        emit_final(*g, r.message().attempts());
      }
      continue;
    }
    if (r.message().status() != v1::SMS_STATUS_QUEUED) continue;
    if (r.has_next_attempt_at() && events::FromProto(r.next_attempt_at()) > now) continue;
    if (quiet && !r.message().urgent()) continue;  // held until the quiet hours end
    if (p.daily_cap > 0) {
      const std::string cap_key = CapKeyOf(r);
      absl::StatusOr<int64_t> n = SentOn(state, cap_key, today);
      if (!n.ok()) return n.status();
      if (*n + sent_now[cap_key] >= p.daily_cap) continue;  // held until tomorrow
    }
    if (rate_exhausted || sends >= p.max_sends_per_tick) continue;
    if (!rate_.Take(PacingNow())) {
      rate_exhausted = true;
      continue;
    }
    ++sends;
    const int32_t attempt = r.message().attempts() + 1;
    if (r.message().attempts() > 0) {
      // An earlier attempt's outcome may be unknown: ask before sending again.
      GatewayReport q = gateway_->Query(r.gateway_message_id());
      if (q.outcome == Outcome::kAccepted || q.outcome == Outcome::kDelivered ||
          q.outcome == Outcome::kFailed) {
        emit_sent(q, attempt);
        emit_final(q, attempt);
        continue;
      }
      if (q.outcome != Outcome::kNotFound) {
        emit_retry(absl::StrCat("status unknown: ", q.reason), attempt);
        continue;
      }
    }
    // The recipient, opened only now (a worker's phone is sealed in the
    // message). Erased since it was queued, unreadable or none: final, with
    // the reason; never sent to an empty number, never retried.
    // Once per tick, before the first sealed phone is opened: every erasure
    // acknowledged before this tick is seen (KeyRing::CatchUp).
    if (ring_ != nullptr && r.message().has_sealed_phone() && !caught_up.has_value()) {
      caught_up = ring_->CatchUp();
    }
    absl::StatusOr<std::string> phone =
        caught_up.has_value() && !caught_up->ok()
            ? absl::StatusOr<std::string>(absl::UnavailableError(
                  absl::StrCat("key ring: ", caught_up->message())))
            : RecipientPhone(r);
    if (!phone.ok()) {
      --sends;
      if (absl::IsFailedPrecondition(phone.status())) {
        v1::Envelope e = TickEvent(r, suffix("unsendable", attempt), now);
        v1::SmsFailed* f = e.mutable_sms_failed();
        f->set_message_id(id);
        f->set_reason(std::string(phone.status().message()));
        f->set_retriable(false);
        f->set_attempt(r.message().attempts());
        *f->mutable_failed_at() = events::ToProto(now);
        out->push_back(events::ToRecord("", std::move(e)));
      } else if (log_ != nullptr) {
        log_->Warning("sms held: recipient not opened",
                      {{"message_id", id}, {"error", phone.status().ToString()}});
      }
      continue;
    }
    GatewayReport g =
        gateway_->Submit(r.gateway_message_id(), *phone, r.message().text(), p.callback_url);
    switch (g.outcome) {
      case Outcome::kAccepted:
      case Outcome::kDelivered:
        emit_sent(g, attempt);
        break;
      case Outcome::kFailed: {
        // Refused as such (bad number, conflicting reuse): final.
        v1::Envelope e = TickEvent(r, suffix("refused", attempt), now);
        v1::SmsFailed* f = e.mutable_sms_failed();
        f->set_message_id(id);
        f->set_reason(g.reason);
        f->set_retriable(false);
        f->set_attempt(attempt);
        *f->mutable_failed_at() = events::ToProto(now);
        out->push_back(events::ToRecord("", std::move(e)));
        break;
      }
      case Outcome::kRateLimited:
        rate_.Drain(PacingNow());
        rate_exhausted = true;
        --sends;
        break;
      case Outcome::kTransient:
      case Outcome::kNotFound:
        emit_retry(g.reason, attempt);
        break;
    }
  }
  if (log_ != nullptr && !out->empty()) {
    log_->Debug("outbox tick", {{"partition", partition}, {"events", static_cast<int64_t>(out->size())}});
  }
  return absl::OkStatus();
}

}  // namespace mutualaid::notification

// mutualctl history: one worker's whole timeline across the topics, in order
// of recorded time, personal data masked unless --unmask (which is logged).
// Sealed personal data (libs/crypto) is opened through the key ring read from
// the keys topic with the master key (--master-key-file, as the services'
// crypto.master_key_file): shown masked, or in clear with --unmask; "erased"
// once the worker's key was erased; "(sealed)" without a master key.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common.h"
#include "mutualaid/core/log.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/kafka_key_ring.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/topics.h"
#include "ops.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl history --worker ID_NUMBER --secret-file FILE [--unmask] [--requests]\n"
    "                         [--master-key-file FILE] [--bootstrap HOST:PORT] [--topic-prefix P]\n"
    "The worker's timeline across the events topics (--requests: the requests topics too),\n"
    "in order of recorded time: enrollments, reviews, claims, decisions with reasons and\n"
    "clauses, payouts, SMS. The worker key is HMAC(secret, ID number); only the worker's\n"
    "partition is read. Personal data is masked unless --unmask, which is logged to stderr.\n"
    "Sealed personal data is opened with the master key (--master-key-file, default\n"
    "$MUTUALAID_CRYPTO_MASTER_KEY_FILE) and the worker's data key from the keys topic:\n"
    "masked, or in clear with --unmask; \"erased\" once the worker's data was erased;\n"
    "\"(sealed)\" without a master key.\n"
    "--secret-file defaults to $MUTUALAID_WORKER_KEY_SECRET_FILE.\n";

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "mutualctl history: " << why << '\n';
  std::cerr << kUsage;
  return 2;
}

struct Masks {
  bool unmask = false;
  crypto::KeyRing* ring = nullptr;  // null: no master key, sealed data stays "(sealed)"
  std::string worker_key;
  std::string Name(const std::string& s) const { return unmask ? s : MaskName(s); }
  std::string Phone(const std::string& s) const { return unmask ? s : MaskPhone(s); }
  std::string Id(const std::string& s) const { return unmask ? s : MaskIdNumber(s); }
  std::string Card(const std::string& s) const { return unmask ? s : MaskCardNumber(s); }

  // Opens one sealed field of the worker.
  absl::StatusOr<std::string> Open(const char* field, const v1::SealedPersonalData& s) const {
    if (ring == nullptr) return absl::FailedPreconditionError("no master key");
    return crypto::OpenField(*ring, worker_key, field, s);
  }
  // What to print for sealed data that did not open.
  std::string Unopened(const absl::Status& s) const {
    if (ring == nullptr) return "(sealed)";
    if (crypto::IsErased(s)) return crypto::kErased;
    return absl::StrCat("(unreadable: ", absl::StatusCodeToString(s.code()), ")");
  }
  // A sealed v1::PersonalData / v1::PayeeCard / phone, shown masked or clear.
  std::string SealedPerson(const v1::SealedPersonalData& s) const {
    absl::StatusOr<std::string> clear = Open(crypto::kFieldPerson, s);
    if (!clear.ok()) return "person " + Unopened(clear.status());
    v1::PersonalData p;
    if (!p.ParseFromString(*clear)) return "person (unreadable)";
    std::vector<std::string> parts;
    if (!p.name().empty()) parts.push_back(Name(p.name()));
    if (!p.id_number().empty()) parts.push_back(Id(p.id_number()));
    if (!p.phone().empty()) parts.push_back(Phone(p.phone()));
    return absl::StrJoin(parts, " ");
  }
  std::string SealedCard(const v1::SealedPersonalData& s) const {
    absl::StatusOr<std::string> clear = Open(crypto::kFieldCard, s);
    if (!clear.ok()) return Unopened(clear.status());
    v1::PayeeCard c;
    if (!c.ParseFromString(*clear)) return "(unreadable)";
    std::string out = Card(c.card_number());
    if (!c.holder_name().empty()) absl::StrAppend(&out, " ", Name(c.holder_name()));
    return out;
  }
  std::string SealedPhone(const v1::SealedPersonalData& s) const {
    absl::StatusOr<std::string> clear = Open(crypto::kFieldPhone, s);
    if (!clear.ok()) return Unopened(clear.status());
    return Phone(*clear);
  }
};

std::string Decision(const v1::DecisionRecord& d) {
  std::vector<std::string> parts;
  if (d.reasons_size() > 0) {
    std::vector<std::string> r;
    for (int code : d.reasons()) r.push_back(ops::ReasonName(code));
    parts.push_back("reasons " + absl::StrJoin(r, ","));
  }
  if (d.clauses_size() > 0) parts.push_back("clauses " + absl::StrJoin(d.clauses(), ","));
  if (!d.field().empty()) parts.push_back("field " + d.field());
  if (!d.detail().empty()) parts.push_back("\"" + d.detail() + "\"");
  if (!d.rule_set_version().empty()) parts.push_back("rules " + d.rule_set_version());
  return absl::StrJoin(parts, "; ");
}

std::string Person(const v1::PersonalData& p, const v1::SealedPersonalData* sealed,
                   const Masks& m) {
  if (sealed != nullptr && p.name().empty() && p.id_number().empty() && p.phone().empty()) {
    return m.SealedPerson(*sealed);
  }
  return absl::StrFormat("%s %s %s", m.Name(p.name()), m.Id(p.id_number()), m.Phone(p.phone()));
}

std::string EnrollmentText(const v1::Enrollment& e, const Masks& m) {
  return absl::StrFormat("%s platform %s plan year %d %s covers %s..%s fee %s; %s",
                         e.enrollment_id(), e.platform_id(), e.plan_year(), ops::KindLabel(e.kind()),
                         ops::DateText(e.coverage_start()), ops::DateText(e.coverage_end()),
                         ops::Yuan(e.fee_fen()),
                         Person(e.person(), e.has_sealed_person() ? &e.sealed_person() : nullptr, m));
}

std::string ClaimText(const v1::ClaimDecision& c) {
  std::string s = absl::StrFormat("claim %s %s(%s) %s", c.claim_id(), ops::BenefitName(c.benefit()),
                                  ops::BenefitLabel(c.benefit()), ops::ClaimStatusName(c.status()));
  if (c.amount_fen() > 0) absl::StrAppend(&s, " ", ops::Yuan(c.amount_fen()), " yuan", c.capped() ? " (capped)" : "");
  absl::StrAppend(&s, " plan year ", c.plan_year());
  if (!c.site().empty()) absl::StrAppend(&s, " site ", c.site());
  if (ops::IsSet(c.received_on())) absl::StrAppend(&s, " received ", ops::DateText(c.received_on()));
  if (ops::IsSet(c.due_by())) absl::StrAppend(&s, " due by ", ops::DateText(c.due_by()));
  std::string d = Decision(c.decision());
  if (!d.empty()) absl::StrAppend(&s, "; ", d);
  return s;
}

std::string PayoutText(const v1::Payout& p, const Masks& m) {
  std::string s = absl::StrFormat("payout %s claim %s %s yuan", p.payout_id(), p.claim_id(),
                                  ops::Yuan(p.amount_fen()));
  if (!p.payee_name().empty()) absl::StrAppend(&s, " to ", m.Name(p.payee_name()));
  if (!p.payee_account().empty()) {
    absl::StrAppend(&s, " account ", m.Card(p.payee_account()));
  } else if (p.has_sealed_account()) {
    absl::StrAppend(&s, " account ", m.SealedCard(p.sealed_account()));
  } else if (!p.account_last4().empty()) {
    absl::StrAppend(&s, " account **** ", p.account_last4());
  }
  if (!p.platform_id().empty()) absl::StrAppend(&s, " platform ", p.platform_id());
  if (ops::IsSet(p.due_by())) absl::StrAppend(&s, " due by ", ops::DateText(p.due_by()));
  if (p.issue() > 1) absl::StrAppend(&s, " issue ", p.issue());
  return s;
}

std::string Describe(const v1::Envelope& e, const Masks& m) {
  switch (e.body_case()) {
    case v1::Envelope::kEnrollmentRequested: {
      const auto& r = e.enrollment_requested();
      if (r.has_sealed_person()) {
        return absl::StrFormat("platform %s record %s: %s industry %s", r.platform_id(),
                               r.record().platform_record_id(), m.SealedPerson(r.sealed_person()),
                               r.record().industry());
      }
      return absl::StrFormat("platform %s record %s: %s %s %s industry %s", r.platform_id(),
                             r.record().platform_record_id(), m.Name(r.record().name()),
                             m.Id(r.record().id_number()), m.Phone(r.record().phone()),
                             r.record().industry());
    }
    case v1::Envelope::kEnrollmentAccepted:
      return absl::StrCat(EnrollmentText(e.enrollment_accepted().enrollment(), m), "; approved by ",
                          e.enrollment_accepted().approved_by(), "; ",
                          Decision(e.enrollment_accepted().decision()));
    case v1::Envelope::kEnrollmentPendingReview:
      return absl::StrCat(EnrollmentText(e.enrollment_pending_review().enrollment(), m), "; ",
                          Decision(e.enrollment_pending_review().decision()));
    case v1::Envelope::kEnrollmentRejected: {
      const auto& r = e.enrollment_rejected();
      return absl::StrFormat("platform %s record %s plan year %d; %s", r.platform_id(),
                             r.platform_record_id(), r.plan_year(), Decision(r.decision()));
    }
    case v1::Envelope::kEnrollmentReviewDecided: {
      const auto& r = e.enrollment_review_decided();
      return absl::StrFormat("%s by %s%s: %s; %s", r.approved() ? "APPROVED" : "REJECTED",
                             r.reviewer(), r.reason().empty() ? "" : " (" + r.reason() + ")",
                             EnrollmentText(r.enrollment(), m), Decision(r.decision()));
    }
    case v1::Envelope::kContactPhoneChanged: {
      const auto& r = e.contact_phone_changed();
      std::string phone = m.Phone(r.person().phone());
      if (r.has_sealed_person() && r.person().phone().empty()) {
        absl::StatusOr<std::string> clear = m.Open(crypto::kFieldPerson, r.sealed_person());
        v1::PersonalData p;
        if (!clear.ok()) {
          phone = m.Unopened(clear.status());
        } else if (!p.ParseFromString(*clear)) {
          phone = "(unreadable)";
        } else {
          phone = m.Phone(p.phone());
        }
      }
      return absl::StrFormat("%s new phone %s by %s", r.enrollment_id(), phone, r.caller());
    }
    case v1::Envelope::kContactPhoneChangeRequested: {
      const auto& r = e.contact_phone_change_requested();
      return absl::StrFormat("%s new phone %s by %s", r.enrollment_id(),
                             r.has_sealed_new_phone() ? m.SealedPhone(r.sealed_new_phone())
                                                      : m.Phone(r.new_phone()),
                             r.caller());
    }
    case v1::Envelope::kEnrollmentRetryAnswered:
      return absl::StrFormat("retry of record %s answered with %s", e.enrollment_retry_answered().platform_record_id(),
                             e.enrollment_retry_answered().enrollment_id());
    case v1::Envelope::kClaimFiled: {
      const auto& f = e.claim_filed();
      return absl::StrFormat("claim %s %s at %s received %s by %s; id %s card %s",
                             f.application().claim_id(), ops::BenefitName(f.application().facts().benefit()),
                             f.application().site(), ops::DateText(f.received_on()), f.caller(),
                             f.has_sealed_person() ? m.SealedPerson(f.sealed_person())
                                                   : m.Id(f.application().id_number()),
                             f.has_sealed_card() ? m.SealedCard(f.sealed_card())
                                                 : m.Card(f.application().payee_card().card_number()));
    }
    case v1::Envelope::kClaimDecided: {
      const auto& d = e.claim_decided();
      std::string s = ClaimText(d.claim());
      const auto& app = d.filed().application();
      if (!app.payee_card().card_number().empty()) {
        absl::StrAppend(&s, "; card ", m.Card(app.payee_card().card_number()), " ",
                        m.Name(app.payee_card().holder_name()));
      } else if (d.filed().has_sealed_card()) {
        absl::StrAppend(&s, "; card ", m.SealedCard(d.filed().sealed_card()));
      }
      if (!d.filed().caller().empty()) absl::StrAppend(&s, "; filed by ", d.filed().caller());
      return s;
    }
    case v1::Envelope::kClaimInvestigationDecided: {
      const auto& r = e.claim_investigation_decided();
      return absl::StrFormat("investigation %s by %s%s%s: %s", r.approved() ? "UPHELD" : "DENIED",
                             r.investigator(), r.reason().empty() ? "" : " (" + r.reason() + ")",
                             r.facts_corrected() ? ", facts corrected" : "", ClaimText(r.claim()));
    }
    case v1::Envelope::kClaimPaid: {
      const auto& p = e.claim_paid();
      return absl::StrFormat("claim %s paid %s yuan on %s (payout %s)", p.claim_id(), ops::Yuan(p.amount_fen()),
                             ops::DateText(p.paid_on()), p.payout_id());
    }
    case v1::Envelope::kPayoutRequested: return PayoutText(e.payout_requested().payout(), m);
    case v1::Envelope::kPayoutSent: {
      const auto& p = e.payout_sent();
      return absl::StrFormat("payout %s attempt %d sent%s", p.payout_id(), p.attempt(),
                             p.bank_status().empty() ? "" : " (bank: " + p.bank_status() + ")");
    }
    case v1::Envelope::kPayoutConfirmed:
      return absl::StrCat(PayoutText(e.payout_confirmed().payout(), m), " confirmed ",
                          ops::DateText(e.payout_confirmed().confirmed_on()), " bank ref ",
                          e.payout_confirmed().bank_reference());
    case v1::Envelope::kPayoutFailed: {
      const auto& p = e.payout_failed();
      return absl::StrFormat("payout %s attempt %d failed: %s %s%s", p.payout_id(), p.attempt(), p.bank_code(),
                             p.reason(), p.retriable() ? " (will retry)" : "");
    }
    case v1::Envelope::kPayoutReturned:
      return absl::StrFormat("payout %s returned: %s", e.payout_returned().payout_id(), e.payout_returned().reason());
    case v1::Envelope::kPayoutReissued:
      return absl::StrCat(PayoutText(e.payout_reissued().payout(), m), " reissued by ",
                          e.payout_reissued().operator_id(), ": ", e.payout_reissued().reason());
    case v1::Envelope::kSmsQueued: {
      const auto& q = e.sms_queued();
      std::string phone = !q.phone().empty()                ? m.Phone(q.phone())
                          : q.message().has_sealed_phone() ? m.SealedPhone(q.message().sealed_phone())
                                                           : q.message().phone_masked();
      if (phone.empty()) phone = "(no phone)";
      return absl::StrFormat("SMS %s to %s: %s", q.message().message_id(), phone, q.message().text());
    }
    case v1::Envelope::kSmsSent:
      return absl::StrFormat("SMS %s sent (attempt %d)", e.sms_sent().message_id(), e.sms_sent().attempt());
    case v1::Envelope::kSmsDelivered: return absl::StrFormat("SMS %s delivered", e.sms_delivered().message_id());
    case v1::Envelope::kSmsFailed:
      return absl::StrFormat("SMS %s failed: %s%s", e.sms_failed().message_id(), e.sms_failed().reason(),
                             e.sms_failed().retriable() ? " (will retry)" : "");
    default: return "";
  }
}

struct Line {
  absl::Time at;
  int topic = 0;
  int64_t offset = 0;
  std::string text;
};

}  // namespace

int RunHistoryCommand(int argc, char** argv) {
  absl::StatusOr<ops::Args> args = ops::ParseArgs(argc, argv, {"unmask", "requests", "help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->On("help")) {
    std::cout << kUsage;
    return 0;
  }
  const std::string id = args->Get("worker");
  const std::string secret_file = args->Get("secret-file", "MUTUALAID_WORKER_KEY_SECRET_FILE");
  if (id.empty() || secret_file.empty()) return Usage("--worker and --secret-file are required");
  absl::StatusOr<std::string> secret = LoadWorkerKeySecretFromFile(secret_file);
  if (!secret.ok()) return Usage(std::string(secret.status().message()));
  absl::StatusOr<WorkerKeyer> keyer = WorkerKeyer::Create(*std::move(secret));
  if (!keyer.ok()) return Usage(std::string(keyer.status().message()));
  const std::string key = keyer->KeyFor(id);
  Masks masks;
  masks.unmask = args->On("unmask");
  masks.worker_key = key;
  const std::string prefix = ops::PrefixFrom(*args);
  const kafka::ClientConfig client = ops::ClientFrom(*args);

  // The master key, as the services take it: a file (or the hex in
  // $MUTUALAID_CRYPTO_MASTER_KEY). Without one sealed data stays "(sealed)".
  std::unique_ptr<crypto::KafkaKeyRing> ring;
  {
    const std::string master_file = args->Get("master-key-file", "MUTUALAID_CRYPTO_MASTER_KEY_FILE");
    const char* master_hex = std::getenv("MUTUALAID_CRYPTO_MASTER_KEY");
    absl::StatusOr<crypto::MasterKey> master = absl::NotFoundError("none");
    if (!master_file.empty()) {
      absl::StatusOr<std::string> text = ops::ReadFile(master_file);
      if (!text.ok()) return Usage(absl::StrCat("--master-key-file: ", text.status().message()));
      master = crypto::ParseMasterKey(*text, master_file);
    } else if (master_hex != nullptr && *master_hex != '\0') {
      master = crypto::ParseMasterKey(master_hex, "MUTUALAID_CRYPTO_MASTER_KEY");
    }
    if (!master.ok() && !absl::IsNotFound(master.status())) {
      return Usage(std::string(master.status().message()));
    }
    if (master.ok()) {
      crypto::KafkaKeyRingOptions o;
      o.client = client;
      o.topic = prefix + crypto::kKeysTopic;
      o.creator = "mutualctl-history";
      absl::StatusOr<std::unique_ptr<crypto::KafkaKeyRing>> r =
          crypto::KafkaKeyRing::Create(*std::move(master), o);
      if (!r.ok()) {
        std::cerr << "mutualctl history: key ring " << o.topic << ": " << r.status() << '\n';
        return 2;
      }
      ring = *std::move(r);
      masks.ring = ring.get();
    }
  }
  if (masks.unmask) {
    const char* user = std::getenv("USER");
    std::string line = "{\"event\":\"pii_unmasked\",\"command\":\"mutualctl history\",\"who\":";
    AppendJsonString(&line, user != nullptr ? user : "");
    absl::StrAppend(&line, ",\"when\":\"", absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()),
                    "\",\"worker_key\":\"", key, "\",\"worker\":");
    AppendJsonString(&line, MaskIdNumber(id));
    absl::StrAppend(&line, ",\"sealed_opened\":", masks.ring != nullptr ? "true" : "false", "}");
    std::cerr << line << std::endl;
  }

  std::vector<std::string> topics;
  for (absl::string_view t : kafka::kAllTopics) {
    if (t == kafka::kDeadLetter) continue;
    const bool request = t.find(".requests") != absl::string_view::npos;
    if (request && !args->On("requests")) continue;
    topics.push_back(prefix + std::string(t));
  }
  std::vector<Line> lines;
  for (size_t ti = 0; ti < topics.size(); ++ti) {
    absl::StatusOr<int32_t> partitions = ops::PartitionCount(client, topics[ti]);
    if (!partitions.ok()) {
      if (partitions.status().code() == absl::StatusCode::kNotFound) continue;
      std::cerr << "mutualctl history: " << topics[ti] << ": " << partitions.status() << '\n';
      return 2;
    }
    const int32_t p = kafka::PartitionOf(key, *partitions);
    const std::string short_topic = topics[ti].substr(prefix.size() + std::string("mutualaid.").size());
    absl::Status s = ops::ReadPartition(client, topics[ti], p, [&](const kafka::Message& m) {
      if (m.key != key) return true;
      absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(m);
      if (!env.ok()) return true;
      Line l;
      l.at = ops::RecordedAt(*env);
      l.topic = static_cast<int>(ti);
      l.offset = m.offset;
      l.text = absl::StrFormat("%-19s  %-20s %-28s %s", ops::TimeText(l.at), short_topic,
                               events::BodyType(*env), Describe(*env, masks));
      lines.push_back(std::move(l));
      return true;
    });
    if (!s.ok()) {
      std::cerr << "mutualctl history: " << topics[ti] << ": " << s << '\n';
      return 2;
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.topic != b.topic) return a.topic < b.topic;
    return a.offset < b.offset;
  });
  std::cout << "worker " << masks.Id(NormalizeIdNumber(id)) << " (key " << key.substr(0, 12) << "…): "
            << lines.size() << " records\n";
  for (const Line& l : lines) std::cout << l.text << '\n';
  return lines.empty() ? 1 : 0;
}

}  // namespace mutualaid::mutualctl

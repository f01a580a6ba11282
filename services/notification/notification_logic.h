// The notification service's processor: queues one SMS per (source event,
// template) from the enrollment, payout and claims events it decides, and
// sends them from its outbox in Tick through the SMS gateway.
//
// Decide (no clock, no I/O) turns
//   EnrollmentAccepted, EnrollmentReviewDecided (approved)  -> COVER_STARTED (§二)
//   PayoutConfirmed                                         -> PAYOUT_CONFIRMED (§7; death: the platform's contact)
//   ClaimDecided / ClaimInvestigationDecided with DENIED    -> CLAIM_DENIED
//   SmsCommand resend (notification.requests)               -> the failed message queued again
// into SmsQueued; everything else in those topics is ignored.
//
// Tick (the outbox) sends what is due: not before its retry time, not in the
// quiet hours unless urgent, not past the per-number daily cap, within the
// gateway rate; it records SmsSent / SmsDelivered / SmsFailed from the
// gateway's answers and delivery reports. The message id is the gateway's
// dedupe key and a retry asks for the status first, so neither a crash nor a
// replay ever makes a second SMS for one event and template.
//
// State (column families), all derived from events:
//   messages   message_id                       -> SmsRecord
//   outbox     partition/seq/message_id         -> "" (queued or sent, not final; queue order)
//   by_worker  worker_key/seq/message_id        -> "" (ListMessages)
//   contacts   worker_key                       -> SmsWorkerContact (enrollment events)
//   platforms  platform_id                      -> Platform (its contact phone)
//   sent_daily cap key/yyyymmdd                 -> count of SMS sent (the daily cap;
//                                                  CapKeyOf: phone_key for a sealed phone)
//
// Personal data: a worker's phone is sealed in SmsQueued.message.sealed_phone
// (Decide seals it with the key ring; Apply copies it; only the outbox opens
// it, to hand it to the gateway). A platform's contact phone stays in clear.
#ifndef MUTUALAID_SERVICES_NOTIFICATION_NOTIFICATION_LOGIC_H_
#define MUTUALAID_SERVICES_NOTIFICATION_NOTIFICATION_LOGIC_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/store/state_store.h"
#include "mutualaid/v1/envelope.pb.h"
#include "services/notification/sms_gateway.h"

namespace mutualaid {
class Logger;
}

namespace mutualaid::notification {

inline constexpr char kMessages[] = "messages";
inline constexpr char kOutbox[] = "outbox";
inline constexpr char kByWorker[] = "by_worker";
inline constexpr char kContacts[] = "contacts";
inline constexpr char kPlatforms[] = "platforms";
inline constexpr char kSentDaily[] = "sent_daily";

// When and how fast the outbox may send.
struct OutboxPolicy {
  int64_t rate_per_second = 20;      // the gateway's rate; burst = one second's worth
  int64_t daily_cap = 10;            // SMS per phone number per Shanghai day; 0: none
  bool quiet_hours = true;           // hold non-urgent messages in [quiet_start, quiet_end)
  int quiet_start_minute = 22 * 60;  // 22:00 Shanghai
  int quiet_end_minute = 8 * 60;     // 08:00 Shanghai
  absl::Duration retry_initial = absl::Seconds(2);
  absl::Duration retry_max = absl::Minutes(10);
  int32_t max_attempts = 8;          // then FAILED for good (an operator may resend)
  int32_t max_sends_per_tick = 200;
  int32_t max_polls_per_tick = 200;
  std::string callback_url;          // delivery reports; empty: poll only
};

// "22:00-08:00" -> minutes of day; "none"/"off"/"" -> disabled.
absl::Status ParseQuietHours(absl::string_view text, OutboxPolicy* policy);

// True when `t` is in the quiet hours; *until is then the next end.
bool InQuietHours(const OutboxPolicy& p, absl::Time t, absl::Time* until = nullptr);

// A generic-cell-rate token bucket: `rate` per second, a burst of `rate`.
// The logic feeds it PacingNow(), a monotonic clock (the gateway's rate is real
// time, not business time). Not thread-safe (the processor's thread only).
absl::Time PacingNow();
class SendRate {
 public:
  explicit SendRate(int64_t per_second) : per_second_(per_second) {}
  // Takes one token at `now`; false when none is left.
  bool Take(absl::Time now);
  // No more tokens until a second from `now` (after the gateway said 429).
  void Drain(absl::Time now);

 private:
  int64_t per_second_;
  absl::Time tat_ = absl::InfinitePast();  // theoretical arrival time
};

// Delivery reports the gateway POSTed (callbacks), kept until Tick records
// them. Thread-safe; duplicates collapse.
class DeliveryReports {
 public:
  void Add(const std::string& gateway_message_id, GatewayReport report);
  std::optional<GatewayReport> Take(const std::string& gateway_message_id);

 private:
  absl::Mutex mu_;
  std::map<std::string, GatewayReport> reports_ ABSL_GUARDED_BY(mu_);
};

struct LogicOptions {
  std::string producer = "notification-0";
  std::string requests_topic = "mutualaid.notification.requests";
  OutboxPolicy policy;
};

class NotificationLogic final : public processor::Logic {
 public:
  // `gateway` may be null (Decide/Apply only, e.g. replay). `reports` optional.
  NotificationLogic(LogicOptions options, SmsGateway* gateway, DeliveryReports* reports = nullptr,
                    const Logger* log = nullptr);

  std::vector<std::string> ColumnFamilies() const override;
  absl::Status Decide(const processor::State& state, const kafka::Message& request,
                      std::vector<kafka::Record>* events) override;
  absl::Status Apply(processor::State& state, const kafka::Message& event) override;
  absl::Status Tick(const processor::State& state, int32_t partition, absl::Time now,
                    std::vector<kafka::Record>* events) override;

  // The input barrier: true when deciding `request` needs a contact the store
  // does not hold yet (read the enrollment events to their end first).
  bool NeedsContacts(const store::StateStore& store, const kafka::Message& request) const;

  // The key ring Decide opens the workers' sealed names and phones with,
  // seals the worker's phone into the queued message with, and the outbox
  // opens that phone with at send time. Without one (no master key
  // configured) phones stay in clear, as before sealing.
  void SetKeyRing(crypto::KeyRing* ring) { ring_ = ring; }
  // The deployment's keyer: SmsQueued.phone_key (the daily cap's key of a
  // sealed phone). Without one a sealed phone's cap counts per worker.
  void SetKeyer(const WorkerKeyer* keyer) { keyer_ = keyer; }

  // What a message failed with when its recipient cannot be written to.
  static constexpr char kNoContactPhone[] = "NO_CONTACT_PHONE";
  static constexpr char kRecipientDataErased[] = "RECIPIENT_DATA_ERASED";
  static constexpr char kRecipientPhoneUnreadable[] = "RECIPIENT_PHONE_UNREADABLE";

 private:
  struct Queue;
  absl::Status Enqueue(const processor::State& state, const v1::Envelope& source, Queue q,
                       std::vector<kafka::Record>* out);
  absl::Status DecideResend(const processor::State& state, const v1::SmsCommand& command,
                            std::vector<kafka::Record>* out);
  v1::Envelope TickEvent(const v1::SmsRecord& r, const std::string& what, absl::Time now) const;
  absl::Duration Backoff(int32_t attempt) const;

  // Opens a contact's sealed person (names and phones arrive sealed in the
  // enrollment events); an erased one opens as empty (*erased set): no phone
  // to send to.
  absl::StatusOr<v1::SmsWorkerContact> Opened(const v1::SmsWorkerContact& contact,
                                              bool* erased = nullptr) const;
  // Puts the recipient into the queued event: a worker's phone sealed (with a
  // key ring), a platform's contact in clear; phone_masked and phone_key.
  absl::Status SetRecipient(const std::string& worker_key, const std::string& phone,
                            bool to_platform, v1::SmsQueued* queued) const;
  // The phone to hand the gateway: the clear one, or the sealed one opened.
  // FailedPrecondition (reason code as message) when it can never be sent:
  // erased, unreadable, none. Unavailable: try again later.
  absl::StatusOr<std::string> RecipientPhone(const v1::SmsRecord& r) const;

  LogicOptions o_;
  crypto::KeyRing* ring_ = nullptr;
  const WorkerKeyer* keyer_ = nullptr;
  SmsGateway* gateway_;
  DeliveryReports* reports_;
  const Logger* log_;
  SendRate rate_;
};

// The key the per-number daily cap counts under: the clear phone (a
// platform's contact, older events), else the phone key, else the worker.
std::string CapKeyOf(const v1::SmsRecord& r);

// Seals `phone` as field "phone" of the worker with a nonce derived from the
// data key, `context` (the gateway message id) and the phone (synthetic IV):
// deciding the same request twice seals to the same bytes (Decide depends
// only on state and request), and a nonce repeats only for the same
// plaintext. Opens with crypto::OpenField.
absl::StatusOr<v1::SealedPersonalData> SealPhone(crypto::KeyRing& ring,
                                                 const std::string& worker_key,
                                                 const std::string& context,
                                                 const std::string& phone);

// Reads a stored SmsRecord; nullopt when absent.
absl::StatusOr<std::optional<v1::SmsRecord>> ReadMessage(const store::StateStore& store,
                                                         const std::string& message_id);

}  // namespace mutualaid::notification

#endif  // MUTUALAID_SERVICES_NOTIFICATION_NOTIFICATION_LOGIC_H_

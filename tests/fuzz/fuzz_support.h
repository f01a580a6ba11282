// What the service fuzz targets share: invariant checks that say what broke,
// an empty state for a Logic (a RocksDB store in a temporary directory that
// nothing is ever committed to, so every input sees an empty store plus its
// own pending writes), and Decide/Apply run with the processor's contract
// checked (processor.h): Decide depends only on the state and the request,
// refuses a malformed request with InvalidArgument (any other error would stop
// the processor), and every event it makes is an envelope the same logic's
// Apply accepts.
#ifndef MUTUALAID_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define MUTUALAID_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mutualaid/core/clock.h"
#include "mutualaid/core/worker_key.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/processor/state.h"
#include "mutualaid/store/state_store.h"

namespace mutualaid::fuzz {

[[noreturn]] inline void Fail(const char* what, absl::string_view detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s [%.*s]\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) ::mutualaid::fuzz::Fail(#cond, (detail)); \
  } while (false)

// The business day and instant the edge stamps on every request the targets
// build (a day of plan year 2022).
inline absl::CivilDay Today() { return absl::CivilDay(2022, 6, 15); }
inline absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2022, 6, 15, 10, 30, 0), absl::FixedTimeZone(8 * 3600));
}

inline const WorkerKeyer& Keyer() {
  static const WorkerKeyer* keyer =
      new WorkerKeyer(*WorkerKeyer::Create("fuzz-secret-fuzz-secret-fuzz-secret-0123"));
  return *keyer;
}

// The key ring the services seal personal data with, in memory (the services
// run a KafkaKeyRing; the sealing and opening are the same).
inline crypto::KeyRing& Ring() {
  static crypto::KeyRing* ring = new crypto::MemoryKeyRing(*crypto::ParseMasterKey(
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "fuzz"));
  return *ring;
}

// Gives a logic the key ring if it takes one (the logics that open sealed
// personal data: SetKeyRing).
template <typename L>
void UseKeyRing(L& logic) {
  if constexpr (requires { logic.SetKeyRing(&Ring()); }) logic.SetKeyRing(&Ring());
}

// A refusal names the field at fault before a colon: "site: …",
// "facts.admission: required", "corrected_card.card_number: 16-19 digits".
inline bool NamesField(absl::string_view message) {
  const size_t colon = message.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (char c : message.substr(0, colon)) {
    if (!absl::ascii_islower(c) && c != '_' && c != '.' && !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// A round trip through the wire format gives the same bytes.
template <typename M>
void CheckRoundTrip(const M& message) {
  const std::string once = message.SerializeAsString();
  M again;
  FUZZ_CHECK(again.ParseFromString(once), "reparse");
  FUZZ_CHECK(again.SerializeAsString() == once, M::descriptor()->full_name());
}

// One empty store per logic (its column families), removed at exit.
class EmptyStore {
 public:
  explicit EmptyStore(const processor::Logic& logic) {
    std::string dir = (std::filesystem::temp_directory_path() / "mutualaid-fuzz-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) Fail("mkdtemp", dir);
    dir_ = dir;
    store::StateStore::Options options;
    options.column_families = logic.ColumnFamilies();
    options.block_cache_bytes = size_t{1} << 20;
    options.write_buffer_bytes = size_t{1} << 20;
    auto opened = store::StateStore::Open(dir_ + "/store", options);
    if (!opened.ok()) Fail("open store", opened.status().message());
    store_ = *std::move(opened);
  }
  ~EmptyStore() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const store::StateStore& get() const { return *store_; }

 private:
  std::string dir_;
  std::unique_ptr<store::StateStore> store_;
};

struct Decided {
  absl::Status status;
  std::vector<kafka::Record> events;
};

// Runs Decide on `request` over a fresh state, twice, and checks the contract;
// then applies each event (the processor applies what Decide made before the
// next request) and requires Apply to accept it.
inline Decided DecideChecked(processor::Logic& logic, const store::StateStore& store,
                             const kafka::Message& request) {
  Decided d;
  {
    processor::State state(store);
    d.status = logic.Decide(state, request, &d.events);
  }
  FUZZ_CHECK(d.status.ok() || absl::IsInvalidArgument(d.status), d.status.ToString());
  if (absl::IsInvalidArgument(d.status)) {
    FUZZ_CHECK(!d.status.message().empty(), "dead-letter reason");
  }
  std::vector<kafka::Record> again;
  {
    processor::State state(store);
    const absl::Status second = logic.Decide(state, request, &again);
    FUZZ_CHECK(second == d.status, second.ToString());
  }
  FUZZ_CHECK(again.size() == d.events.size(), "same events twice");
  for (size_t i = 0; i < again.size(); ++i) {
    FUZZ_CHECK(again[i].topic == d.events[i].topic && again[i].key == d.events[i].key &&
                   again[i].value == d.events[i].value,
               "Decide depends only on state and request");
  }
  if (!d.status.ok()) return d;
  processor::State state(store);
  for (const kafka::Record& e : d.events) {
    kafka::Message m;
    m.topic = e.topic;
    m.key = e.key;
    m.value = e.value;
    absl::StatusOr<v1::Envelope> env = events::ParseEnvelope(m);
    FUZZ_CHECK(env.ok(), env.status().ToString());
    FUZZ_CHECK(env->type() == events::BodyType(*env), env->type());
    FUZZ_CHECK(e.key == env->worker_key(), "event keyed by its worker key");
    FUZZ_CHECK(!env->event_id().empty(), env->type());
    const absl::Status applied = logic.Apply(state, m);
    FUZZ_CHECK(applied.ok(), applied.ToString());
  }
  return d;
}

// Apply of any record must not fail except as InvalidArgument (skipped).
inline void ApplyChecked(processor::Logic& logic, const store::StateStore& store,
                         const kafka::Message& event) {
  processor::State state(store);
  const absl::Status applied = logic.Apply(state, event);
  FUZZ_CHECK(applied.ok() || absl::IsInvalidArgument(applied), applied.ToString());
}

// A request envelope as an edge makes it (header stamped with Now()).
inline v1::Envelope RequestEnvelope(const std::string& event_id, const std::string& worker_key,
                                    const std::string& causation, const std::string& producer) {
  events::EnvelopeHeader h;
  h.event_id = event_id;
  h.worker_key = worker_key;
  h.occurred_on = Today();
  h.recorded_at = Now();
  h.causation_id = causation;
  h.producer = producer;
  return events::NewEnvelope(h);
}

inline kafka::Message AsMessage(const kafka::Record& record) {
  kafka::Message m;
  m.topic = record.topic;
  m.key = record.key;
  m.value = record.value;
  m.partition = record.partition < 0 ? 0 : record.partition;
  return m;
}

}  // namespace mutualaid::fuzz

#endif  // MUTUALAID_TESTS_FUZZ_FUZZ_SUPPORT_H_

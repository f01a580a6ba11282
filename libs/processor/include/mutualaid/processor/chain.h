// The audit chain: every event a processor appends to its events topic
// carries, in its Kafka headers, the hash of its predecessor in the partition
// and its own hash:
//
//   mutualaid.chain-prev = h(n-1)          ("" for the first event)
//   mutualaid.chain      = h(n) = hex SHA-256(h(n-1) '\0' key '\0' value)
//
// so a changed, missing or reordered event breaks the chain at a place an
// auditor can name (mutualctl audit verify). The processor keeps each
// partition's last hash in the state (column family "chain"), so the chain
// continues across restarts and a replay rebuilds the same tips.
#ifndef MUTUALAID_PROCESSOR_CHAIN_H_
#define MUTUALAID_PROCESSOR_CHAIN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mutualaid/kafka/record.h"
#include "mutualaid/processor/processor.h"
#include "mutualaid/processor/state.h"

namespace mutualaid::processor {

inline constexpr char kChainColumnFamily[] = "chain";
inline constexpr char kChainHeader[] = "mutualaid.chain";
inline constexpr char kChainPrevHeader[] = "mutualaid.chain-prev";

// h(n) from h(n-1) and the record's key and value.
std::string ChainHash(absl::string_view prev, absl::string_view key, absl::string_view value);

// The hash of the last event applied from topic/partition ("" if none).
absl::StatusOr<std::string> ChainTip(const State& state, absl::string_view topic,
                                     int32_t partition);
// Records a message's chain hash (if it carries one) as its partition's tip.
void FollowChain(State& state, const kafka::Message& message);
// Links a record the processor is about to append: sets both headers from the
// partition's tip and moves the tip to the record.
absl::Status LinkRecord(State& state, kafka::Record& record);

// Checks one partition's events in log order. Each Check names the first
// problem with a message: its content changed (its hash is not h(prev, key,
// value)), or the chain does not continue from the message before it (an
// event before it was removed, inserted or moved).
class ChainVerifier {
 public:
  // "" if the message is sound, else what is wrong with it.
  std::string Check(const kafka::Message& message);
  const std::string& tip() const { return tip_; }
  int64_t checked() const { return checked_; }

 private:
  std::string tip_;
  int64_t checked_ = 0;
};

// The header's value, "" if absent.
std::string HeaderValue(const kafka::Headers& headers, absl::string_view name);

// What a store needs for a processor running `logic`: its column families
// plus the chain's.
std::vector<std::string> ColumnFamiliesFor(const Logic& logic);

}  // namespace mutualaid::processor

#endif  // MUTUALAID_PROCESSOR_CHAIN_H_

#include "mutualaid/processor/chain.h"

#include "absl/strings/str_cat.h"
#include "mutualaid/core/hash.h"

namespace mutualaid::processor {
namespace {

std::string TipKey(absl::string_view topic, int32_t partition) {
  return absl::StrCat(topic, "/", partition);
}

}  // namespace

std::string ChainHash(absl::string_view prev, absl::string_view key, absl::string_view value) {
  Sha256Hasher h;
  h.Update(prev).Update(absl::string_view("\0", 1)).Update(key).Update(
      absl::string_view("\0", 1)).Update(value);
  return h.FinishHex();
}

std::string HeaderValue(const kafka::Headers& headers, absl::string_view name) {
  for (const kafka::Header& h : headers) {
    if (h.key == name) return h.value;
  }
  return "";
}

absl::StatusOr<std::string> ChainTip(const State& state, absl::string_view topic,
                                     int32_t partition) {
  absl::StatusOr<std::optional<std::string>> tip =
      state.Get(kChainColumnFamily, TipKey(topic, partition));
  if (!tip.ok()) return tip.status();
  return tip->value_or("");
}

void FollowChain(State& state, const kafka::Message& message) {
  std::string hash = HeaderValue(message.headers, kChainHeader);
  if (!hash.empty()) state.Put(kChainColumnFamily, TipKey(message.topic, message.partition), hash);
}

absl::Status LinkRecord(State& state, kafka::Record& record) {
  absl::StatusOr<std::string> prev = ChainTip(state, record.topic, record.partition);
  if (!prev.ok()) return prev.status();
  std::string hash = ChainHash(*prev, record.key, record.value);
  record.headers.push_back({kChainPrevHeader, *prev});
  record.headers.push_back({kChainHeader, hash});
  state.Put(kChainColumnFamily, TipKey(record.topic, record.partition), hash);
  return absl::OkStatus();
}

std::string ChainVerifier::Check(const kafka::Message& m) {
  ++checked_;
  const std::string hash = HeaderValue(m.headers, kChainHeader);
  const std::string prev = HeaderValue(m.headers, kChainPrevHeader);
  if (hash.empty()) return "no chain hash (not written by a processor)";
  std::string problem;
  if (ChainHash(prev, m.key, m.value) != hash) {
    problem = "content changed: its hash does not match its key and value";
  } else if (prev != tip_) {
    problem = tip_.empty() && checked_ > 1
                  ? "the chain does not continue here"
                  : absl::StrCat("does not follow the event before it (expected prev ",
                                 tip_.substr(0, 12), ", found ", prev.substr(0, 12), ")");
  }
  tip_ = hash;  // go on from this event, so one break is reported once
  return problem;
}

std::vector<std::string> ColumnFamiliesFor(const Logic& logic) {
  std::vector<std::string> cfs = logic.ColumnFamilies();
  cfs.push_back(kChainColumnFamily);
  return cfs;
}

}  // namespace mutualaid::processor

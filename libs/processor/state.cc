#include "mutualaid/processor/state.h"

namespace mutualaid::processor {

absl::StatusOr<std::optional<std::string>> State::Get(absl::string_view column_family,
                                                      absl::string_view key) const {
  if (auto cf = pending_.find(column_family); cf != pending_.end()) {
    if (auto it = cf->second.find(key); it != cf->second.end()) return it->second;
  }
  if (base_ != nullptr) return base_->Get(column_family, key);
  return store_.Get(column_family, key);
}

absl::Status State::ScanPrefix(absl::string_view column_family, absl::string_view prefix,
                               ScanFn fn) const {
  static const Writes kNone;
  auto cf = pending_.find(column_family);
  const Writes& writes = cf == pending_.end() ? kNone : cf->second;
  auto it = writes.lower_bound(prefix);
  auto in_prefix = [&](const std::string& k) {
    return absl::string_view(k).substr(0, prefix.size()) == prefix;
  };
  bool stopped = false;
  // Emits pending entries with keys before `bound` (all remaining ones when
  // bound is null); false once the caller asked to stop.
  auto emit_pending_before = [&](const absl::string_view* bound) {
    while (!stopped && it != writes.end() && in_prefix(it->first) &&
           (bound == nullptr || absl::string_view(it->first) < *bound)) {
      if (it->second.has_value() && !fn(it->first, *it->second)) stopped = true;
      ++it;
    }
    return !stopped;
  };
  // The entries below this state (the base state's, or the store's), with
  // this state's pending writes merged in.
  auto below = [&](absl::string_view key, absl::string_view value) {
    if (!emit_pending_before(&key)) return false;
    if (it != writes.end() && it->first == key) {
      // Overwritten or deleted in this batch.
      bool go_on = !it->second.has_value() || fn(key, *it->second);
      ++it;
      stopped = !go_on;
      return go_on;
    }
    stopped = !fn(key, value);
    return !stopped;
  };
  absl::Status s = base_ != nullptr ? base_->ScanPrefix(column_family, prefix, below)
                                    : store_.ScanPrefix(column_family, prefix, below);
  if (!s.ok()) return s;
  emit_pending_before(nullptr);
  return absl::OkStatus();
}

void State::Put(absl::string_view column_family, absl::string_view key, absl::string_view value) {
  auto cf = pending_.find(column_family);
  if (cf == pending_.end()) cf = pending_.emplace(std::string(column_family), Writes()).first;
  cf->second.insert_or_assign(std::string(key), std::string(value));
}

void State::Delete(absl::string_view column_family, absl::string_view key) {
  auto cf = pending_.find(column_family);
  if (cf == pending_.end()) cf = pending_.emplace(std::string(column_family), Writes()).first;
  cf->second.insert_or_assign(std::string(key), std::nullopt);
}

void State::CopyTo(store::Batch& batch) const {
  for (const auto& [cf, writes] : pending_) {
    for (const auto& [key, value] : writes) {
      if (value.has_value()) {
        batch.Put(cf, key, *value);
      } else {
        batch.Delete(cf, key);
      }
    }
  }
}

void State::MoveTo(store::Batch& batch) {
  CopyTo(batch);
  pending_.clear();
}

}  // namespace mutualaid::processor

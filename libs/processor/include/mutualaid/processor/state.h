// The state a service's Decide and Apply see: the RocksDB store plus the writes
// of the batch in flight, so the tenth request of a batch sees what the first
// nine decided. Pending writes reach the store only after the Kafka
// transaction that produced them committed.
#ifndef MUTUALAID_PROCESSOR_STATE_H_
#define MUTUALAID_PROCESSOR_STATE_H_

#include <map>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mutualaid/store/state_store.h"

namespace mutualaid::processor {

class State {
 public:
  using ScanFn = absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;

  explicit State(const store::StateStore& store) : store_(store) {}
  // A state on top of `base`'s pending writes (a batch decided while the
  // batch of `base` is still being committed): reads see this state's writes,
  // then base's, then the store. `base` must not change while this state
  // reads it, and must outlive it or be dropped with DropBase() first.
  State(const store::StateStore& store, const State* base) : store_(store), base_(base) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Reads see pending writes first, then the store.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view column_family,
                                                 absl::string_view key) const;
  // Keys starting with `prefix`, in key order, pending writes merged in.
  absl::Status ScanPrefix(absl::string_view column_family, absl::string_view prefix,
                          ScanFn fn) const;

  void Put(absl::string_view column_family, absl::string_view key, absl::string_view value);
  void Delete(absl::string_view column_family, absl::string_view key);

  // Moves the pending writes into `batch` (to commit with the offsets they
  // reflect) and forgets them.
  void MoveTo(store::Batch& batch);
  // Copies the pending writes into `batch`, keeping them (a state on top of
  // this one may still be reading them).
  void CopyTo(store::Batch& batch) const;
  // Stops reading through the base state: its writes are in the store now.
  void DropBase() { base_ = nullptr; }
  // Forgets the pending writes (the transaction that made them aborted).
  void Discard() { pending_.clear(); }
  bool empty() const { return pending_.empty(); }

 private:
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;
  const store::StateStore& store_;
  const State* base_ = nullptr;
  std::map<std::string, Writes, std::less<>> pending_;  // cf -> key -> value (nullopt: deleted)
};

}  // namespace mutualaid::processor

#endif  // MUTUALAID_PROCESSOR_STATE_H_

// Tiny helpers for keys whose byte order is the order a scan needs.
//
// Integers are 8 bytes big-endian (int64 with the sign bit flipped), so
// RocksDB's bytewise order is numeric order. Composite keys join parts with
// '/', e.g. worker_key + '/' + plan_year:
//
//   std::string k = KeyBuilder().Text(worker_key).Int64(2025).Build();
//   store.ScanPrefix("coverage", KeyBuilder().Text(worker_key).Prefix(), ...);
//
// Text parts must not contain '/' (worker keys are hex, ids are ASCII); integer
// parts are fixed-width so they may hold any byte. Text parts order bytewise,
// and "ab" < "ab/..." < "abc", so a prefix scan on Prefix() never picks up a
// longer text part.

#ifndef MUTUALAID_STORE_KEYS_H_
#define MUTUALAID_STORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace mutualaid::store {

inline constexpr char kKeySeparator = '/';

void AppendUint64(std::string* dst, uint64_t v);
void AppendInt64(std::string* dst, int64_t v);
std::string EncodeUint64(uint64_t v);
std::string EncodeInt64(int64_t v);
// std::nullopt unless `bytes` is exactly 8 bytes.
std::optional<uint64_t> DecodeUint64(absl::string_view bytes);
std::optional<int64_t> DecodeInt64(absl::string_view bytes);

class KeyBuilder {
 public:
  KeyBuilder& Text(absl::string_view part);
  KeyBuilder& Uint64(uint64_t part);
  KeyBuilder& Int64(int64_t part);

  // The parts joined by '/'.
  std::string Build() const { return key_; }
  // Build() + '/': the prefix of every key that extends these parts.
  std::string Prefix() const { return key_ + kKeySeparator; }

 private:
  void Separate();
  std::string key_;
  bool empty_ = true;
};

// Reads back what KeyBuilder wrote, part by part; std::nullopt on a shape
// mismatch.
class KeyReader {
 public:
  explicit KeyReader(absl::string_view key) : rest_(key) {}

  std::optional<absl::string_view> Text();
  std::optional<uint64_t> Uint64();
  std::optional<int64_t> Int64();
  // True when every part has been read.
  bool done() const { return done_; }

 private:
  bool ConsumeSeparator();
  absl::string_view rest_;
  bool first_ = true;
  bool done_ = false;
};

}  // namespace mutualaid::store

#endif  // MUTUALAID_STORE_KEYS_H_

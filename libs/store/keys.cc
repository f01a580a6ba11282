#include "mutualaid/store/keys.h"

namespace mutualaid::store {
namespace {
constexpr uint64_t kSignBit = uint64_t{1} << 63;
}  // namespace

void AppendUint64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, sizeof buf);
}

void AppendInt64(std::string* dst, int64_t v) {
  AppendUint64(dst, static_cast<uint64_t>(v) ^ kSignBit);
}

std::string EncodeUint64(uint64_t v) {
  std::string s;
  AppendUint64(&s, v);
  return s;
}

std::string EncodeInt64(int64_t v) {
  std::string s;
  AppendInt64(&s, v);
  return s;
}

std::optional<uint64_t> DecodeUint64(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::optional<int64_t> DecodeInt64(absl::string_view bytes) {
  std::optional<uint64_t> u = DecodeUint64(bytes);
  if (!u) return std::nullopt;
  return static_cast<int64_t>(*u ^ kSignBit);
}

void KeyBuilder::Separate() {
  if (!empty_) key_.push_back(kKeySeparator);
  empty_ = false;
}

KeyBuilder& KeyBuilder::Text(absl::string_view part) {
  Separate();
  key_.append(part.data(), part.size());
  return *this;
}

KeyBuilder& KeyBuilder::Uint64(uint64_t part) {
  Separate();
  AppendUint64(&key_, part);
  return *this;
}

KeyBuilder& KeyBuilder::Int64(int64_t part) {
  Separate();
  AppendInt64(&key_, part);
  return *this;
}

bool KeyReader::ConsumeSeparator() {
  if (done_) return false;
  if (first_) {
    first_ = false;
    return true;
  }
  if (rest_.empty() || rest_.front() != kKeySeparator) return false;
  rest_.remove_prefix(1);
  return true;
}

std::optional<absl::string_view> KeyReader::Text() {
  if (!ConsumeSeparator()) return std::nullopt;
  const size_t sep = rest_.find(kKeySeparator);
  absl::string_view part = rest_.substr(0, sep);
  rest_.remove_prefix(part.size());
  if (rest_.empty()) done_ = true;
  return part;
}

std::optional<uint64_t> KeyReader::Uint64() {
  if (!ConsumeSeparator() || rest_.size() < 8) return std::nullopt;
  std::optional<uint64_t> v = DecodeUint64(rest_.substr(0, 8));
  rest_.remove_prefix(8);
  if (rest_.empty()) done_ = true;
  return v;
}

std::optional<int64_t> KeyReader::Int64() {
  std::optional<uint64_t> u = Uint64();
  if (!u) return std::nullopt;
  return static_cast<int64_t>(*u ^ kSignBit);
}

}  // namespace mutualaid::store

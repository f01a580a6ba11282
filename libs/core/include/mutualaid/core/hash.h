// SHA-256 (OpenSSL EVP) for state digests and content hashes. Output is
// lower-case hex unless a function says otherwise.

#ifndef MUTUALAID_CORE_HASH_H_
#define MUTUALAID_CORE_HASH_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace mutualaid {

// Lower-case hex of arbitrary bytes.
std::string HexEncode(absl::string_view bytes);

// SHA-256 of `data`: 64 lower-case hex chars.
std::string Sha256Hex(absl::string_view data);

// A streaming SHA-256. Not thread-safe; one hasher per digest. Length-prefixed
// updates make the encoding of a sequence of fields unambiguous ("ab","c" and
// "a","bc" hash differently), which state digests rely on.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  // Appends raw bytes.
  Sha256Hasher& Update(absl::string_view data);
  // Appends the 8-byte big-endian length of `data`, then `data`.
  Sha256Hasher& UpdateLengthPrefixed(absl::string_view data);
  // Appends `v` as 8 bytes big-endian.
  Sha256Hasher& UpdateUint64(uint64_t v);

  // Finishes and returns the digest (32 raw bytes / 64 hex chars). The hasher
  // is reset afterwards and can be reused for a new digest.
  std::string FinishRaw();
  std::string FinishHex();

 private:
  void Reset();
  struct Ctx;
  Ctx* ctx_;  // EVP_MD_CTX, owned
};

}  // namespace mutualaid

#endif  // MUTUALAID_CORE_HASH_H_

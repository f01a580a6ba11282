// Personal data sealed with AES-256-GCM (OpenSSL EVP).
//
// Two levels of keys (libs/crypto/README.md):
//   master key   32 bytes per deployment, from a file or the environment
//                (crypto.master_key_file / crypto.master_key, see LoadMasterKey);
//                it only wraps data keys.
//   data key     32 random bytes per worker (key id: 32 random hex chars),
//                kept wrapped by the master key; it seals that worker's ID
//                number, name, phone and card numbers.
//
// Every ciphertext is bound by GCM's associated data to what it is: a sealed
// field to its worker key, field name and key id; a wrapped data key to its
// worker key, key id and master key id. Moving a ciphertext to another worker
// or field, or changing any byte of nonce, ciphertext, tag or AAD, makes
// Open fail with DataLoss.
#ifndef MUTUALAID_CRYPTO_AEAD_H_
#define MUTUALAID_CRYPTO_AEAD_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mutualaid/v1/common.pb.h"

namespace mutualaid {
class Config;
}

namespace mutualaid::crypto {

inline constexpr size_t kKeyBytes = 32;    // AES-256
inline constexpr size_t kNonceBytes = 12;  // GCM's 96-bit IV
inline constexpr size_t kTagBytes = 16;

// Config keys (each overridable by MUTUALAID_<KEY>, see libs/core config.h):
// the master key as 64 hex characters, or a file holding them.
inline constexpr char kMasterKeyConfigKey[] = "crypto.master_key";            // MUTUALAID_CRYPTO_MASTER_KEY
inline constexpr char kMasterKeyFileConfigKey[] = "crypto.master_key_file";  // MUTUALAID_CRYPTO_MASTER_KEY_FILE

// 32 key bytes, wiped from memory when destroyed.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(std::string bytes);
  SecretKey(const SecretKey&);
  SecretKey& operator=(const SecretKey&);
  SecretKey(SecretKey&&) noexcept;
  SecretKey& operator=(SecretKey&&) noexcept;
  ~SecretKey();

  const std::string& bytes() const { return bytes_; }
  bool valid() const { return bytes_.size() == kKeyBytes; }

 private:
  std::string bytes_;
};

// The deployment's master key.
struct MasterKey {
  SecretKey key;
  std::string id;  // 16 hex chars: a hash of the key, names it in wrapped keys
};

// "0123…" (64 hex chars, surrounding whitespace ignored) -> MasterKey.
// InvalidArgument naming `source` when malformed or all zero bytes.
absl::StatusOr<MasterKey> ParseMasterKey(absl::string_view text, absl::string_view source);

// The service start-up rule: crypto.master_key (hex) if set, else the file
// crypto.master_key_file. NotFound when neither is set; InvalidArgument
// (naming the key, the file and why) when malformed. A service refuses to
// start on either.
absl::StatusOr<MasterKey> LoadMasterKey(const Config& config);

// A fresh master key as 64 hex characters (for deploy scripts and tests).
std::string NewMasterKeyHex();

// A worker's data key in clear (in memory only).
struct DataKey {
  std::string worker_key;
  std::string key_id;
  SecretKey key;
};

// A new random data key for `worker_key`.
DataKey NewDataKey(absl::string_view worker_key);

// The data key wrapped by the master key (erased=false, no timestamps set).
absl::StatusOr<v1::WorkerDataKey> WrapDataKey(const MasterKey& master, const DataKey& key);
// FailedPrecondition if the record says the key was erased; InvalidArgument
// if it was wrapped by another master key; DataLoss if it does not
// authenticate (tampered, or wrapped for another worker or key id).
absl::StatusOr<DataKey> UnwrapDataKey(const MasterKey& master, const v1::WorkerDataKey& wrapped);

// The field names sealed data is bound to.
inline constexpr char kFieldPerson[] = "person";    // a serialized v1::PersonalData
inline constexpr char kFieldCard[] = "card";        // a serialized v1::PayeeCard
inline constexpr char kFieldAccount[] = "account";  // a payee account number
inline constexpr char kFieldPhone[] = "phone";      // a phone number

// Seals `plaintext` as `field` of the key's worker (fresh random nonce).
absl::StatusOr<v1::SealedPersonalData> Seal(const DataKey& key, absl::string_view field,
                                            absl::string_view plaintext);
// Seals like Seal, with a synthetic nonce instead of a random one: the first
// kNonceBytes of HMAC-SHA256 under the data key of (field, context,
// plaintext). Sealing the same plaintext in the same context twice gives the
// same bytes, for a processor's Decide, which must be a function of its state
// and request (its result may be computed again after an abort). `context`
// must be unique per sealed value's use (e.g. a message id), so that two
// different plaintexts never share a nonce under one key except by an HMAC
// collision. Open opens it like any sealed field.
absl::StatusOr<v1::SealedPersonalData> SealSynthetic(const DataKey& key, absl::string_view field,
                                                     absl::string_view plaintext,
                                                     absl::string_view context);
// Opens what Seal made. InvalidArgument if `sealed` names another key id or
// is malformed; DataLoss if it does not authenticate.
absl::StatusOr<std::string> Open(const DataKey& key, absl::string_view field,
                                 const v1::SealedPersonalData& sealed);

// The raw primitive: AES-256-GCM of `plaintext` under `key` and `nonce`
// (kNonceBytes) with associated data `aad`; returns ciphertext || tag.
absl::StatusOr<std::string> AeadSeal(const SecretKey& key, absl::string_view nonce,
                                     absl::string_view plaintext, absl::string_view aad);
// DataLoss when the tag does not verify.
absl::StatusOr<std::string> AeadOpen(const SecretKey& key, absl::string_view nonce,
                                     absl::string_view ciphertext_and_tag, absl::string_view aad);

// `n` bytes from OpenSSL's CSPRNG (aborts if it fails: nothing safe to do).
std::string RandomBytes(size_t n);

}  // namespace mutualaid::crypto

#endif  // MUTUALAID_CRYPTO_AEAD_H_

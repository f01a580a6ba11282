#include "mutualaid/crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/core/config.h"
#include "mutualaid/core/hash.h"

namespace mutualaid::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// AAD of a sealed field: domain, worker, field, key id, length-prefixed.
std::string SealAad(absl::string_view worker_key, absl::string_view field,
                    absl::string_view key_id) {
  std::string aad = "mutualaid.v1.sealed";
  for (absl::string_view part : {worker_key, field, key_id}) {
    absl::StrAppend(&aad, "|", part.size(), ":", part);
  }
  return aad;
}

std::string WrapAad(absl::string_view worker_key, absl::string_view key_id,
                    absl::string_view master_key_id) {
  std::string aad = "mutualaid.v1.datakey";
  for (absl::string_view part : {worker_key, key_id, master_key_id}) {
    absl::StrAppend(&aad, "|", part.size(), ":", part);
  }
  return aad;
}

}  // namespace

SecretKey::SecretKey(std::string bytes) : bytes_(std::move(bytes)) {}
SecretKey::SecretKey(const SecretKey& o) : bytes_(o.bytes_) {}
SecretKey& SecretKey::operator=(const SecretKey& o) {
  if (this != &o) {
    Wipe(bytes_);
    bytes_ = o.bytes_;
  }
  return *this;
}
SecretKey::SecretKey(SecretKey&& o) noexcept : bytes_(std::move(o.bytes_)) { o.bytes_.clear(); }
SecretKey& SecretKey::operator=(SecretKey&& o) noexcept {
  if (this != &o) {
    Wipe(bytes_);
    bytes_ = std::move(o.bytes_);
    o.bytes_.clear();
  }
  return *this;
}
SecretKey::~SecretKey() { Wipe(bytes_); }

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no randomness: sealing would be unsafe
  }
  return out;
}

absl::StatusOr<MasterKey> ParseMasterKey(absl::string_view text, absl::string_view source) {
  text = absl::StripAsciiWhitespace(text);
  if (text.size() != 2 * kKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("master key (", source, "): expected ",
                                                   2 * kKeyBytes, " hex characters (",
                                                   kKeyBytes, " bytes), got ", text.size()));
  }
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("master key (", source, "): not hexadecimal"));
    }
  }
  std::string bytes = absl::HexStringToBytes(text);
  if (bytes.find_first_not_of('\0') == std::string::npos) {
    Wipe(bytes);
    return absl::InvalidArgumentError(absl::StrCat("master key (", source, "): all zero"));
  }
  MasterKey m;
  m.id = Sha256Hex(absl::StrCat("mutualaid.v1.master-key-id|", bytes)).substr(0, 16);
  m.key = SecretKey(std::move(bytes));
  return m;
}

absl::StatusOr<MasterKey> LoadMasterKey(const Config& config) {
  if (config.Has(kMasterKeyConfigKey)) {
    absl::StatusOr<std::string> hex = config.GetString(kMasterKeyConfigKey);
    if (!hex.ok()) return hex.status();
    absl::StatusOr<MasterKey> m = ParseMasterKey(
        *hex, absl::StrCat(kMasterKeyConfigKey, " / ", Config::EnvName(kMasterKeyConfigKey)));
    std::string wipe = std::move(*hex);
    Wipe(wipe);
    return m;
  }
  if (!config.Has(kMasterKeyFileConfigKey)) {
    return absl::NotFoundError(absl::StrCat(
        "no master key: set ", kMasterKeyFileConfigKey, " (or ",
        Config::EnvName(kMasterKeyFileConfigKey), ") to a file holding ", 2 * kKeyBytes,
        " hex characters, or ", Config::EnvName(kMasterKeyConfigKey), " to them"));
  }
  absl::StatusOr<std::string> path = config.GetPath(kMasterKeyFileConfigKey);
  if (!path.ok()) return path.status();
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(kMasterKeyFileConfigKey, " ", *path, ": cannot open"));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  absl::StatusOr<MasterKey> m =
      ParseMasterKey(contents, absl::StrCat(kMasterKeyFileConfigKey, " ", *path));
  Wipe(contents);
  return m;
}

std::string NewMasterKeyHex() {
  std::string bytes = RandomBytes(kKeyBytes);
  std::string hex = absl::BytesToHexString(bytes);
  Wipe(bytes);
  return hex;
}

DataKey NewDataKey(absl::string_view worker_key) {
  DataKey k;
  k.worker_key = std::string(worker_key);
  k.key_id = absl::BytesToHexString(RandomBytes(16));
  k.key = SecretKey(RandomBytes(kKeyBytes));
  return k;
}

absl::StatusOr<std::string> AeadSeal(const SecretKey& key, absl::string_view nonce,
                                     absl::string_view plaintext, absl::string_view aad) {
  if (!key.valid()) return absl::InvalidArgumentError("AES-256-GCM: key is not 32 bytes");
  if (nonce.size() != kNonceBytes) {
    return absl::InvalidArgumentError("AES-256-GCM: nonce is not 12 bytes");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (ctx == nullptr) return absl::ResourceExhaustedError("EVP_CIPHER_CTX_new failed");
  const auto* k = reinterpret_cast<const unsigned char*>(key.bytes().data());
  const auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
  int len = 0;
  std::string out(plaintext.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, k, iv) != 1) {
    return absl::InternalError("AES-256-GCM: init failed");
  }
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return absl::InternalError("AES-256-GCM: AAD failed");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), o, &len,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) != 1) {
      return absl::InternalError("AES-256-GCM: encrypt failed");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), o + written, &len) != 1) {
    return absl::InternalError("AES-256-GCM: final failed");
  }
  written += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + written) != 1) {
    return absl::InternalError("AES-256-GCM: tag failed");
  }
  out.resize(static_cast<size_t>(written) + kTagBytes);
  return out;
}

absl::StatusOr<std::string> AeadOpen(const SecretKey& key, absl::string_view nonce,
                                     absl::string_view ciphertext_and_tag, absl::string_view aad) {
  if (!key.valid()) return absl::InvalidArgumentError("AES-256-GCM: key is not 32 bytes");
  if (nonce.size() != kNonceBytes) {
    return absl::InvalidArgumentError("AES-256-GCM: nonce is not 12 bytes");
  }
  if (ciphertext_and_tag.size() < kTagBytes) {
    return absl::InvalidArgumentError("AES-256-GCM: ciphertext shorter than the tag");
  }
  const size_t n = ciphertext_and_tag.size() - kTagBytes;
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (ctx == nullptr) return absl::ResourceExhaustedError("EVP_CIPHER_CTX_new failed");
  const auto* k = reinterpret_cast<const unsigned char*>(key.bytes().data());
  const auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
  const auto* in = reinterpret_cast<const unsigned char*>(ciphertext_and_tag.data());
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, k, iv) != 1) {
    return absl::InternalError("AES-256-GCM: init failed");
  }
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return absl::InternalError("AES-256-GCM: AAD failed");
  }
  int written = 0;
  if (n > 0) {
    if (EVP_DecryptUpdate(ctx.get(), o, &len, in, static_cast<int>(n)) != 1) {
      return absl::InternalError("AES-256-GCM: decrypt failed");
    }
    written = len;
  }
  std::string tag(ciphertext_and_tag.substr(n));
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return absl::InternalError("AES-256-GCM: set tag failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), o + written, &len) != 1) {
    Wipe(out);
    return absl::DataLossError(
        "AES-256-GCM: authentication failed (tampered, wrong key or bound to something else)");
  }
  out.resize(static_cast<size_t>(written + len));
  return out;
}

absl::StatusOr<v1::WorkerDataKey> WrapDataKey(const MasterKey& master, const DataKey& key) {
  if (key.worker_key.empty() || key.key_id.empty()) {
    return absl::InvalidArgumentError("data key: worker_key and key_id required");
  }
  v1::WorkerDataKey w;
  w.set_worker_key(key.worker_key);
  w.set_key_id(key.key_id);
  w.set_master_key_id(master.id);
  w.set_nonce(RandomBytes(kNonceBytes));
  absl::StatusOr<std::string> ct =
      AeadSeal(master.key, w.nonce(), key.key.bytes(), WrapAad(key.worker_key, key.key_id, master.id));
  if (!ct.ok()) return ct.status();
  w.set_wrapped_key(*std::move(ct));
  return w;
}

absl::StatusOr<DataKey> UnwrapDataKey(const MasterKey& master, const v1::WorkerDataKey& wrapped) {
  if (wrapped.erased()) {
    return absl::FailedPreconditionError(
        absl::StrCat("personal data erased: data key ", wrapped.key_id(), " of worker ",
                     wrapped.worker_key().substr(0, 16), "… was erased"));
  }
  if (wrapped.master_key_id() != master.id) {
    return absl::InvalidArgumentError(absl::StrCat("data key ", wrapped.key_id(),
                                                   " was wrapped by master key ",
                                                   wrapped.master_key_id(), ", not ", master.id));
  }
  absl::StatusOr<std::string> bytes =
      AeadOpen(master.key, wrapped.nonce(), wrapped.wrapped_key(),
               WrapAad(wrapped.worker_key(), wrapped.key_id(), wrapped.master_key_id()));
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("data key ", wrapped.key_id(), ": ", bytes.status().message()));
  }
  if (bytes->size() != kKeyBytes) {
    Wipe(*bytes);
    return absl::DataLossError(absl::StrCat("data key ", wrapped.key_id(), ": not 32 bytes"));
  }
  DataKey k;
  k.worker_key = wrapped.worker_key();
  k.key_id = wrapped.key_id();
  k.key = SecretKey(*std::move(bytes));
  return k;
}

absl::StatusOr<v1::SealedPersonalData> Seal(const DataKey& key, absl::string_view field,
                                            absl::string_view plaintext) {
  v1::SealedPersonalData s;
  s.set_key_id(key.key_id);
  s.set_nonce(RandomBytes(kNonceBytes));
  absl::StatusOr<std::string> ct =
      AeadSeal(key.key, s.nonce(), plaintext, SealAad(key.worker_key, field, key.key_id));
  if (!ct.ok()) return ct.status();
  s.set_ciphertext(*std::move(ct));
  return s;
}

absl::StatusOr<v1::SealedPersonalData> SealSynthetic(const DataKey& key, absl::string_view field,
                                                     absl::string_view plaintext,
                                                     absl::string_view context) {
  std::string input = "mutualaid.v1.synthetic-nonce";
  for (absl::string_view part : {field, context, plaintext}) {
    absl::StrAppend(&input, "|", part.size(), ":", part);
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const std::string& k = key.key.bytes();
  if (HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
           &mac_len) == nullptr ||
      mac_len < kNonceBytes) {
    return absl::InternalError(absl::StrCat("sealed ", field, ": HMAC failed"));
  }
  v1::SealedPersonalData s;
  s.set_key_id(key.key_id);
  s.set_nonce(std::string(reinterpret_cast<const char*>(mac), kNonceBytes));
  OPENSSL_cleanse(mac, sizeof mac);
  absl::StatusOr<std::string> ct =
      AeadSeal(key.key, s.nonce(), plaintext, SealAad(key.worker_key, field, key.key_id));
  if (!ct.ok()) return ct.status();
  s.set_ciphertext(*std::move(ct));
  return s;
}

absl::StatusOr<std::string> Open(const DataKey& key, absl::string_view field,
                                 const v1::SealedPersonalData& sealed) {
  if (sealed.key_id() != key.key_id) {
    return absl::InvalidArgumentError(absl::StrCat("sealed ", field, ": sealed under key ",
                                                   sealed.key_id(), ", not ", key.key_id));
  }
  absl::StatusOr<std::string> clear = AeadOpen(key.key, sealed.nonce(), sealed.ciphertext(),
                                               SealAad(key.worker_key, field, key.key_id));
  if (!clear.ok()) {
    return absl::Status(clear.status().code(),
                        absl::StrCat("sealed ", field, ": ", clear.status().message()));
  }
  return clear;
}

}  // namespace mutualaid::crypto

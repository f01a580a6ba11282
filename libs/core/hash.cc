#include "mutualaid/core/hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace mutualaid {
namespace {

// EVP calls only fail on allocation failure or a broken OpenSSL install;
// neither is recoverable, and a silently wrong digest would be worse.
void CheckEvp(int ok, const char* what) {
  if (ok != 1) {
    std::fprintf(stderr, "mutualaid: OpenSSL %s failed\n", what);
    std::abort();
  }
}

}  // namespace

struct Sha256Hasher::Ctx {
  EVP_MD_CTX* md;
};

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0x0f];
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  Sha256Hasher h;
  h.Update(data);
  return h.FinishHex();
}

Sha256Hasher::Sha256Hasher() : ctx_(new Ctx{EVP_MD_CTX_new()}) {
  if (ctx_->md == nullptr) CheckEvp(0, "EVP_MD_CTX_new");
  Reset();
}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(ctx_->md);
  delete ctx_;
}

void Sha256Hasher::Reset() {
  CheckEvp(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr),
           "EVP_DigestInit_ex");
}

Sha256Hasher& Sha256Hasher::Update(absl::string_view data) {
  if (!data.empty()) {
    CheckEvp(EVP_DigestUpdate(ctx_->md, data.data(), data.size()),
             "EVP_DigestUpdate");
  }
  return *this;
}

Sha256Hasher& Sha256Hasher::UpdateUint64(uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return Update(absl::string_view(buf, sizeof buf));
}

Sha256Hasher& Sha256Hasher::UpdateLengthPrefixed(absl::string_view data) {
  UpdateUint64(data.size());
  return Update(data);
}

std::string Sha256Hasher::FinishRaw() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CheckEvp(EVP_DigestFinal_ex(ctx_->md, digest, &len), "EVP_DigestFinal_ex");
  Reset();
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string Sha256Hasher::FinishHex() { return HexEncode(FinishRaw()); }

}  // namespace mutualaid

// libs/crypto without a broker: AES-256-GCM round trip, tampering, wrong
// keys, key binding, master key parsing and loading, erased keys.
#include "mutualaid/crypto/aead.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mutualaid/core/config.h"
#include "mutualaid/crypto/key_ring.h"

namespace mutualaid::crypto {
namespace {

using ::testing::HasSubstr;

constexpr char kWorker[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
constexpr char kOther[] = "ffb2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
constexpr char kId[] = "310101199003071234";

MasterKey Master() {
  absl::StatusOr<MasterKey> m = ParseMasterKey(NewMasterKeyHex(), "test");
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

TEST(Aead, RoundTripKeepsTheBytesAndHidesThem) {
  DataKey key = NewDataKey(kWorker);
  absl::StatusOr<v1::SealedPersonalData> s = Seal(key, kFieldPhone, "13800138000");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->key_id(), key.key_id);
  EXPECT_EQ(s->nonce().size(), kNonceBytes);
  EXPECT_EQ(s->ciphertext().size(), 11 + kTagBytes);
  EXPECT_EQ(s->ciphertext().find("13800138000"), std::string::npos);
  absl::StatusOr<std::string> clear = Open(key, kFieldPhone, *s);
  ASSERT_TRUE(clear.ok()) << clear.status();
  EXPECT_EQ(*clear, "13800138000");
  // Empty plaintext too.
  absl::StatusOr<v1::SealedPersonalData> e = Seal(key, kFieldPhone, "");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Open(key, kFieldPhone, *e).value(), "");
}

TEST(Aead, EverySealHasItsOwnNonce) {
  DataKey key = NewDataKey(kWorker);
  auto a = Seal(key, kFieldPerson, kId).value();
  auto b = Seal(key, kFieldPerson, kId).value();
  EXPECT_NE(a.nonce(), b.nonce());
  EXPECT_NE(a.ciphertext(), b.ciphertext());
}

TEST(Aead, SyntheticNonceIsAFunctionOfKeyFieldContextAndPlaintext) {
  DataKey key = NewDataKey(kWorker);
  auto a = SealSynthetic(key, kFieldPhone, "13800138000", "msg-1").value();
  auto again = SealSynthetic(key, kFieldPhone, "13800138000", "msg-1").value();
  EXPECT_EQ(a.SerializeAsString(), again.SerializeAsString());  // Decide twice: same bytes
  EXPECT_EQ(a.nonce().size(), kNonceBytes);
  for (const auto& other : {SealSynthetic(key, kFieldPhone, "13800138000", "msg-2").value(),
                            SealSynthetic(key, kFieldPhone, "13900139000", "msg-1").value(),
                            SealSynthetic(key, kFieldCard, "13800138000", "msg-1").value(),
                            SealSynthetic(NewDataKey(kWorker), kFieldPhone, "13800138000", "msg-1")
                                .value()}) {
    EXPECT_NE(other.nonce(), a.nonce());
  }
  EXPECT_EQ(Open(key, kFieldPhone, a).value(), "13800138000");
  EXPECT_FALSE(Open(key, kFieldCard, a).ok());  // bound to its field like any seal
  EXPECT_EQ(a.ciphertext().find("13800138000"), std::string::npos);
}

TEST(Aead, TamperedNonceCiphertextOrTagFails) {
  DataKey key = NewDataKey(kWorker);
  const v1::SealedPersonalData s = Seal(key, kFieldPerson, kId).value();
  for (size_t i = 0; i < s.nonce().size(); ++i) {
    v1::SealedPersonalData t = s;
    (*t.mutable_nonce())[i] ^= 0x01;
    EXPECT_EQ(Open(key, kFieldPerson, t).status().code(), absl::StatusCode::kDataLoss) << i;
  }
  for (size_t i = 0; i < s.ciphertext().size(); ++i) {  // ciphertext bytes, then the tag
    v1::SealedPersonalData t = s;
    (*t.mutable_ciphertext())[i] ^= 0x80;
    absl::Status st = Open(key, kFieldPerson, t).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_THAT(st.message(), HasSubstr("authentication failed"));
  }
  v1::SealedPersonalData cut = s;
  cut.mutable_ciphertext()->pop_back();
  EXPECT_EQ(Open(key, kFieldPerson, cut).status().code(), absl::StatusCode::kDataLoss);
  v1::SealedPersonalData short_ct = s;
  short_ct.set_ciphertext("abc");
  EXPECT_EQ(Open(key, kFieldPerson, short_ct).status().code(), absl::StatusCode::kInvalidArgument);
  v1::SealedPersonalData bad_nonce = s;
  bad_nonce.set_nonce("short");
  EXPECT_EQ(Open(key, kFieldPerson, bad_nonce).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Aead, AadBindsWorkerAndField) {
  DataKey key = NewDataKey(kWorker);
  const v1::SealedPersonalData s = Seal(key, kFieldPerson, kId).value();
  // Another field of the same worker.
  EXPECT_EQ(Open(key, kFieldCard, s).status().code(), absl::StatusCode::kDataLoss);
  // The same key bytes presented as another worker's key.
  DataKey moved = key;
  moved.worker_key = kOther;
  EXPECT_EQ(Open(moved, kFieldPerson, s).status().code(), absl::StatusCode::kDataLoss);
  // Raw AEAD: AAD changed.
  const std::string nonce = RandomBytes(kNonceBytes);
  std::string ct = AeadSeal(key.key, nonce, "x", "aad-1").value();
  EXPECT_EQ(AeadOpen(key.key, nonce, ct, "aad-2").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(key.key, nonce, ct, "aad-1").value(), "x");
}

TEST(Aead, WrongKeyFails) {
  DataKey key = NewDataKey(kWorker);
  DataKey other = NewDataKey(kWorker);
  const v1::SealedPersonalData s = Seal(key, kFieldPerson, kId).value();
  // Another key id: refused before decrypting.
  EXPECT_EQ(Open(other, kFieldPerson, s).status().code(), absl::StatusCode::kInvalidArgument);
  // Another key under the same id: fails authentication.
  other.key_id = key.key_id;
  EXPECT_EQ(Open(other, kFieldPerson, s).status().code(), absl::StatusCode::kDataLoss);
}

TEST(DataKeys, WrapUnwrapAndBinding) {
  MasterKey master = Master();
  DataKey key = NewDataKey(kWorker);
  absl::StatusOr<v1::WorkerDataKey> w = WrapDataKey(master, key);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->master_key_id(), master.id);
  EXPECT_EQ(w->wrapped_key().find(key.key.bytes()), std::string::npos);
  absl::StatusOr<DataKey> back = UnwrapDataKey(master, *w);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->key.bytes(), key.key.bytes());
  EXPECT_EQ(back->key_id, key.key_id);

  v1::WorkerDataKey moved = *w;  // claimed for another worker
  moved.set_worker_key(kOther);
  EXPECT_EQ(UnwrapDataKey(master, moved).status().code(), absl::StatusCode::kDataLoss);
  v1::WorkerDataKey tampered = *w;
  (*tampered.mutable_wrapped_key())[3] ^= 1;
  EXPECT_EQ(UnwrapDataKey(master, tampered).status().code(), absl::StatusCode::kDataLoss);
  // Another master key.
  MasterKey other = Master();
  EXPECT_EQ(UnwrapDataKey(other, *w).status().code(), absl::StatusCode::kInvalidArgument);
  v1::WorkerDataKey relabelled = *w;  // claims the other master's id
  relabelled.set_master_key_id(other.id);
  EXPECT_EQ(UnwrapDataKey(other, relabelled).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MasterKeys, ParseRefusesMalformed) {
  const std::string hex = NewMasterKeyHex();
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_TRUE(ParseMasterKey(hex + "\n", "f").ok());
  absl::Status s = ParseMasterKey(hex.substr(1), "key.file").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("key.file"));
  EXPECT_THAT(s.message(), HasSubstr("64 hex characters"));
  EXPECT_EQ(ParseMasterKey("zz" + hex.substr(2), "f").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ParseMasterKey(std::string(64, '0'), "f").status().message(), HasSubstr("all zero"));
  EXPECT_EQ(ParseMasterKey(hex, "a").value().id, ParseMasterKey(hex, "b").value().id);
  EXPECT_NE(ParseMasterKey(hex, "a").value().id, ParseMasterKey(NewMasterKeyHex(), "b").value().id);
}

TEST(MasterKeys, LoadFromConfigFileOrEnv) {
  const std::string hex = NewMasterKeyHex();
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("crypto-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "master.key") << hex << "\n";
    std::ofstream(dir / "bad.key") << "not a key\n";
  }
  auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto cfg = Config::Parse("crypto.master_key_file = " + (dir / "master.key").string(), "t", no_env);
  ASSERT_TRUE(cfg.ok());
  absl::StatusOr<MasterKey> m = LoadMasterKey(*cfg);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, ParseMasterKey(hex, "x").value().id);

  auto bad = Config::Parse("crypto.master_key_file = " + (dir / "bad.key").string(), "t", no_env);
  absl::Status s = LoadMasterKey(*bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bad.key"));

  auto missing = Config::Parse("crypto.master_key_file = " + (dir / "none.key").string(), "t", no_env);
  EXPECT_EQ(LoadMasterKey(*missing).status().code(), absl::StatusCode::kNotFound);
  absl::Status unset = LoadMasterKey(Config::FromEnv(no_env)).status();
  EXPECT_EQ(unset.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unset.message(), HasSubstr("MUTUALAID_CRYPTO_MASTER_KEY_FILE"));

  // The environment wins over the file (Config's rule).
  const std::string env_hex = NewMasterKeyHex();
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "MUTUALAID_CRYPTO_MASTER_KEY") return env_hex;
    return std::nullopt;
  };
  auto with_env = Config::Parse("crypto.master_key_file = " + (dir / "bad.key").string(), "t", env);
  absl::StatusOr<MasterKey> from_env = LoadMasterKey(*with_env);
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->id, ParseMasterKey(env_hex, "x").value().id);
  auto bad_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "MUTUALAID_CRYPTO_MASTER_KEY") return std::string("1234");
    return std::nullopt;
  };
  absl::Status be = LoadMasterKey(Config::FromEnv(bad_env)).status();
  EXPECT_EQ(be.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(be.message(), HasSubstr("MUTUALAID_CRYPTO_MASTER_KEY"));
  std::filesystem::remove_all(dir);
}

TEST(MemoryKeyRing, SealOpenEraseAndReEnrol) {
  MemoryKeyRing ring(Master());
  v1::PersonalData p;
  p.set_name("张三");
  p.set_id_number(kId);
  p.set_phone("13800138000");
  absl::StatusOr<v1::SealedPersonalData> s = SealPerson(ring, kWorker, p);
  ASSERT_TRUE(s.ok()) << s.status();
  // One key per worker, reused.
  EXPECT_EQ(SealPerson(ring, kWorker, p).value().key_id(), s->key_id());
  EXPECT_EQ(ring.index().size(), 1u);
  absl::StatusOr<v1::PersonalData> back = OpenPerson(ring, kWorker, *s);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id_number(), kId);
  EXPECT_EQ(back->name(), "张三");
  // Opened as another worker's: refused.
  EXPECT_FALSE(OpenPerson(ring, kOther, *s).ok());
  // Another worker has another key.
  EXPECT_NE(SealPerson(ring, kOther, p).value().key_id(), s->key_id());

  absl::StatusOr<int> n = ring.Erase(kWorker, "operations:ops");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  absl::Status gone = OpenPerson(ring, kWorker, *s).status();
  EXPECT_TRUE(IsErased(gone)) << gone;
  EXPECT_THAT(gone.message(), HasSubstr("personal data erased"));
  // The record holds no key any more.
  auto rec = ring.index().Find(s->key_id());
  ASSERT_TRUE(rec.has_value());
  EXPECT_TRUE(rec->erased());
  EXPECT_TRUE(rec->wrapped_key().empty());
  EXPECT_EQ(rec->erased_by(), "operations:ops");
  // Erasing again erases nothing; an unknown worker is NotFound.
  EXPECT_EQ(ring.Erase(kWorker, "x").value(), 0);
  EXPECT_EQ(ring.Erase("unknown", "x").status().code(), absl::StatusCode::kNotFound);
  // The other worker is untouched.
  EXPECT_TRUE(OpenPerson(ring, kOther, SealPerson(ring, kOther, p).value()).ok());
  // A worker enrolling again after erasure gets a new key; the old data stays unreadable.
  absl::StatusOr<v1::SealedPersonalData> again = SealPerson(ring, kWorker, p);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->key_id(), s->key_id());
  EXPECT_TRUE(OpenPerson(ring, kWorker, *again).ok());
  EXPECT_TRUE(IsErased(OpenPerson(ring, kWorker, *s).status()));
  // An unknown key id.
  v1::SealedPersonalData unknown = *s;
  unknown.set_key_id("00000000000000000000000000000000");
  EXPECT_EQ(OpenPerson(ring, kWorker, unknown).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mutualaid::crypto

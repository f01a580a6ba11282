#include "mutualaid/core/hash.h"

#include "gtest/gtest.h"

namespace mutualaid {
namespace {

// FIPS 180-2 / `openssl dgst -sha256` values.
TEST(HashTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, StreamingEqualsOneShot) {
  Sha256Hasher h;
  h.Update("a").Update("").Update("bc");
  EXPECT_EQ(h.FinishHex(), Sha256Hex("abc"));
}

TEST(HashTest, ReusableAfterFinish) {
  Sha256Hasher h;
  h.Update("junk");
  (void)h.FinishRaw();
  h.Update("abc");
  EXPECT_EQ(h.FinishHex(), Sha256Hex("abc"));
}

TEST(HashTest, RawIs32Bytes) {
  Sha256Hasher h;
  h.Update("abc");
  const std::string raw = h.FinishRaw();
  ASSERT_EQ(raw.size(), 32u);
  EXPECT_EQ(HexEncode(raw), Sha256Hex("abc"));
}

TEST(HashTest, LengthPrefixIsUnambiguous) {
  Sha256Hasher a, b;
  a.UpdateLengthPrefixed("ab").UpdateLengthPrefixed("c");
  b.UpdateLengthPrefixed("a").UpdateLengthPrefixed("bc");
  EXPECT_NE(a.FinishHex(), b.FinishHex());
}

TEST(HashTest, LengthPrefixEncoding) {
  Sha256Hasher h;
  h.UpdateLengthPrefixed("abc");
  EXPECT_EQ(h.FinishHex(),
            Sha256Hex(std::string("\0\0\0\0\0\0\0\3abc", 11)));
}

TEST(HashTest, HexEncode) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xf0\xff", 4)), "000ff0ff");
  EXPECT_EQ(HexEncode(""), "");
}

}  // namespace
}  // namespace mutualaid

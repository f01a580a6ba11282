#include "mutualaid/store/keys.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace mutualaid::store {
namespace {

TEST(KeysTest, Uint64RoundTripAndOrder) {
  const std::vector<uint64_t> values = {0, 1, 255, 256, 65535, 1ull << 32,
                                        std::numeric_limits<uint64_t>::max()};
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string e = EncodeUint64(values[i]);
    ASSERT_EQ(e.size(), 8u);
    EXPECT_EQ(DecodeUint64(e), values[i]);
    if (i > 0) {
      EXPECT_LT(EncodeUint64(values[i - 1]), e);
    }
  }
  EXPECT_EQ(EncodeUint64(0x0102030405060708ull),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(KeysTest, Int64RoundTripAndOrder) {
  const std::vector<int64_t> values = {std::numeric_limits<int64_t>::min(),
                                       -1'000'000, -1, 0, 1, 2025,
                                       std::numeric_limits<int64_t>::max()};
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string e = EncodeInt64(values[i]);
    EXPECT_EQ(DecodeInt64(e), values[i]);
    if (i > 0) {
      EXPECT_LT(EncodeInt64(values[i - 1]), e);
    }
  }
}

TEST(KeysTest, DecodeRejectsWrongLength) {
  EXPECT_FALSE(DecodeUint64("1234567").has_value());
  EXPECT_FALSE(DecodeInt64("123456789").has_value());
}

TEST(KeysTest, BuilderAndReaderRoundTrip) {
  const std::string key =
      KeyBuilder().Text("ab12").Int64(2025).Text("claim-7").Uint64(47).Build();
  EXPECT_EQ(key, "ab12/" + EncodeInt64(2025) + "/claim-7/" + EncodeUint64(47));
  KeyReader r(key);
  EXPECT_EQ(r.Text(), "ab12");
  EXPECT_EQ(r.Int64(), 2025);
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.Text(), "claim-7");
  EXPECT_EQ(r.Uint64(), 47u);
  EXPECT_TRUE(r.done());
  EXPECT_FALSE(r.Text().has_value());
}

TEST(KeysTest, IntegerPartMayContainSeparatorByte) {
  const int64_t tricky = 0x2F2F;  // bytes '/' '/'
  const std::string key = KeyBuilder().Text("w").Int64(tricky).Text("x").Build();
  KeyReader r(key);
  EXPECT_EQ(r.Text(), "w");
  EXPECT_EQ(r.Int64(), tricky);
  EXPECT_EQ(r.Text(), "x");
  EXPECT_TRUE(r.done());
}

TEST(KeysTest, ReaderShapeMismatch) {
  KeyReader r("abc");
  EXPECT_EQ(r.Text(), "abc");
  EXPECT_FALSE(r.Uint64().has_value());
  KeyReader short_int("w/123");
  EXPECT_EQ(short_int.Text(), "w");
  EXPECT_FALSE(short_int.Uint64().has_value());
}

TEST(KeysTest, CompositeKeysOrderByPartsThenYear) {
  std::vector<std::string> keys = {
      KeyBuilder().Text("ab").Int64(2026).Build(),
      KeyBuilder().Text("abc").Int64(2024).Build(),
      KeyBuilder().Text("ab").Int64(2025).Build(),
      KeyBuilder().Text("ab").Int64(-1).Build(),
  };
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys[0], KeyBuilder().Text("ab").Int64(-1).Build());
  EXPECT_EQ(keys[1], KeyBuilder().Text("ab").Int64(2025).Build());
  EXPECT_EQ(keys[2], KeyBuilder().Text("ab").Int64(2026).Build());
  EXPECT_EQ(keys[3], KeyBuilder().Text("abc").Int64(2024).Build());
  // Prefix() of "ab" covers ab's keys and not abc's.
  const std::string prefix = KeyBuilder().Text("ab").Prefix();
  EXPECT_EQ(prefix, "ab/");
  EXPECT_TRUE(keys[2].rfind(prefix, 0) == 0);
  EXPECT_FALSE(keys[3].rfind(prefix, 0) == 0);
}

}  // namespace
}  // namespace mutualaid::store

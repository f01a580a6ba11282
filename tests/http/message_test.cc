#include "mutualaid/http/message.h"

#include "gtest/gtest.h"

namespace mutualaid::http {
namespace {

TEST(MessageTest, FindHeaderIsCaseInsensitive) {
  Headers headers = {{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(FindHeader(headers, "content-type"), "application/json");
  EXPECT_EQ(FindHeader(headers, "X-A"), "1");
  EXPECT_EQ(FindHeader(headers, "missing"), std::nullopt);
}

TEST(MessageTest, QueryParam) {
  Request r;
  r.query = "day=2025-01-02&phone=%2B8613800000000&name=a+b&empty=&flag";
  EXPECT_EQ(r.QueryParam("day"), "2025-01-02");
  EXPECT_EQ(r.QueryParam("phone"), "+8613800000000");
  EXPECT_EQ(r.QueryParam("name"), "a b");
  EXPECT_EQ(r.QueryParam("empty"), "");
  EXPECT_EQ(r.QueryParam("flag"), "");
  EXPECT_EQ(r.QueryParam("none"), std::nullopt);
}

TEST(MessageTest, PercentRoundTrip) {
  const std::string raw = "claim/2025 #1?&=+互助";
  const std::string encoded = PercentEncode(raw);
  EXPECT_EQ(encoded.find_first_of("/ #?&=+"), std::string::npos);
  EXPECT_EQ(*PercentDecode(encoded), raw);
  EXPECT_EQ(PercentEncode("Az09-._~"), "Az09-._~");
  EXPECT_FALSE(PercentDecode("%4").ok());
  EXPECT_FALSE(PercentDecode("%zz").ok());
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
}

TEST(MessageTest, ParseUrl) {
  absl::StatusOr<Url> u = ParseUrl("http://127.0.0.1:8080/cb/sms?x=1");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/cb/sms?x=1");
  u = ParseUrl("http://localhost");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  u = ParseUrl("http://[::1]:9/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9);
  u = ParseUrl("http://h:1?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/?q");
  EXPECT_FALSE(ParseUrl("https://bank.example/").ok());
  EXPECT_FALSE(ParseUrl("http://:80/").ok());
  EXPECT_FALSE(ParseUrl("http://h:0/").ok());
  EXPECT_FALSE(ParseUrl("http://h:99999/").ok());
  EXPECT_FALSE(ParseUrl("http://u:p@h/").ok());
}

TEST(MessageTest, StatusText) {
  EXPECT_EQ(StatusText(200), "OK");
  EXPECT_EQ(StatusText(429), "Too Many Requests");
  EXPECT_EQ(StatusText(299), "");
}

}  // namespace
}  // namespace mutualaid::http

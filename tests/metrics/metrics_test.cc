#include "mutualaid/metrics/metrics.h"

#include <gtest/gtest.h>

#include "mutualaid/http/client.h"

namespace mutualaid::metrics {
namespace {

TEST(RegistryTest, RendersTheTextExpositionFormat) {
  Registry r;
  auto& decisions = r.Counter("mutualaid_decisions_total", "Decisions.", {"type", "outcome"});
  decisions.With({"enrollment", "ACCEPTED"}).Increment(3);
  decisions.With({"enrollment", "REJECTED"}).Increment();
  r.Gauge("mutualaid_up", "Up.").Get().Set(1);
  r.GaugeCallback("mutualaid_consumer_lag", "Lag.", {"topic", "partition"}, [] {
    return std::vector<Sample>{{{"t\"x", "0"}, 5}};
  });
  auto& latency = r.Histogram("mutualaid_rpc_seconds", "Latency.", {"method"}, {0.01, 0.1});
  latency.With({"File"}).Observe(0.005);
  latency.With({"File"}).Observe(0.05);
  latency.With({"File"}).Observe(5);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE mutualaid_decisions_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("mutualaid_decisions_total{type=\"enrollment\",outcome=\"ACCEPTED\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_up 1\n"), std::string::npos);
  EXPECT_NE(text.find("mutualaid_consumer_lag{topic=\"t\\\"x\",partition=\"0\"} 5\n"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_rpc_seconds_bucket{method=\"File\",le=\"0.01\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_rpc_seconds_bucket{method=\"File\",le=\"0.1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_rpc_seconds_bucket{method=\"File\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("mutualaid_rpc_seconds_count{method=\"File\"} 3\n"), std::string::npos);
}

TEST(MetricsServerTest, ServesMetricsOverHttp) {
  Registry r;
  r.Counter("mutualaid_test_total", "T.").Get().Increment(7);
  MetricsServer server(r, "127.0.0.1:0");
  ASSERT_TRUE(server.Start().ok());
  auto client = http::Client::ForUrl("http://" + server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto resp = client->Get("/metrics");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_NE(resp->body.find("mutualaid_test_total 7"), std::string::npos);
}

}  // namespace
}  // namespace mutualaid::metrics

// How a client (producer, consumer, admin, reader) reaches the cluster.

#ifndef MUTUALAID_KAFKA_CONFIG_H_
#define MUTUALAID_KAFKA_CONFIG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "mutualaid/core/log.h"

namespace mutualaid::kafka {

struct ClientConfig {
  // "host:port[,host:port...]", e.g. "127.0.0.1:19092".
  std::string bootstrap;
  // Names this process in broker logs and quotas: "<service>-<replica>".
  std::string client_id = "mutualaid";
  // Extra librdkafka properties, applied after everything this library sets,
  // so they win: e.g. {"debug", "cgrp"} or {"test.mock.num.brokers", "1"}.
  std::vector<std::pair<std::string, std::string>> properties;
  // librdkafka's own log lines (and error reports) go here, component
  // "kafka". Must outlive every client made from this config. nullptr: a
  // stderr logger at warning level.
  const Logger* logger = nullptr;
};

// The environment variable the tests and tools read the bootstrap from.
inline constexpr char kBootstrapEnv[] = "MUTUALAID_KAFKA_BOOTSTRAP";

// ClientConfig{bootstrap = $MUTUALAID_KAFKA_BOOTSTRAP, client_id}.
// FailedPrecondition when the variable is unset or empty.
absl::StatusOr<ClientConfig> ClientConfigFromEnv(std::string client_id = "mutualaid");

}  // namespace mutualaid::kafka

#endif  // MUTUALAID_KAFKA_CONFIG_H_

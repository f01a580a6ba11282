// What the sealing tests grep for personal data in clear: every byte a topic
// holds (keys, values, headers of every record) and every byte of a directory
// (a RocksDB store: its write-ahead log is not compressed).
#ifndef MUTUALAID_TESTS_CRYPTO_RAW_BYTES_H_
#define MUTUALAID_TESTS_CRYPTO_RAW_BYTES_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "mutualaid/kafka/partition_reader.h"

namespace mutualaid::testing {

// Every record of the first `partitions` partitions of `topic` (fewer if the
// topic has fewer: the keys topic has one).
inline std::string TopicBytes(const std::string& topic, int partitions = 3) {
  auto client = kafka::ClientConfigFromEnv("raw-bytes-test").value();
  std::string all;
  for (int p = 0; p < partitions; ++p) {
    auto reader = kafka::PartitionReader::Open(client, topic, p, 0);
    if (!reader.ok()) {
      EXPECT_GT(p, 0) << topic << ": " << reader.status();
      break;
    }
    while (true) {
      auto m = (*reader)->Next();
      EXPECT_TRUE(m.ok()) << topic << "/" << p << ": " << m.status();
      if (!m.ok() || !m->has_value()) break;
      absl::StrAppend(&all, (*m)->key, (*m)->value);
      for (const auto& h : (*m)->headers) absl::StrAppend(&all, h.value);
    }
  }
  return all;
}

inline std::string DirBytes(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

}  // namespace mutualaid::testing

#endif  // MUTUALAID_TESTS_CRYPTO_RAW_BYTES_H_

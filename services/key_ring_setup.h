// How a service's main opens the key ring (libs/crypto): the master key from
// crypto.master_key_file / crypto.master_key (MUTUALAID_CRYPTO_MASTER_KEY[_FILE]),
// the data keys from the compacted topic mutualaid.keys under the topic prefix,
// kept in a key cache of the service's own (RocksDB, not the state store):
//   crypto.key_cache_path = <store.path>/keys     (default; no store.path: in memory)
//   crypto.unwrapped_keys = 65536                 (clear keys kept in memory, LRU)
// A malformed or unreadable master key stops the service; none configured at
// all runs it without sealing (said loudly in the log) so old configs keep
// working until they get a key.
#ifndef MUTUALAID_SERVICES_KEY_RING_SETUP_H_
#define MUTUALAID_SERVICES_KEY_RING_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/core/config.h"
#include "mutualaid/crypto/aead.h"
#include "mutualaid/crypto/kafka_key_ring.h"
#include "mutualaid/server/runtime.h"

namespace mutualaid::services {

// nullptr (and a warning) when no master key is configured.
inline absl::StatusOr<std::unique_ptr<crypto::KafkaKeyRing>> OpenKeyRing(server::Runtime& r) {
  const Config& c = r.config();
  if (!c.Has(crypto::kMasterKeyConfigKey) && !c.Has(crypto::kMasterKeyFileConfigKey)) {
    r.log().Warning(absl::StrCat("no master key (", crypto::kMasterKeyFileConfigKey,
                              "): personal data is NOT sealed"));
    return std::unique_ptr<crypto::KafkaKeyRing>();
  }
  absl::StatusOr<crypto::MasterKey> master = crypto::LoadMasterKey(c);
  if (!master.ok()) return master.status();
  crypto::KafkaKeyRingOptions o;
  o.client = r.kafka();
  o.topic = r.topic(crypto::kKeysTopic);
  o.creator = r.instance();
  o.clock = &r.clock();
  if (c.Has("crypto.key_cache_path")) {
    absl::StatusOr<std::string> path = c.GetPath("crypto.key_cache_path");
    if (!path.ok()) return path.status();
    o.cache_path = *path;
  } else if (c.Has("store.path")) {
    absl::StatusOr<std::string> store = c.GetPath("store.path");
    if (!store.ok()) return store.status();
    o.cache_path = absl::StrCat(*store, "/keys");
  }
  absl::StatusOr<int64_t> unwrapped =
      c.GetInt64("crypto.unwrapped_keys", static_cast<int64_t>(o.unwrapped_keys));
  if (!unwrapped.ok()) return unwrapped.status();
  if (*unwrapped < 0) {
    return absl::InvalidArgumentError("crypto.unwrapped_keys: must be 0 or more");
  }
  o.unwrapped_keys = static_cast<size_t>(*unwrapped);
  return crypto::KafkaKeyRing::Create(*std::move(master), o);
}

}  // namespace mutualaid::services

#endif  // MUTUALAID_SERVICES_KEY_RING_SETUP_H_

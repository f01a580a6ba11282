#!/usr/bin/env bash
# tools/bench/claims.sh [claims_bench flags…]
#
# Claims decision latency in one command: builds the Release targets it needs
# in build/bench (enrollment, claims, claims_bench), starts a private Kafka
# broker (port 19506, data var/bench-19506-kafka; reused if already running
# from that dir), runs claims_bench (raw produce+consume yardstick, then claims
# filed over gRPC at fixed open-loop rates: by default 500/s for 30 s, and
# with --max a ladder to the maximum sustainable rate), and stops the broker
# again, wiping its data dir. What it prints: tools/bench/README.md.
#
#   bash tools/bench/claims.sh                       # 500/s for 30 s
#   bash tools/bench/claims.sh --max                 # … then the maximum sustainable rate
#   bash tools/bench/claims.sh --rates 500,1000 --seconds 60 --workers 50000
#
# Environment: BENCH_KAFKA_PORT (19506), BENCH_KAFKA_DATA (var/bench-19506-kafka),
# BENCH_BUILD_DIR (build/bench), BENCH_KEEP_BROKER=1 leaves the broker running.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BENCH_BUILD_DIR:-build/bench}
export KAFKA_PORT=${BENCH_KAFKA_PORT:-19506}
export KAFKA_DATA=${BENCH_KAFKA_DATA:-var/bench-19506-kafka}  # relative to the checkout

echo "== build (Release, $BUILD)"
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target enrollment claims claims_bench

echo "== broker (127.0.0.1:$KAFKA_PORT, $KAFKA_DATA)"
started_here=0
if ! deploy/local/kafka status >/dev/null 2>&1; then
  started_here=1
fi
deploy/local/kafka start
stop_broker() {
  if [ "${BENCH_KEEP_BROKER:-0}" != 1 ] && [ "$started_here" = 1 ]; then
    echo "== stopping the broker"
    deploy/local/kafka reset >/dev/null 2>&1 || deploy/local/kafka stop || true
  fi
}
trap stop_broker EXIT

broker_pid=$(cat "$KAFKA_DATA/kafka.pid" 2>/dev/null || echo -1)
echo "== claims_bench (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- libs services || echo ' + local changes'), load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT \
  "$BUILD/tools/bench/claims_bench" --services "$BUILD/services" --broker-pid "$broker_pid" "$@"

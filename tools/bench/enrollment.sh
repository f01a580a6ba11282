#!/usr/bin/env bash
# tools/bench/enrollment.sh [N] [enrollment_bench flags…]
#
# The enrollment service end to end, in one command (default N = 1 000 000):
# starts a private Kafka broker (port 19392, data var/bench-kafka), builds the
# `release` preset's enrollment and enrollment_bench, runs enrollment_bench
# (raw produce+consume yardstick, then N records through 3 platforms' streams
# into the service), and stops the broker again (its data dir is wiped: a
# 1 M run leaves GBs of topics). What it prints: tools/bench/README.md.
#
# Environment: BENCH_KAFKA_PORT (19392), BENCH_KAFKA_DATA (var/bench-kafka),
# BENCH_KEEP_BROKER=1 leaves the broker running (and its data) afterwards,
# BENCH_BUILD_DIR=build/<name> uses (and builds the two targets in) an already
# configured build dir instead of the `release` preset's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
N=${1:-1000000}
shift || true

export KAFKA_PORT=${BENCH_KAFKA_PORT:-19392}
export KAFKA_DATA=${BENCH_KAFKA_DATA:-var/bench-kafka}  # relative to the checkout

BUILD=${BENCH_BUILD_DIR:-build/release}
if [ "$BUILD" = build/release ]; then
  echo "== build (release preset)"
  [ -f build/release/CMakeCache.txt ] || cmake --preset release >/dev/null
  cmake --build --preset release --target enrollment enrollment_bench
else
  echo "== build ($BUILD)"
  cmake --build "$BUILD" -j2 --target enrollment enrollment_bench
fi

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
echo "== enrollment_bench $N (load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT \
  "$BUILD/tools/bench/enrollment_bench" "$N" \
  --service "$BUILD/services/enrollment/enrollment" --broker-pid "$broker_pid" "$@"

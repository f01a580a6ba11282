#!/usr/bin/env bash
# tools/bench/year_replay.sh [WORKERS…] [--repeat N] [--claims-percent P]
#
# The plan-year replay in one command, for each WORKERS size (default
# 1000000): builds the Release targets it needs in build/bench (year_gen,
# year_replay, mutualctl), starts a private Kafka broker (port 19506, data
# var/bench-19506-kafka; reused if already running from that dir), then
#   1. year_gen writes the plan year of WORKERS workers with the services'
#      real logic in-process (requests, events with their audit chain headers,
#      across all topics) and the digest of each service's generated state;
#   2. year_replay replays each service from zero with `mutualctl replay`,
#      measuring raw consume of the same topics in the same run, events/s,
#      the ratio, the digest against the generated state and the replay's peak
#      RSS (--repeat N times each);
#   3. deletes that size's topics and stores;
# and stops the broker again, wiping its data dir (1 M workers is ~GBs).
# What it prints: tools/bench/README.md.
#
# Environment: BENCH_KAFKA_PORT (19506), BENCH_KAFKA_DATA (var/bench-19506-kafka),
# BENCH_BUILD_DIR (build/bench), BENCH_WORK (var/bench-year: stores, digests),
# BENCH_KEEP_BROKER=1 leaves the broker (and the topics) in place.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BENCH_BUILD_DIR:-build/bench}
WORK=${BENCH_WORK:-var/bench-year}
export KAFKA_PORT=${BENCH_KAFKA_PORT:-19506}
export KAFKA_DATA=${BENCH_KAFKA_DATA:-var/bench-19506-kafka}  # relative to the checkout

sizes=()
repeat=1
gen_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --claims-percent) gen_flags+=(--claims-percent "$2"); shift 2 ;;
    --partitions) gen_flags+=(--partitions "$2"); shift 2 ;;
    *) sizes+=("$1"); shift ;;
  esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000)

echo "== build (Release, $BUILD)"
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target year_gen year_replay mutualctl

echo "== broker (127.0.0.1:$KAFKA_PORT, $KAFKA_DATA)"
started_here=0
if ! deploy/local/kafka status >/dev/null 2>&1; then
  started_here=1
fi
deploy/local/kafka start
cleanup() {
  rm -rf "$WORK"
  if [ "${BENCH_KEEP_BROKER:-0}" != 1 ] && [ "$started_here" = 1 ]; then
    echo "== stopping the broker"
    deploy/local/kafka reset >/dev/null 2>&1 || deploy/local/kafka stop || true
  fi
}
trap cleanup EXIT

export MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
echo "== commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- libs services tools/mutualctl || echo ' + local changes'), $(nproc) cores"
for n in "${sizes[@]}"; do
  prefix="year${n}-$$."
  dir="$WORK/$n"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "== year_gen --workers $n (load: $(cut -d' ' -f1-3 /proc/loadavg), disk free: $(df -h --output=avail . | tail -1 | tr -d ' '))"
  "$BUILD/tools/bench/year_gen" --workers "$n" --prefix "$prefix" --dir "$dir" "${gen_flags[@]}"
  echo "== broker data after the year: $(du -sh "$KAFKA_DATA" | cut -f1)"
  echo "== year_replay (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  delete=(--delete)
  [ "${BENCH_KEEP_BROKER:-0}" = 1 ] && delete=()
  "$BUILD/tools/bench/year_replay" --prefix "$prefix" --dir "$dir" \
    --mutualctl "$BUILD/tools/mutualctl/mutualctl" --repeat "$repeat" "${delete[@]}" || status=$?
  rm -rf "$dir"
  [ "${status:-0}" = 0 ] || { echo "year_replay: digests differ (exit $status)"; exit "$status"; }
done

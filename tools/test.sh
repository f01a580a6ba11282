#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what is missing, builds,
# starts a private Kafka broker on loopback, runs every test, stops the broker.
#
#   bash tools/test.sh                 # RelWithDebInfo build, all tests
#   MUTUALAID_SANITIZE=1 bash tools/test.sh   # the same under ASan + UBSan
#   MUTUALAID_FUZZ=0 bash tools/test.sh       # skip the libFuzzer build and runs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash deploy/install-deps.sh

# ccache across clones: paths relative to the checkout, cache in the user's home.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$root
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
jobs=${MUTUALAID_JOBS:-$(nproc)}

preset=dev
[[ ${MUTUALAID_SANITIZE:-0} == 1 ]] && preset=asan

echo "== build ($preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"

fuzz=${MUTUALAID_FUZZ:-1}
if [[ $fuzz == 1 ]]; then
  echo "== build (fuzz targets, clang + libFuzzer)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target mutualaid_fuzzers
fi

# A private broker for the tests: its own port and data dir, wiped first and
# stopped at the end, so a developer's running stack is never touched.
export KAFKA_PORT=${MUTUALAID_TEST_KAFKA_PORT:-19192}
export KAFKA_DATA=$root/var/test-kafka
export MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
stop_broker() { deploy/local/kafka stop >/dev/null 2>&1 || true; }
trap stop_broker EXIT
echo "== kafka broker on $MUTUALAID_KAFKA_BOOTSTRAP"
deploy/local/kafka reset >/dev/null
deploy/local/kafka start

status=0
passed=0
failed=0
# Runs ctest, shows its output, and adds its counts to the totals.
run_ctest() {
  local log
  log=$(mktemp)
  ctest "$@" 2>&1 | tee "$log" || status=1
  local line total bad
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
  if [[ -n $line ]]; then
    bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
  else
    status=1
  fi
  rm -f "$log"
}

echo "== tests ($preset)"
run_ctest --test-dir "build/$preset" --output-on-failure -j "$jobs" --timeout 600
if [[ $fuzz == 1 ]]; then
  echo "== fuzz (short runs)"
  run_ctest --test-dir build/fuzz -L fuzz --output-on-failure -j "$jobs"
fi
echo "total: $passed passed, $failed failed"
exit $status

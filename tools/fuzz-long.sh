#!/usr/bin/env bash
# The long fuzz run: builds the `fuzz` preset's targets and runs each libFuzzer
# target for N executions (default 10 000 000), one target after another in one
# process each (no -jobs/-workers: the machine is shared), from the committed
# seed corpus. Prints a table: executions, exec/s, coverage (cov = edges,
# ft = features), corpus size, wall time, result. A crash stops nothing else:
# the target's line says CRASH and the artifact is kept under
# build/fuzz/tests/fuzz/long/<name>/.
#
#   bash tools/fuzz-long.sh                  # every target, 10 M runs each
#   bash tools/fuzz-long.sh 1000000          # 1 M runs each
#   bash tools/fuzz-long.sh 10000000 envelope claims_requests   # some targets
#   FUZZ_MAX_TIME=1800 bash tools/fuzz-long.sh   # also stop a target after 30 min
#   FUZZ_NO_BUILD=1 bash tools/fuzz-long.sh      # run what is built
#
# Targets are tests/fuzz/fuzz_<name>.cc; seeds tests/fuzz/corpus/<name>/; the
# corpus a run grows is kept in build/fuzz/tests/fuzz/long/<name>/corpus (a next
# run starts from it too).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

runs=${1:-10000000}
shift || true
build=${FUZZ_BUILD_DIR:-build/fuzz}
max_time=${FUZZ_MAX_TIME:-0}

if [[ ${FUZZ_NO_BUILD:-0} != 1 ]]; then
  export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
  export CCACHE_BASEDIR=$root
  export CCACHE_NOHASHDIR=1
  cmake --preset fuzz -B "$build" >/dev/null
  cmake --build "$build" -j "${MUTUALAID_JOBS:-2}" --target mutualaid_fuzzers
fi

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for f in tests/fuzz/fuzz_*.cc; do
    n=${f#tests/fuzz/fuzz_}
    names+=("${n%.cc}")
  done
fi

rows=()
status=0
for name in "${names[@]}"; do
  bin=$build/tests/fuzz/fuzz_$name
  [[ -x $bin ]] || { echo "no $bin (build the fuzz preset)" >&2; status=1; continue; }
  work=$build/tests/fuzz/long/$name
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/run.log
  echo "== fuzz_$name: $runs runs (log $log)"
  start=$(date +%s)
  set +e
  "$bin" -runs="$runs" -max_total_time="$max_time" -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(($(date +%s) - start))
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  [[ ${rate:-0} == 0 && $secs -gt 0 ]] && rate=$((${execs:-0} / secs))
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[bKM]*).*/\1/p' <<<"$last")
  result=ok
  if [[ $rc != 0 ]]; then
    result="CRASH rc=$rc ($(ls "$work/artifacts" | head -1))"
    status=1
  elif [[ ${execs:-0} -lt $runs ]]; then
    result="stopped at the time limit"
  fi
  rows+=("$(printf '| %-22s | %12s | %8s | %6s | %7s | %12s | %7s | %s |' "fuzz_$name" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${secs}s" "$result")")
  echo "${rows[-1]}"
done

echo
printf '| %-22s | %12s | %8s | %6s | %7s | %12s | %7s | %s |\n' target execs exec/s cov ft corpus time result
echo '|------------------------|--------------|----------|--------|---------|--------------|---------|--------|'
printf '%s\n' "${rows[@]}"
exit $status

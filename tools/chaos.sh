#!/usr/bin/env bash
# The long whole-stack chaos run (the short one is ctest chaos.short):
# a plan year of --workers workers through the four services while services are
# SIGKILLed --kills times at random instants and the broker is restarted
# --broker-restarts times, then the invariants (tests/chaos/chaos_driver.cc).
# The driver starts its own broker (deploy/local/kafka on a free port, its own
# data dir under $TMPDIR) and stops it at the end: no running stack is touched.
#
#   bash tools/chaos.sh [--seed N] [--kills 50] [--broker-restarts 2] [--workers 3000]
#                       [--time-limit SECONDS] [--keep]
#
# MUTUALAID_BUILD_DIR: the build to use (default build/dev; built if needed).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${MUTUALAID_BUILD_DIR:-build/dev}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake --preset dev >/dev/null
  build=build/dev
fi
cmake --build "$build" -j "${MUTUALAID_JOBS:-$(nproc)}" --target chaos_driver
# Defaults of the long run; later arguments win.
exec "$build/tests/chaos/chaos_driver" --kills 50 --broker-restarts 2 --workers 3000 --time-limit 1500 "$@"

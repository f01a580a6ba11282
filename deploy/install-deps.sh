#!/usr/bin/env bash
# Installs everything the project needs to build, test and run, from Debian 12's
# packages. Idempotent: a second run installs nothing. Called first by README's
# commands and by .ci/run.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ ccache pkg-config git
  # the system's dependencies
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librdkafka-dev librocksdb-dev libabsl-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing (libFuzzer) and sanitizers
  clang libclang-rt-14-dev
  # the Kafka broker's runtime and fetcher, and a Kafka CLI client
  openjdk-17-jre-headless maven kcat
  # misc tools used by scripts
  curl python3
  # the report's HTML checked in a headless browser (tests/ops), with CJK fonts
  chromium fonts-noto-cjk
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Shared by deploy/local/{up,down,status,logs}: where things are, and the
# processes of the local stack. Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL=$ROOT/deploy/local
VAR=${MUTUALAID_VAR:-$ROOT/var/local}
BUILD=$(realpath -m "${MUTUALAID_BUILD:-$ROOT/build/dev}")
LOGS=$VAR/logs
# The broker the stack uses: deploy/local/kafka's port and data dir; the
# services' kafka.bootstrap follows it (MUTUALAID_KAFKA_BOOTSTRAP overrides
# the config files' key).
export KAFKA_PORT=${KAFKA_PORT:-19092}
export KAFKA_DATA=${KAFKA_DATA:-$ROOT/var/kafka}
export MUTUALAID_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
PIDS=$VAR/pids

# name, binary (relative to the build dir), extra args. The services read
# deploy/local/config/<name>.conf; the fakes are configured here.
SERVICES=(enrollment claims payout notification)
FAKEBANK_PORT=7201
FAKESMS_PORT=7202

service_binary() { echo "$BUILD/services/$1/$1"; }

say() { echo "stack: $*"; }
die() {
  echo "stack: error: $*" >&2
  exit 1
}

is_running() {
  local pidfile=$PIDS/$1.pid
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Starts a process in the background with its log; waits for a line matching
# `ready` in the log (the services print "listening ADDRESS" on stdout).
start_process() {
  local name=$1 ready=$2
  shift 2
  if is_running "$name"; then
    say "$name already running (pid $(cat "$PIDS/$name.pid"))"
    return 0
  fi
  mkdir -p "$LOGS" "$PIDS"
  : >"$LOGS/$name.log"
  (cd "$VAR" && exec "$@" >>"$LOGS/$name.log" 2>&1) &
  echo $! >"$PIDS/$name.pid"
  local waited=0
  until grep -qE "$ready" "$LOGS/$name.log" 2>/dev/null; do
    if ! is_running "$name"; then
      tail -20 "$LOGS/$name.log" >&2
      die "$name exited while starting (log: $LOGS/$name.log)"
    fi
    sleep 0.2
    waited=$((waited + 1))
    ((waited < 600)) || die "$name did not start in 120 s (log: $LOGS/$name.log)"
  done
  say "$name running (pid $(cat "$PIDS/$name.pid")): $(grep -m1 -oE "$ready.*" "$LOGS/$name.log" | cut -c1-80)"
}

stop_process() {
  local name=$1 pidfile=$PIDS/$1.pid
  if ! is_running "$name"; then
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "$name stopped"
}

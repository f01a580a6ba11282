#!/usr/bin/env bash
# Validates the Helm chart (helm/mutualaid) without a cluster:
#   helm lint --strict  with the default values and with each helm/mutualaid/ci/*.yaml
#   helm template       likewise, plus checks on what the output must contain.
#
# helm itself: a pinned version, built once from the Go module proxy with
#   GOBIN=<cache> go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION
# into ${MUTUALAID_CACHE:-$HOME/.cache/mutualaid}/helm-$HELM_VERSION/helm; later
# runs reuse that binary. `HELM=/path/to/helm` uses another one instead.
#
# Run from anywhere: bash tools/helm-check.sh. Exit status 0 = all good,
# 77 = skipped (no helm cached and no Go to build one), else a failure.
set -euo pipefail

HELM_VERSION=v3.21.4
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART="$ROOT/helm/mutualaid"
CACHE="${MUTUALAID_CACHE:-$HOME/.cache/mutualaid}"
# The Kubernetes version rendered against: a helm built by `go install` (no
# release ldflags) assumes v1.20, below the chart's kubeVersion (>= 1.27).
KUBE_VERSION=1.30.0

log() { printf 'helm-check: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- helm ---------------------------------------------------------------------
if [[ -z "${HELM:-}" ]]; then
  dir="$CACHE/helm-$HELM_VERSION"
  HELM="$dir/helm"
  if [[ ! -x "$HELM" ]]; then
    # helm v3.21 needs Go >= 1.26 (its go.mod); Go >= 1.21 fetches that
    # toolchain itself through the module proxy (GOTOOLCHAIN=auto).
    GO=$(command -v go || true)
    [[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
    if [[ -z $GO ]]; then
      log "SKIP: helm $HELM_VERSION is not cached and go is not installed (set HELM=/path/to/helm)"
      exit 77  # ctest: SKIP_RETURN_CODE
    fi
    log "building helm $HELM_VERSION into $dir (once; a few minutes) with $("$GO" version)"
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir/.build.XXXXXX")
    start=$SECONDS
    # CGO off: a static binary, no C toolchain needed; -trimpath: reproducible.
    if ! CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS="-trimpath -buildvcs=false" \
        "$GO" install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; then
      rm -rf "$tmp"
      die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed"
    fi
    mv -f "$tmp/helm" "$HELM"  # atomic: a concurrent run sees no half-written binary
    rm -rf "$tmp"
    log "built helm in $((SECONDS - start))s"
  fi
fi
"$HELM" version --short >/dev/null || die "$HELM does not run"
log "using $("$HELM" version --short) ($HELM)"

# helm must not read or write the user's helm config, repos or plugins.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HELM_CONFIG_HOME="$work/config" HELM_CACHE_HOME="$work/cache" HELM_DATA_HOME="$work/data"

# --- lint + template ----------------------------------------------------------
# Each case: a name and the values files (none: the defaults).
cases=("default")
for f in "$CHART"/ci/*.yaml; do
  [[ -e "$f" ]] && cases+=("$(basename "$f" .yaml)")
done

checks=0
expect() {  # expect <case> <description> <count|min:N> <grep -E pattern> <file>
  local name=$1 what=$2 want=$3 pattern=$4 file=$5 got
  got=$(grep -cE -- "$pattern" "$file" || true)
  checks=$((checks + 1))
  if [[ $want == min:* ]]; then
    ((got >= ${want#min:})) || die "$name: $what: want at least ${want#min:}, found $got (/$pattern/)"
  else
    ((got == want)) || die "$name: $what: want $want, found $got (/$pattern/)"
  fi
}

for name in "${cases[@]}"; do
  args=()
  [[ $name != default ]] && args=(-f "$CHART/ci/$name.yaml")
  log "$name: lint"
  "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$CHART" "${args[@]}" >"$work/lint.out" 2>&1 || {
    cat "$work/lint.out" >&2
    die "$name: helm lint --strict"
  }
  log "$name: template"
  out="$work/$name.yaml"
  "$HELM" template mutualaid "$CHART" --kube-version "$KUBE_VERSION" --namespace mutualaid "${args[@]}" >"$out" 2>"$work/template.err" || {
    cat "$work/template.err" >&2
    die "$name: helm template"
  }
  [[ -s "$work/template.err" ]] && { cat "$work/template.err" >&2; die "$name: helm template wrote warnings"; }

  # What every rendering must have, per enabled service.
  n=4
  [[ $name == inline-secrets-values ]] && n=3  # notification disabled there
  expect "$name" "StatefulSets" "$n" '^kind: StatefulSet$' "$out"
  expect "$name" "volumeClaimTemplates" "$n" '^  volumeClaimTemplates:$' "$out"
  expect "$name" "ConfigMaps" "$n" '^kind: ConfigMap$' "$out"
  expect "$name" "Services (headless + client)" "$((2 * n))" '^kind: Service$' "$out"
  expect "$name" "headless Services" "$n" '^  clusterIP: None$' "$out"
  expect "$name" "store.path on the volume" "$n" '^    store\.path = /var/lib/mutualaid/store$' "$out"
  expect "$name" "replica from the pod" "$n" 'MUTUALAID_REPLICA="\$\{HOSTNAME##\*-\}"; export|- name: MUTUALAID_REPLICA$' "$out"
  expect "$name" "read-only root fs" "$n" 'readOnlyRootFilesystem: true' "$out"
  expect "$name" "non-root" "min:$n" 'runAsNonRoot: true' "$out"
  expect "$name" "resources" "$n" '^          resources:$' "$out"
  case $name in
    default)
      expect "$name" "grpc probes (startup, liveness, readiness)" "$((3 * n))" '^            grpc:$' "$out"
      expect "$name" "metrics.listen" "$n" '^    metrics\.listen = 0\.0\.0\.0:9090$' "$out"
      expect "$name" "no ServiceMonitor" 0 '^kind: ServiceMonitor$' "$out"
      expect "$name" "replicas: 1" "$n" '^  replicas: 1$' "$out"
      expect "$name" "chart-made tokens Secret only" 1 '^kind: Secret$' "$out"
      ;;
    full-values)
      expect "$name" "tcp probes under TLS" "$((3 * n))" '^            tcpSocket:$' "$out"
      expect "$name" "ServiceMonitors" "$n" '^kind: ServiceMonitor$' "$out"
      expect "$name" "replicas: 3" "$n" '^  replicas: 3$' "$out"
      expect "$name" "no chart-made Secret" 0 '^kind: Secret$' "$out"
      expect "$name" "gRPC mutual TLS" "$n" '^    grpc\.tls_client_ca = ' "$out"
      expect "$name" "Kafka SASL_SSL" "$n" '^    kafka\.property\.security\.protocol = SASL_SSL$' "$out"
      expect "$name" "existing secrets" "min:$n" 'secretName: mutualaid-(tokens|worker-key)$' "$out"
      expect "$name" "hard anti-affinity" "$n" 'requiredDuringSchedulingIgnoredDuringExecution' "$out"
      ;;
    inline-secrets-values)
      expect "$name" "exec probes" "$((3 * n))" '^            exec:$' "$out"
      expect "$name" "chart-made Secrets (tokens, worker key, master key, TLS)" 4 '^kind: Secret$' "$out"
      expect "$name" "simulated clock" "$n" '^    clock = simulated$' "$out"
      expect "$name" "no metrics.listen" 0 'metrics\.listen' "$out"
      ;;
  esac
done

# Misconfigurations the chart must refuse, each with its own message.
refuse() {  # refuse <description> <expected message, grep -E> <helm template args...>
  local what=$1 message=$2
  shift 2
  checks=$((checks + 1))
  if "$HELM" template mutualaid "$CHART" --kube-version "$KUBE_VERSION" "$@" >/dev/null 2>"$work/refuse.err"; then
    die "rendered although $what"
  fi
  grep -qE -- "$message" "$work/refuse.err" || {
    cat "$work/refuse.err" >&2
    die "refused for another reason than: $what (want /$message/)"
  }
}
refuse "a reserved key is set in config" 'config key "store.path" is managed' --set 'config.store\.path=/x'
refuse "a grpc.* key is set in a service's config" 'config key "grpc.listen" is managed' \
  --set 'services.claims.config.grpc\.listen=0.0.0.0:1'
refuse "no worker-key secret is named" 'workerKey: set workerKey.existingSecret' --set workerKey.existingSecret=
refuse "the worker key is short" 'workerKey.value: at least 32 bytes' \
  --set workerKey.existingSecret= --set workerKey.value=short
refuse "no master-key secret is named" 'masterKey: set masterKey.existingSecret' --set masterKey.existingSecret=
refuse "the master key is not 64 hex characters" 'masterKey.value: 64 hex characters' \
  --set masterKey.existingSecret= --set masterKey.value=abc
refuse "TLS is on without a certificate" 'grpc.tls.enabled: set grpc.tls.existingSecret' --set grpc.tls.enabled=true
refuse "SASL is on without a password Secret" 'kafka.sasl.passwordSecret.name is required' \
  --set kafka.sasl.enabled=true --set kafka.sasl.username=u
refuse "the probe type is unknown" 'probes.type: auto, grpc, tcp or exec' --set probes.type=http
printf '5s\nreplica = 7\n' >"$work/two-lines"
refuse "a config value has a newline" 'no newlines' --set-file "services.claims.config.claims\.barrier_wait=$work/two-lines"

log "OK: ${#cases[@]} value sets linted and rendered, $checks checks passed"

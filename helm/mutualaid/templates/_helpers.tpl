{{/*
Shared helpers of the mutualaid chart.
*/}}

{{/* The four services, in the order they are rendered. */}}
{{- define "mutualaid.serviceNames" -}}
enrollment claims payout notification
{{- end -}}

{{- define "mutualaid.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-mutualaid", or the release name alone when it already contains the chart name. */}}
{{- define "mutualaid.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A service's resource name: dict "root" $ "name" "enrollment". Short enough for StatefulSet pod names (+ "-NN" + controller hash label). */}}
{{- define "mutualaid.componentName" -}}
{{- printf "%s-%s" (include "mutualaid.fullname" .root | trunc 40 | trimSuffix "-") .name -}}
{{- end -}}

{{- define "mutualaid.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every resource; dict "root" $ "name" <service or "">. */}}
{{- define "mutualaid.labels" -}}
helm.sh/chart: {{ include "mutualaid.chart" .root }}
{{ include "mutualaid.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: mutualaid
{{- end -}}

{{- define "mutualaid.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mutualaid.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}
{{- end -}}

{{/* The image of a service: dict "root" $ "svc" <services.X>. */}}
{{- define "mutualaid.image" -}}
{{- $img := .root.Values.image -}}
{{- $own := default dict .svc.image -}}
{{- $repo := default $img.repository $own.repository -}}
{{- $tag := default (default .root.Chart.AppVersion $img.tag) $own.tag -}}
{{- $digest := default $img.digest $own.digest -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end -}}
{{- end -}}

{{- define "mutualaid.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mutualaid.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Secret names. */}}
{{- define "mutualaid.tokensSecret" -}}
{{- default (printf "%s-tokens" (include "mutualaid.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}
{{- define "mutualaid.tokensKey" -}}
{{- if .Values.auth.existingSecret -}}{{ .Values.auth.existingSecretKey }}{{- else -}}tokens.conf{{- end -}}
{{- end -}}
{{- define "mutualaid.workerKeySecret" -}}
{{- if .Values.workerKey.existingSecret -}}
{{- .Values.workerKey.existingSecret -}}
{{- else if .Values.workerKey.value -}}
{{- printf "%s-worker-key" (include "mutualaid.fullname" .) -}}
{{- else -}}
{{- fail "workerKey: set workerKey.existingSecret (recommended) or workerKey.value" -}}
{{- end -}}
{{- end -}}
{{- define "mutualaid.workerKeyKey" -}}
{{- if .Values.workerKey.existingSecret -}}{{ .Values.workerKey.existingSecretKey }}{{- else -}}worker-key.secret{{- end -}}
{{- end -}}
{{- define "mutualaid.masterKeySecret" -}}
{{- if .Values.masterKey.existingSecret -}}
{{- .Values.masterKey.existingSecret -}}
{{- else if .Values.masterKey.value -}}
{{- printf "%s-master-key" (include "mutualaid.fullname" .) -}}
{{- else -}}
{{- fail "masterKey: set masterKey.existingSecret (recommended) or masterKey.value" -}}
{{- end -}}
{{- end -}}
{{- define "mutualaid.masterKeyKey" -}}
{{- if .Values.masterKey.existingSecret -}}{{ .Values.masterKey.existingSecretKey }}{{- else -}}master.key{{- end -}}
{{- end -}}
{{/* The gRPC TLS Secret of a service: dict "root" $ "svc" <services.X>. */}}
{{- define "mutualaid.tlsSecret" -}}
{{- $t := .root.Values.grpc.tls -}}
{{- if .svc.tlsSecret -}}
{{- .svc.tlsSecret -}}
{{- else if $t.existingSecret -}}
{{- $t.existingSecret -}}
{{- else -}}
{{- printf "%s-grpc-tls" (include "mutualaid.fullname" .root) -}}
{{- end -}}
{{- end -}}

{{/* The probe type actually used: grpc | tcp | exec. */}}
{{- define "mutualaid.probeType" -}}
{{- $t := .Values.probes.type -}}
{{- if eq $t "auto" -}}
{{- if .Values.grpc.tls.enabled -}}tcp{{- else -}}grpc{{- end -}}
{{- else if has $t (list "grpc" "tcp" "exec") -}}
{{- if and (eq $t "exec") (empty .Values.probes.exec.command) -}}
{{- fail "probes.type=exec needs probes.exec.command" -}}
{{- end -}}
{{- $t -}}
{{- else -}}
{{- fail (printf "probes.type: auto, grpc, tcp or exec, not %q" $t) -}}
{{- end -}}
{{- end -}}

{{/* One probe's action: dict "root" $ "kind" <startup|liveness|readiness>. */}}
{{- define "mutualaid.probe" -}}
{{- $type := include "mutualaid.probeType" .root -}}
{{- $p := index .root.Values.probes .kind -}}
{{- if eq $type "grpc" }}
grpc:
  port: {{ .root.Values.grpc.port }}
{{- else if eq $type "tcp" }}
tcpSocket:
  port: grpc
{{- else }}
exec:
  command:
    {{- toYaml .root.Values.probes.exec.command | nindent 4 }}
{{- end }}
periodSeconds: {{ $p.periodSeconds }}
failureThreshold: {{ $p.failureThreshold }}
timeoutSeconds: {{ $p.timeoutSeconds }}
{{- end -}}

{{/*
A config value as the config parser reads it back: numbers without exponent,
quotes around values whose spaces or quotes the parser would strip; no newlines.
*/}}
{{- define "mutualaid.confValue" -}}
{{- $v := . -}}
{{- if or (kindIs "float64" $v) (kindIs "float32" $v) -}}
{{- if eq (float64 $v) (floor $v) -}}{{ int64 $v }}{{- else -}}{{ $v }}{{- end -}}
{{- else if kindIs "string" $v -}}
{{- if or (contains "\n" $v) (contains "\r" $v) -}}
{{- fail (printf "config value %q: no newlines" $v) -}}
{{- end -}}
{{- if or (ne $v (trim $v)) (and (hasPrefix "\"" $v) (hasSuffix "\"" $v) (gt (len $v) 1)) -}}
"{{ $v }}"
{{- else -}}
{{ $v }}
{{- end -}}
{{- else if or (kindIs "map" $v) (kindIs "slice" $v) -}}
{{- fail (printf "config value %v: a string, number or boolean" $v) -}}
{{- else -}}
{{ $v }}
{{- end -}}
{{- end -}}

{{/* Keys the chart manages; not allowed in config / services.X.config. */}}
{{- define "mutualaid.reservedKeys" -}}
auth.tokens_file store.path store.block_cache_mb worker_key.secret_file crypto.master_key_file crypto.master_key clock clock.start replica metrics.listen sms.callback_listen
{{- end -}}

{{/*
The config file of a service: dict "root" $ "name" <service> "svc" <services.X>.
*/}}
{{- define "mutualaid.configFile" -}}
{{- $v := .root.Values -}}
{{- $name := .name -}}
{{- $svc := .svc -}}
{{- $reserved := splitList " " (include "mutualaid.reservedKeys" .) -}}
{{- $extra := dict -}}
{{- range $k, $val := (default dict $v.config) }}{{ $_ := set $extra $k $val }}{{ end -}}
{{- range $k, $val := (default dict $svc.config) }}{{ $_ := set $extra $k $val }}{{ end -}}
{{- range $k, $_ := $extra -}}
{{- if not (regexMatch "^[A-Za-z0-9_.-]+$" $k) -}}
{{- fail (printf "services.%s.config: key %q: only [A-Za-z0-9_.-]" $name $k) -}}
{{- end -}}
{{- if or (has $k $reserved) (hasPrefix "kafka." $k) (hasPrefix "grpc." $k) -}}
{{- fail (printf "config key %q is managed by the chart; set it through its own value (values.yaml)" $k) -}}
{{- end -}}
{{- end -}}
{{- $mount := $v.persistence.mountPath -}}
# The {{ $name }} service's config, rendered by the mutualaid Helm chart
# (release {{ .root.Release.Name }}). Format: libs/core config.h. Every key
# can be overridden by env MUTUALAID_<KEY>; `replica` comes from env
# MUTUALAID_REPLICA (the StatefulSet ordinal).

# Kafka
kafka.bootstrap = {{ include "mutualaid.confValue" $v.kafka.bootstrap }}
kafka.partitions = {{ include "mutualaid.confValue" $v.kafka.partitions }}
kafka.create_topics = {{ $v.kafka.createTopics }}
{{- if $v.kafka.topicPrefix }}
kafka.topic_prefix = {{ include "mutualaid.confValue" $v.kafka.topicPrefix }}
{{- end }}
{{- $tls := $v.kafka.tls -}}
{{- $sasl := $v.kafka.sasl -}}
{{- if or $tls.enabled $sasl.enabled }}
# librdkafka client properties (NOT read by the services yet: chart README, "Gaps")
kafka.property.security.protocol = {{ if $sasl.enabled }}SASL_{{ else }}{{ end }}{{ if $tls.enabled }}SSL{{ else }}PLAINTEXT{{ end }}
{{- if and $tls.enabled $tls.caSecret.name }}
kafka.property.ssl.ca.location = /etc/mutualaid/kafka-ca/{{ $tls.caSecret.key }}
{{- end }}
{{- if and $tls.enabled $tls.clientCertSecret.name }}
kafka.property.ssl.certificate.location = /etc/mutualaid/kafka-client/{{ $tls.clientCertSecret.certKey }}
kafka.property.ssl.key.location = /etc/mutualaid/kafka-client/{{ $tls.clientCertSecret.keyKey }}
{{- end }}
{{- if $sasl.enabled }}
{{- if not $sasl.username }}{{ fail "kafka.sasl.username is required when kafka.sasl.enabled" }}{{ end }}
{{- if not $sasl.passwordSecret.name }}{{ fail "kafka.sasl.passwordSecret.name is required when kafka.sasl.enabled" }}{{ end }}
kafka.property.sasl.mechanism = {{ $sasl.mechanism }}
kafka.property.sasl.username = {{ include "mutualaid.confValue" $sasl.username }}
kafka.sasl.password_file = /etc/mutualaid/kafka-sasl/{{ $sasl.passwordSecret.key }}
{{- end }}
{{- end }}
{{- range $k, $val := $v.kafka.properties }}
{{- if not (regexMatch "^[A-Za-z0-9_.-]+$" $k) }}{{ fail (printf "kafka.properties: key %q: only [A-Za-z0-9_.-]" $k) }}{{ end }}
kafka.property.{{ $k }} = {{ include "mutualaid.confValue" $val }}
{{- end }}

# gRPC (and grpc.health.v1)
grpc.listen = 0.0.0.0:{{ $v.grpc.port }}
{{- if $v.grpc.tls.enabled }}
grpc.tls_cert = /etc/mutualaid/tls/tls.crt
grpc.tls_key = /etc/mutualaid/tls/tls.key
{{- if $v.grpc.tls.clientAuth }}
grpc.tls_client_ca = /etc/mutualaid/tls/ca.crt
{{- end }}
{{- end }}
{{- if $v.metrics.enabled }}

# Prometheus metrics (HTTP, {{ $v.metrics.path }})
metrics.listen = 0.0.0.0:{{ $v.metrics.port }}
{{- end }}

# Secrets (mounted files)
auth.tokens_file = /etc/mutualaid/auth/tokens.conf
worker_key.secret_file = /etc/mutualaid/worker-key/worker-key.secret
crypto.master_key_file = /etc/mutualaid/master-key/master.key

# State
store.path = {{ $mount }}/store
store.block_cache_mb = {{ include "mutualaid.confValue" $v.store.blockCacheMb }}

# Clock
{{- if not (has $v.clock.mode (list "system" "simulated")) }}{{ fail "clock.mode: system or simulated" }}{{ end }}
clock = {{ $v.clock.mode }}
{{- if eq $v.clock.mode "simulated" }}
clock.start = {{ include "mutualaid.confValue" $v.clock.start }}
{{- end }}
{{- if and (eq $name "notification") $svc.smsCallback $svc.smsCallback.enabled }}

# SMS delivery reports
sms.callback_listen = 0.0.0.0:{{ $svc.smsCallback.port }}
{{- end }}
{{- if $extra }}

# {{ $name }}
{{- range $k := keys $extra | sortAlpha }}
{{ $k }} = {{ include "mutualaid.confValue" (get $extra $k) }}
{{- end }}
{{- end }}
{{ end -}}

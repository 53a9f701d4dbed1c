{{/*
Names and labels shared by every template.
*/}}

{{- define "audioproc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, at most 63 characters (DNS label); the release name alone when it
already contains the chart name.
*/}}
{{- define "audioproc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "audioproc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Standard labels (app.kubernetes.io/*, helm.sh/chart) of the server's objects.
*/}}
{{- define "audioproc.labels" -}}
{{ include "audioproc.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Labels without the component, for objects of another component (the test hook).
*/}}
{{- define "audioproc.commonLabels" -}}
helm.sh/chart: {{ include "audioproc.chart" . }}
app.kubernetes.io/name: {{ include "audioproc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: audioproc
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
*/}}
{{- define "audioproc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "audioproc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{- define "audioproc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "audioproc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "audioproc.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The port the kubelet's gRPC probes use: the plaintext health port when TLS is on (probes
carry no client certificate), otherwise the gRPC port, which serves health too.
*/}}
{{- define "audioproc.grpcAppProtocol" -}}
{{- if not (kindIs "invalid" .Values.service.grpcAppProtocol) }}{{ .Values.service.grpcAppProtocol }}
{{- else if not .Values.tls.enabled }}kubernetes.io/h2c
{{- end }}
{{- end }}

{{/*
The job label of scraped series: what the ServiceMonitor relabels to and the rules select.
*/}}
{{- define "audioproc.jobLabel" -}}
{{- .Values.metrics.serviceMonitor.jobLabel | default "audioproc" }}
{{- end }}

{{- define "audioproc.probePort" -}}
{{- if .Values.tls.enabled }}{{ .Values.ports.health }}{{ else }}{{ .Values.ports.grpc }}{{ end }}
{{- end }}

{{/*
Seconds the pod gets from its deletion to SIGKILL (the preStop sleep counts against it): more
than the preStop sleep and the server's drain together, always.
*/}}
{{- define "audioproc.terminationGracePeriodSeconds" -}}
{{- $drain := int64 .Values.server.drainSeconds }}
{{- $preStop := int64 .Values.lifecycle.preStopSleepSeconds }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $preStop $drain (int64 .Values.terminationGraceMarginSeconds) }}
{{- else }}
{{- $grace := int64 .Values.terminationGracePeriodSeconds }}
{{- if le $grace (add $preStop $drain) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be more than lifecycle.preStopSleepSeconds + server.drainSeconds (%d + %d): the kubelet would kill streams that the drain lets finish" $grace $preStop $drain) }}
{{- end }}
{{- $grace }}
{{- end }}
{{- end }}

{{/*
A flag value as the server reads it from the environment: integers without exponent (YAML
numbers arrive as float64, which would otherwise print as 3.4603008e+07), booleans as
true/false, strings as they are.
*/}}
{{- define "audioproc.flagValue" -}}
{{- if kindIs "float64" . }}
{{- if eq (float64 (int64 .)) . }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/*
Checks of combinations the schema cannot express. Included once, from the Deployment.
*/}}
{{- define "audioproc.validate" -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName: a Secret with the certificate, key and (for tls.mutual) the client CA" }}
{{- end }}
{{- if and .Values.tls.mutual (not .Values.tls.enabled) }}
{{- fail "tls.mutual needs tls.enabled" }}
{{- end }}
{{- if and .Values.tls.mutual (not .Values.tls.caKey) }}
{{- fail "tls.mutual needs tls.caKey: the key of tls.secretName holding the CA that signs client certificates" }}
{{- end }}
{{- if and .Values.grpcRoute.enabled (not .Values.grpcRoute.parentRefs) }}
{{- fail "grpcRoute.enabled needs grpcRoute.parentRefs: the Gateway to attach to" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.enabled needs ingress.hosts" }}
{{- end }}
{{- if and .Values.auth.enabled (not .Values.auth.secretName) }}
{{- fail "auth.enabled needs auth.secretName: a Secret holding the bearer tokens file" }}
{{- end }}
{{- if and .Values.resume.enabled (not .Values.resume.secretName) }}
{{- fail "resume.enabled needs resume.secretName: a Secret holding the resume key" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int64 .Values.autoscaling.minReplicas) (int64 .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (eq .Values.autoscaling.scaleOn "cpu") (not (dig "requests" "cpu" "" .Values.resources)) }}
{{- fail "autoscaling on CPU needs resources.requests.cpu (utilization is a share of the request)" }}
{{- end }}
{{- $budget := .Values.autoscaling.budget }}
{{- if and .Values.autoscaling.enabled (eq .Values.autoscaling.scaleOn "budget") (kindIs "invalid" $budget.targetCPUPercentage) (kindIs "invalid" $budget.targetMemoryPercentage) }}
{{- fail "autoscaling.scaleOn=budget needs autoscaling.budget.targetCPUPercentage, targetMemoryPercentage or both" }}
{{- end }}
{{- /* The budgets' defaults come from the container's cgroup limits (75% of memory, 85% of
CPU); without a limit the server would budget 1 GiB, or 85% of the node's cores. */}}
{{- if and (kindIs "invalid" .Values.server.memoryBudgetBytes) (not (dig "limits" "memory" "" .Values.resources)) }}
{{- fail "server.memoryBudgetBytes is null (75% of the memory limit) but resources.limits.memory is unset: set the limit, or server.memoryBudgetBytes" }}
{{- end }}
{{- if and (kindIs "invalid" .Values.server.cpuBudget) (not (dig "limits" "cpu" "" .Values.resources)) }}
{{- fail "server.cpuBudget is null (85% of the CPU limit) but resources.limits.cpu is unset, so the server would admit streams for 85% of the node's cores: set the limit, or server.cpuBudget" }}
{{- end }}
{{- /* The server refuses to start unless the memory budget leaves 16 MiB beyond gRPC's
transport share (service/server_options.cc); checked here when the budget is explicit. */}}
{{- with .Values.server.memoryBudgetBytes }}
{{- $budget := int64 . }}
{{- $quota := int64 (default 0 $.Values.server.resourceQuotaBytes) }}
{{- if not $quota }}{{ $quota = max (div $budget 8) (mul 2 (int64 $.Values.server.maxMessageBytes)) | int64 }}{{ end }}
{{- if lt (sub $budget $quota) 16777216 }}
{{- fail (printf "server.memoryBudgetBytes (%d) must leave at least 16 MiB for streams and files beyond gRPC's transport share (%d: server.resourceQuotaBytes, by default max(budget/8, 2 x server.maxMessageBytes)); the server would refuse to start" $budget $quota) }}
{{- end }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if and $pdb.enabled (eq (kindIs "invalid" $pdb.maxUnavailable) (kindIs "invalid" $pdb.minAvailable)) }}
{{- fail "podDisruptionBudget: set exactly one of maxUnavailable and minAvailable" }}
{{- end }}
{{- $ports := list (int64 .Values.ports.grpc) (int64 .Values.ports.metrics) }}
{{- if .Values.tls.enabled }}{{ $ports = append $ports (int64 .Values.ports.health) }}{{ end }}
{{- if ne (len $ports) (len (uniq $ports)) }}
{{- fail "ports.grpc, ports.metrics and (with TLS) ports.health must differ" }}
{{- end }}
{{- end }}

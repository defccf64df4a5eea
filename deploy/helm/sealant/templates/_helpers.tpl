{{/* The name of every object: sealed-secrets-controller unless overridden. */}}
{{- define "sealant.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if .Values.nameOverride -}}
{{- printf "%s-%s" .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
sealed-secrets-controller
{{- end -}}
{{- end -}}

{{- define "sealant.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sealant.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sealant.selectorLabels" -}}
app.kubernetes.io/name: sealant
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sealant.labels" -}}
{{ include "sealant.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "sealant.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Namespaces watched when not all: the release's and the additional ones. */}}
{{- define "sealant.watchedNamespaces" -}}
{{- $namespaces := list .Release.Namespace -}}
{{- range .Values.controller.additionalNamespaces -}}
{{- $namespaces = append $namespaces . -}}
{{- end -}}
{{- $namespaces | uniq | join "," -}}
{{- end -}}

{{- define "sealant.clusterWide" -}}
{{- if and .Values.controller.allNamespaces (empty .Values.controller.additionalNamespaces) -}}true{{- end -}}
{{- end -}}

{{/*
Controller arguments: each non-null value of .Values.controller as --flag=value, flag names
being the value names in kebab case (keyRenewPeriod -> --key-renew-period).
*/}}
{{- define "sealant.args" -}}
{{- $c := .Values.controller -}}
{{- $skip := list "extraArgs" "additionalNamespaces" "privatekeyAnnotations" "privatekeyLabels" -}}
{{- range $name := keys $c | sortAlpha -}}
{{- $value := index $c $name -}}
{{- /* Helm reads YAML numbers as float64: print whole ones as integers (1048576, not 1.048576e+06). */ -}}
{{- if and (kindIs "float64" $value) (eq $value (float64 (int64 $value))) -}}
{{- $value = int64 $value -}}
{{- end -}}
{{- if and (not (has $name $skip)) (not (kindIs "invalid" $value)) }}
- {{ printf "--%s=%v" (kebabcase $name) $value | quote }}
{{- end -}}
{{- end -}}
{{- with $c.additionalNamespaces }}
- {{ printf "--additional-namespaces=%s" (join "," .) | quote }}
{{- end -}}
{{- range $flag, $map := dict "privatekey-annotations" $c.privatekeyAnnotations "privatekey-labels" $c.privatekeyLabels -}}
{{- if $map -}}
{{- $pairs := list -}}
{{- range $k := keys $map | sortAlpha -}}
{{- $pairs = append $pairs (printf "%s=%v" $k (index $map $k)) -}}
{{- end }}
- {{ printf "--%s=%s" $flag (join "," $pairs) | quote }}
{{- end -}}
{{- end -}}
{{- range $c.extraArgs }}
- {{ . | quote }}
{{- end -}}
{{- end -}}

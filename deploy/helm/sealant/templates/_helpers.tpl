{{/* The name of every object: sealed-secrets-controller unless overridden (with nameOverride,
upstream's rule: the release name, suffixed with the name unless it contains it). */}}
{{- define "sealant.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if .Values.nameOverride -}}
{{- if contains .Values.nameOverride .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- else -}}
sealed-secrets-controller
{{- end -}}
{{- end -}}

{{- define "sealant.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{- define "sealant.kubeVersion" -}}
{{- default .Capabilities.KubeVersion.Version .Values.kubeVersion -}}
{{- end -}}

{{- define "sealant.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sealant.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Upstream's chart's selector labels, so that `helm upgrade` of an upstream release keeps
the Deployment's (immutable) selector: docs/migration.md. */}}
{{- define "sealant.selectorLabels" -}}
app.kubernetes.io/name: {{ default "sealed-secrets" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sealant.labels" -}}
{{ include "sealant.selectorLabels" . }}
app.kubernetes.io/part-of: sealant
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end -}}
{{- end -}}

{{/* metadata.annotations from commonAnnotations and the object's own (dict "root" $ "extra"
map), or nothing; already indented for metadata, so included as `{{- include ... }}`. */}}
{{- define "sealant.annotations" -}}
{{- $all := merge (deepCopy (.extra | default dict)) (deepCopy (.root.Values.commonAnnotations | default dict)) -}}
{{- with $all }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end -}}
{{- end -}}

{{- define "sealant.image" -}}
{{- $repository := .Values.image.repository -}}
{{- with .Values.image.registry -}}
{{- $repository = printf "%s/%s" . $repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if and .Values.image.variant (not (hasSuffix (printf "-%s" .Values.image.variant) $tag)) -}}
{{- $tag = printf "%s-%s" $tag .Values.image.variant -}}
{{- end -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
Upstream's top-level controller settings as controller.* values: sealant's name wins when set
(not null), else upstream's when set (not null, "", an empty list or map, or a false boolean:
upstream's chart adds those flags only when true).
*/}}
{{- define "sealant.controller" -}}
{{- $c := deepCopy .Values.controller -}}
{{- $aliases := dict
  "secretName" "keyPrefix" "updateStatus" "updateStatus" "skipRecreate" "skipRecreate"
  "keyrenewperiod" "keyRenewPeriod" "keyttl" "keyTtl" "keycutofftime" "keyCutoffTime"
  "rateLimit" "rateLimit" "rateLimitBurst" "rateLimitBurst"
  "additionalNamespaces" "additionalNamespaces"
  "privateKeyAnnotations" "privatekeyAnnotations" "privateKeyLabels" "privatekeyLabels"
  "logInfoStdout" "logInfoStdout" "logLevel" "logLevel" "logFormat" "logFormat"
  "maxRetries" "maxUnsealRetries" "watchForSecrets" "watchForSecrets"
  "kubeClientQPS" "kubeclientQps" "kubeClientBurst" "kubeclientBurst" -}}
{{- range $upstream, $ours := $aliases -}}
{{- $value := index $.Values $upstream -}}
{{- $current := index $c $ours -}}
{{- $unset := or (kindIs "invalid" $current) (and (or (kindIs "slice" $current) (kindIs "map" $current)) (empty $current)) -}}
{{- $given := and (not (kindIs "invalid" $value)) (or (kindIs "bool" $value) (ne (toString $value) "")) (not (and (or (kindIs "slice" $value) (kindIs "map" $value)) (empty $value))) (not (and (kindIs "bool" $value) (not $value))) -}}
{{- if and $unset $given -}}
{{- $_ := set $c $ours $value -}}
{{- end -}}
{{- end -}}
{{- toJson $c -}}
{{- end -}}

{{- define "sealant.keyPrefix" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- default "sealed-secrets-key" $c.keyPrefix -}}
{{- end -}}

{{/* Namespaces watched when not all: the release's and the additional ones. */}}
{{- define "sealant.watchedNamespaces" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- $namespaces := list (include "sealant.namespace" .) -}}
{{- range $c.additionalNamespaces -}}
{{- $namespaces = append $namespaces . -}}
{{- end -}}
{{- $namespaces | uniq | join "," -}}
{{- end -}}

{{- define "sealant.clusterWide" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- if and $c.allNamespaces (empty $c.additionalNamespaces) -}}true{{- end -}}
{{- end -}}

{{/*
Controller arguments: each non-null controller value (sealant.controller) as --flag=value,
flag names being the value names in kebab case (keyRenewPeriod -> --key-renew-period).
*/}}
{{- define "sealant.args" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- $skip := list "extraArgs" "additionalNamespaces" "privatekeyAnnotations" "privatekeyLabels" "tenantKeys" -}}
{{- range $name := keys $c | sortAlpha -}}
{{- $value := index $c $name -}}
{{- /* JSON (and YAML) numbers are float64 here: print whole ones as integers (1048576, not 1.048576e+06). */ -}}
{{- if and (kindIs "float64" $value) (eq $value (float64 (int64 $value))) -}}
{{- $value = int64 $value -}}
{{- end -}}
{{- if and (not (has $name $skip)) (not (kindIs "invalid" $value)) (ne (toString $value) "") }}
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

{{/* A probe: custom (replaces it), or the values' probe without `enabled`; nothing when off. */}}
{{- define "sealant.probe" -}}
{{- if .custom -}}
{{- toYaml .custom -}}
{{- else if and .probe (ne (toString .probe.enabled) "false") -}}
{{- toYaml (omit .probe "enabled") -}}
{{- end -}}
{{- end -}}

{{/* rbac.serviceProxier as {create, bind}: true/false (sealant's form) or upstream's map. */}}
{{- define "sealant.serviceProxier" -}}
{{- $p := .Values.rbac.serviceProxier -}}
{{- if kindIs "bool" $p -}}
{{- toJson (dict "create" $p "bind" $p) -}}
{{- else -}}
{{- toJson (dict "create" (ne (toString $p.create) "false") "bind" (ne (toString $p.bind) "false")) -}}
{{- end -}}
{{- end -}}

{{/* The PodDisruptionBudget's state: "on", "off" (docs/helm-values.md, "Footguns"). */}}
{{- define "sealant.pdb" -}}
{{- $explicit := .Values.pdb.enabled -}}
{{- if kindIs "invalid" $explicit -}}{{- $explicit = .Values.pdb.create -}}{{- end -}}
{{- if kindIs "invalid" $explicit -}}
{{- ternary "on" "off" (and .Values.createController (gt (int .Values.replicaCount) 1)) -}}
{{- else -}}
{{- ternary "on" "off" (and .Values.createController $explicit) -}}
{{- end -}}
{{- end -}}

{{/* Refusals at render time: values that cannot work (docs/helm-values.md). */}}
{{- define "sealant.validate" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- $repository := .Values.image.repository -}}
{{- if and (hasPrefix "example.invalid/" $repository) (not .Values.image.allowPlaceholder) -}}
{{- fail (printf "image.repository is the placeholder %q, which no registry serves: build and push the controller image (README.md, \"Install\") and set image.repository (and image.tag), or set image.allowPlaceholder=true to render anyway" $repository) -}}
{{- end -}}
{{- if and (eq .Values.keyProtection.provider "pkcs11") (ne .Values.image.variant "pkcs11") (not .Values.image.digest) -}}
{{- fail "keyProtection.provider=pkcs11 loads the HSM vendor's shared library, which the default static image cannot: set image.variant=pkcs11 (the dynamically linked image, deploy/image/Dockerfile.pkcs11)" -}}
{{- end -}}
{{- if hasSuffix "sealed-secrets-controller" $repository -}}
{{- fail (printf "image.repository %q is upstream's controller image, which does not take sealant-controller's flags: set image.registry/image.repository/image.tag to your sealant-controller image" (include "sealant.image" .)) -}}
{{- end -}}
{{- if and .Values.createController (gt (int .Values.replicaCount) 1) (eq (toString $c.leaderElect) "false") (empty .Values.args) -}}
{{- fail (printf "replicaCount=%v needs leader election (controller.leaderElect=true): without it every replica would reconcile and create keys" .Values.replicaCount) -}}
{{- end -}}
{{- if eq (include "sealant.pdb" .) "on" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- $maxUnavailable := .Values.pdb.maxUnavailable -}}
{{- if ne (toString $maxUnavailable) "" -}}
{{- if or (eq (toString $maxUnavailable) "0") (eq (toString $maxUnavailable) "0%") -}}
{{- fail "pdb.maxUnavailable=0 blocks every node drain: raise it, or set pdb.enabled=false" -}}
{{- end -}}
{{- else -}}
{{- $min := .Values.pdb.minAvailable -}}
{{- if or (eq (toString $min) "100%") (and (not (kindIs "string" $min)) (ge (int $min) $replicas)) -}}
{{- fail (printf "pdb.minAvailable=%v with replicaCount=%d blocks every node drain (no pod may ever be evicted): raise replicaCount, lower pdb.minAvailable, set pdb.maxUnavailable, or set pdb.enabled=false" $min $replicas) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .Values.rbac.pspEnabled -}}
{{- fail "rbac.pspEnabled=true: PodSecurityPolicy was removed in Kubernetes 1.25 and sealant's chart renders none; the pod is non-root and read-only, which Pod Security admission's \"restricted\" level accepts. Set rbac.pspEnabled=false" -}}
{{- end -}}
{{- if and .Values.ingress.enabled .Values.ingress.apiVersion (not (has .Values.ingress.apiVersion (list "networking.k8s.io/v1"))) -}}
{{- fail (printf "ingress.apiVersion=%s: sealant's chart renders networking.k8s.io/v1 Ingresses only (Kubernetes 1.19 and later)" .Values.ingress.apiVersion) -}}
{{- end -}}
{{- include "sealant.validateUpstreamNames" . -}}
{{- end -}}

{{/* `helm upgrade` of a release installed by upstream's chart: its objects keep their names
only when this chart computes the same fullname. A rename would give clients (kubeseal,
sealant --controller-name) another Service and replace the Deployment instead of rolling it,
so it is refused unless fullnameOverride says which name to use (docs/migration.md, path B).
Only a real upgrade can tell: `lookup` finds nothing under `helm template`. */}}
{{- define "sealant.validateUpstreamNames" -}}
{{- if and .Release.IsUpgrade (not .Values.fullnameOverride) -}}
{{- $ours := include "sealant.fullname" . -}}
{{- $theirs := list -}}
{{- range (dig "items" list (lookup "v1" "Service" (include "sealant.namespace" .) "")) -}}
{{- if and (hasPrefix "sealed-secrets-" (dig "metadata" "labels" "helm.sh/chart" "" .)) (eq (dig "metadata" "annotations" "meta.helm.sh/release-name" "" .) $.Release.Name) -}}
{{- $theirs = append $theirs .metadata.name -}}
{{- end -}}
{{- end -}}
{{- if and $theirs (not (has $ours $theirs)) -}}
{{- $old := first (sortAlpha $theirs) -}}
{{- fail (printf "release %s was installed by upstream's sealed-secrets chart, whose objects are named %q; sealant's chart would name them %q (a new Service name for kubeseal and sealant, a new Deployment): set fullnameOverride=%s to keep the names, or fullnameOverride=%s to rename them on purpose (docs/migration.md, path B)" .Release.Name $old $ours $old $ours) -}}
{{- end -}}
{{- end -}}
{{- end -}}

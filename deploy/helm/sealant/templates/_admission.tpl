{{/* The admission webhook (docs/admission.md), with admission.enabled only: names, the
controller's flags and its container port. Used by admission.yaml, admission-rbac.yaml and
deployment.yaml. */}}

{{- define "sealant.admission.name" -}}
{{- printf "%s-admission" (include "sealant.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret holding the serving certificate: the controller's, or cert-manager's. */}}
{{- define "sealant.admission.tlsSecret" -}}
{{- printf "%s-admission-tls" (include "sealant.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealant.admission.args" -}}
{{- $a := .Values.admission -}}
{{- if $a.enabled -}}
{{- $name := include "sealant.admission.name" . -}}
{{- $namespace := include "sealant.namespace" . }}
- {{ printf "--admission-listen-addr=:%v" $a.port | quote }}
- {{ printf "--admission-controller-user=system:serviceaccount:%s:%s" $namespace (include "sealant.serviceAccountName" .) | quote }}
{{- if $a.certManager.enabled }}
- {{ printf "--admission-cert-secret=%s" (include "sealant.admission.tlsSecret" .) | quote }}
{{- else }}
- {{ printf "--admission-webhook-config=%s" $name | quote }}
- {{ printf "--admission-tls-secret=%s" (include "sealant.admission.tlsSecret" .) | quote }}
- {{ printf "--admission-cert-hosts=%s.%s.svc,%s.%s.svc.cluster.local" $name $namespace $name $namespace | quote }}
{{- end }}
{{- with $a.plaintextGuard.exemptUsers }}
- {{ printf "--plaintext-guard-exempt-users=%s" (join "," .) | quote }}
{{- end }}
- {{ printf "--plaintext-guard-exempt-types=%s" (join "," $a.plaintextGuard.exemptTypes) | quote }}
{{- with $a.plaintextGuard.exemptOwnerKinds }}
- {{ printf "--plaintext-guard-exempt-owners=%s" (join "," .) | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "sealant.admission.port" -}}
{{- if .Values.admission.enabled }}
- name: admission
  containerPort: {{ .Values.admission.port }}
  protocol: TCP
{{- end -}}
{{- end -}}

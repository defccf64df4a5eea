{{- /* Tenant keys (docs/multi-tenancy.md, "Tenant keys"): the controller flags from
controller.tenantKeys. Nothing unless enabled; the label and the migration switch without
enabled are refused, as they would silently do nothing. The Namespace read rights are in
templates/namespace-selector-rbac.yaml. */}}
{{- define "sealant.tenantKeys.enabled" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- if dig "tenantKeys" "enabled" false $c -}}true{{- end -}}
{{- end -}}

{{- define "sealant.tenantKeys.args" -}}
{{- $c := include "sealant.controller" . | fromJson -}}
{{- $t := $c.tenantKeys | default dict -}}
{{- $label := $t.label | default "" -}}
{{- $allow := $t.allowClusterKey | default list -}}
{{- if $t.enabled }}
- "--tenant-keys"
{{- if and $label (ne $label "sealant.dev/tenant") }}
- {{ printf "--tenant-label=%s" $label | quote }}
{{- end }}
{{- with $allow }}
- {{ printf "--tenant-allow-cluster-key=%s" (join "," .) | quote }}
{{- end }}
{{- else if $allow -}}
{{- fail "controller.tenantKeys.allowClusterKey is set but controller.tenantKeys.enabled is false: the migration switch only applies to tenant keys (docs/multi-tenancy.md, \"Tenant keys\")" -}}
{{- end -}}
{{- end -}}

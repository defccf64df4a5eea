{{- /*
Key escrow (docs/recovery.md, "Automatic escrow"): every new key is encrypted to escrow.recipients
(and escrow.groups with escrow.threshold) into a ConfigMap before it is used. A recipients file
from a ConfigMap (escrow.recipientsConfigMap) is mounted at /etc/sealant/escrow.
*/}}
{{- define "sealant.escrow.enabled" -}}
{{- $e := .Values.escrow | default dict -}}
{{- if or $e.recipients $e.groups $e.recipientsConfigMap }}true{{ end -}}
{{- end -}}

{{- define "sealant.escrow.args" -}}
{{- $e := .Values.escrow | default dict -}}
{{- range $e.recipients }}
- {{ printf "--escrow-recipient=%s" . | quote }}
{{- end }}
{{- range $e.groups }}
- {{ printf "--escrow-group=%s" . | quote }}
{{- end }}
{{- with $e.recipientsConfigMap }}
- "--escrow-recipients-file=/etc/sealant/escrow/recipients.txt"
{{- end }}
{{- with $e.threshold }}
- {{ printf "--escrow-threshold=%v" . | quote }}
{{- end }}
{{- end -}}

{{- define "sealant.escrow.volume" -}}
{{- with (.Values.escrow | default dict).recipientsConfigMap }}
- name: escrow-recipients
  configMap:
    name: {{ . | quote }}
    items:
      - key: recipients.txt
        path: recipients.txt
{{- end }}
{{- end -}}

{{- define "sealant.escrow.volumeMount" -}}
{{- with (.Values.escrow | default dict).recipientsConfigMap }}
- name: escrow-recipients
  mountPath: /etc/sealant/escrow
  readOnly: true
{{- end }}
{{- end -}}

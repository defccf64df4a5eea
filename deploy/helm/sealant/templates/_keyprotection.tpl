{{/*
Key protection (docs/key-protection.md): the controller's flags and environment from
.Values.keyProtection. The PIN and AWS credentials come from Secrets as environment variables,
never from values.
*/}}
{{- define "sealant.keyProtection.args" -}}
{{- $kp := .Values.keyProtection | default dict }}
{{- $provider := $kp.provider | default "none" }}
{{- if eq $provider "pkcs11" }}
{{- $p := $kp.pkcs11 | default dict }}
- "--key-protection=pkcs11"
- {{ printf "--pkcs11-module=%s" (required "keyProtection.pkcs11.module is required" $p.module) | quote }}
- {{ printf "--pkcs11-token-label=%s" (required "keyProtection.pkcs11.tokenLabel is required" $p.tokenLabel) | quote }}
- {{ printf "--pkcs11-kek-label=%s" (required "keyProtection.pkcs11.kekLabel is required" $p.kekLabel) | quote }}
{{- else if eq $provider "aws-kms" }}
{{- $a := $kp.awsKms | default dict }}
- "--key-protection=aws-kms"
- {{ printf "--aws-kms-region=%s" (required "keyProtection.awsKms.region is required" $a.region) | quote }}
- {{ printf "--aws-kms-key-id=%s" (required "keyProtection.awsKms.keyId is required" $a.keyId) | quote }}
{{- with $a.endpoint }}
- {{ printf "--aws-kms-endpoint=%s" . | quote }}
{{- end }}
{{- else if ne $provider "none" }}
{{- fail (printf "keyProtection.provider: %q is not none, pkcs11 or aws-kms" $provider) }}
{{- end }}
{{- end }}

{{- define "sealant.keyProtection.env" -}}
{{- $kp := .Values.keyProtection | default dict }}
{{- $provider := $kp.provider | default "none" }}
{{- if eq $provider "pkcs11" }}
{{- $s := ($kp.pkcs11 | default dict).pinSecret | default dict }}
- name: SEALANT_PKCS11_PIN
  valueFrom:
    secretKeyRef:
      name: {{ required "keyProtection.pkcs11.pinSecret.name is required" $s.name | quote }}
      key: {{ $s.key | default "pin" | quote }}
{{- else if eq $provider "aws-kms" }}
{{- with ($kp.awsKms | default dict).credentialsSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .accessKeyIdKey | default "AWS_ACCESS_KEY_ID" | quote }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .secretAccessKeyKey | default "AWS_SECRET_ACCESS_KEY" | quote }}
{{- end }}
{{- end }}
{{- end }}

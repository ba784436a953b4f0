{{- define "helm-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The operator never injects its own pods: it recognises them by this name label. */}}
{{- define "helm-operator.selectorLabels" -}}
app.kubernetes.io/name: helm-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "helm-operator.labels" -}}
{{ include "helm-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: helm
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "helm-operator.collectorName" -}}{{ include "helm-operator.fullname" . }}-collector{{- end -}}
{{- define "helm-operator.webhookService" -}}{{ include "helm-operator.fullname" . }}-webhook{{- end -}}
{{- define "helm-operator.tlsSecret" -}}{{ include "helm-operator.fullname" . }}-webhook-tls{{- end -}}
{{- define "helm-operator.certDir" -}}/var/run/helm-operator/webhook-tls{{- end -}}
{{- define "helm-operator.failurePolicy" -}}{{ if .Values.failClosed }}Fail{{ else }}Ignore{{ end }}{{- end -}}

{{/* Never sent to the webhooks: the operator's namespace (it must start while the webhook is
down) and the control plane's. */}}
{{- define "helm-operator.namespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: [{{ .Release.Namespace | quote }}, "kube-system", "kube-public", "kube-node-lease"]
{{- with .Values.webhook.namespaceSelector.matchExpressions }}
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.webhook.namespaceSelector.matchLabels }}
matchLabels:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/* In self-managed mode the operator patches caBundle at run time; an upgrade must not blank
it, so the value currently in the cluster is carried over (empty under `helm template`). */}}
{{- define "helm-operator.existingCaBundle" -}}
{{- $obj := lookup "admissionregistration.k8s.io/v1" .kind "" .name -}}
{{- if $obj -}}
{{- range $obj.webhooks -}}
{{- if and (eq .name $.webhook) .clientConfig .clientConfig.caBundle -}}{{ .clientConfig.caBundle }}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "helm-operator.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "helm-operator.webhookService" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
{{- if not .root.Values.certManager.enabled }}
{{- $ca := include "helm-operator.existingCaBundle" (dict "kind" .kind "name" (include "helm-operator.fullname" .root) "webhook" .webhook) }}
{{- if $ca }}
  caBundle: {{ $ca }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "helm-operator.certifyRootSecret" -}}{{ .Values.certification.rootKeySecret | default (printf "%s-certify-root" (include "helm-operator.fullname" .)) }}{{- end -}}
{{- define "helm-operator.certifyDir" -}}/etc/helm/certify{{- end -}}

{{/* CEL: the metadata at path opts in (annotation or label helm.mindburn.org/inject: "true").
Map keys are tested with `in` first: indexing a missing key is an error, and an erroring
matchCondition fails the request under failurePolicy Fail. */}}
{{- define "helm-operator.optIn" -}}
(has({{ . }}.annotations) && 'helm.mindburn.org/inject' in {{ . }}.annotations && {{ . }}.annotations['helm.mindburn.org/inject'] == 'true') || (has({{ . }}.labels) && 'helm.mindburn.org/inject' in {{ . }}.labels && {{ . }}.labels['helm.mindburn.org/inject'] == 'true')
{{- end -}}

{{/* Pods: their own metadata. Workloads: their own metadata, their pod template's, or (CronJob)
the job template's pod template's. */}}
{{- define "helm-operator.podOptIn" -}}
{{ include "helm-operator.optIn" "object.metadata" }}
{{- end -}}
{{- define "helm-operator.workloadOptIn" -}}
({{ include "helm-operator.optIn" "object.metadata" }}) || (has(object.spec) && has(object.spec.template) && has(object.spec.template.metadata) && ({{ include "helm-operator.optIn" "object.spec.template.metadata" }})) || (has(object.spec) && has(object.spec.jobTemplate) && has(object.spec.jobTemplate.spec) && has(object.spec.jobTemplate.spec.template) && has(object.spec.jobTemplate.spec.template.metadata) && ({{ include "helm-operator.optIn" "object.spec.jobTemplate.spec.template.metadata" }}))
{{- end -}}

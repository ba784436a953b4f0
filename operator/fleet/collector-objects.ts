// The collector's Deployment and Service as the operator applies them (server-side apply). Every
// replica campaigns for the Lease named like the Deployment; only the holder is Ready and answers
// add-checkpoint, so the Service routes to the one active instance (collector/active.ts).
import { LABEL_MANAGED_BY, MANAGED_BY } from '../api/v1alpha1.js';
import type { KObject } from '../runtime/kube.js';
import type { CollectorSettings } from './collector-settings.js';

export const COLLECTOR_KEYS_DIR = '/etc/helm/collector';

export function collectorLabels(s: CollectorSettings): Record<string, string> {
  return { 'app.kubernetes.io/name': 'helm-collector', 'app.kubernetes.io/instance': s.name, [LABEL_MANAGED_BY]: MANAGED_BY };
}

const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

export function collectorDeployment(s: CollectorSettings): KObject {
  const labels = collectorLabels(s);
  const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name']!, 'app.kubernetes.io/instance': s.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: s.name, namespace: s.namespace, labels },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: s.serviceAccount,
          automountServiceAccountToken: true,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'collector',
              image: s.image,
              command: ['node', '/app/dist/collector/main.js'],
              ports: [{ name: 'collector', containerPort: s.port, protocol: 'TCP' }],
              env: [
                { name: 'HELM_COLLECTOR_LISTEN', value: `0.0.0.0:${s.port}` },
                { name: 'HELM_FLEET_BUCKET', value: s.bucket },
                { name: 'HELM_FLEET_STAGING_BUCKET', value: s.stagingBucket },
                { name: 'AWS_ENDPOINT_URL', value: s.endpoint },
                { name: 'AWS_REGION', value: s.region },
                secretEnv('AWS_ACCESS_KEY_ID', s.credentialsSecret, 'AWS_ACCESS_KEY_ID'),
                secretEnv('AWS_SECRET_ACCESS_KEY', s.credentialsSecret, 'AWS_SECRET_ACCESS_KEY'),
                { name: 'HELM_FLEET_KEY', value: `${COLLECTOR_KEYS_DIR}/fleet.key` },
                { name: 'HELM_COLLECTOR_KEY', value: `${COLLECTOR_KEYS_DIR}/collector.key` },
                { name: 'HELM_COLLECTOR_VKEY', value: s.verifierKey },
                { name: 'HELM_TRUST_ROOT', value: s.trustRoot },
                { name: 'HELM_COLLECTOR_LEASE', value: s.name },
                fieldEnv('HELM_COLLECTOR_NAMESPACE', 'metadata.namespace'),
                fieldEnv('HELM_COLLECTOR_IDENTITY', 'metadata.name'),
              ],
              volumeMounts: [{ name: 'collector-keys', mountPath: COLLECTOR_KEYS_DIR, readOnly: true }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'collector' }, periodSeconds: 2, failureThreshold: 1 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'collector' }, periodSeconds: 10, failureThreshold: 3 },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
          volumes: [{ name: 'collector-keys', secret: { secretName: s.keysSecret, defaultMode: 0o400 } }],
        },
      },
    },
  };
}

export function collectorService(s: CollectorSettings): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, labels: collectorLabels(s) },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'helm-collector', 'app.kubernetes.io/instance': s.name },
      ports: [{ name: 'collector', port: s.port, targetPort: 'collector', protocol: 'TCP' }],
    },
  };
}

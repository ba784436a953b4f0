// Adapters from the operator's API access to the small interfaces the webhook declares: lookups
// served from the informer caches (admission never waits on the API server) and the Secret /
// webhook-configuration clients the certificate rotation writes through.
import { AdmissionregistrationV1Api, type V1MutatingWebhookConfiguration, type V1Secret, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { isNotFound } from './runtime/errors.js';
import type { Kube } from './runtime/kube.js';
import type { Operator } from './operator.js';
import type { ClusterLookup } from './webhook/lookup.js';
import type { SecretClient, WebhookConfigClient, WebhookConfigKind } from './webhook/tls/clients.js';
import type { JsonObject } from './webhook/json.js';

const json = (v: unknown): JsonObject => JSON.parse(JSON.stringify(v)) as JsonObject;

export function informerLookup(op: Operator): ClusterLookup {
  return {
    namespaceLabels: async (name) => {
      const ns = op.namespaces.get(undefined, name);
      return ns ? (ns.metadata.labels ?? {}) : undefined;
    },
    guardianSidecars: async () => op.sidecars.list(),
    policyBundle: async (namespace, name) => op.bundles.get(namespace, name),
  };
}

export function secretClient(kube: Kube): SecretClient {
  return {
    async get(namespace, name) {
      try {
        return json(await kube.core.readNamespacedSecret({ namespace, name }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    create: async (namespace, secret) => json(await kube.core.createNamespacedSecret({ namespace, body: secret as unknown as V1Secret })),
    replace: async (namespace, secret) => {
      const name = String((secret.metadata as JsonObject | undefined)?.name ?? '');
      return json(await kube.core.replaceNamespacedSecret({ namespace, name, body: secret as unknown as V1Secret }));
    },
  };
}

export function webhookConfigClient(kube: Kube): WebhookConfigClient {
  const api = kube.config.makeApiClient(AdmissionregistrationV1Api);
  return {
    async get(kind: WebhookConfigKind, name: string) {
      try {
        return json(kind === 'MutatingWebhookConfiguration' ? await api.readMutatingWebhookConfiguration({ name }) : await api.readValidatingWebhookConfiguration({ name }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async replace(kind: WebhookConfigKind, object: JsonObject) {
      const name = String((object.metadata as JsonObject | undefined)?.name ?? '');
      return json(
        kind === 'MutatingWebhookConfiguration'
          ? await api.replaceMutatingWebhookConfiguration({ name, body: object as unknown as V1MutatingWebhookConfiguration })
          : await api.replaceValidatingWebhookConfiguration({ name, body: object as unknown as V1ValidatingWebhookConfiguration }),
      );
    },
  };
}

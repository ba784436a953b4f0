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

/** How long a node list answers sidecar-mode questions before it is read again. */
const NODE_CACHE_MS = 60_000;

/** status.nodeInfo.kubeletVersion of every node, cached; undefined when nodes cannot be listed. */
export function kubeletVersionsOf(kube: Kube, now: () => number = Date.now): () => Promise<string[] | undefined> {
  let cached: { at: number; versions: string[] | undefined } | undefined;
  return async () => {
    if (cached && now() - cached.at < NODE_CACHE_MS) return cached.versions;
    let versions: string[] | undefined;
    try {
      const list = await kube.core.listNode({});
      versions = list.items.map((n) => n.status?.nodeInfo?.kubeletVersion ?? '');
    } catch {
      versions = undefined; // RBAC or API trouble: the classic sidecar runs on every kubelet.
    }
    cached = { at: now(), versions };
    return versions;
  };
}

export function informerLookup(op: Operator): ClusterLookup {
  return {
    clusterGuardianSidecars: async () => op.clusterSidecars.list(),
    kubeletVersions: kubeletVersionsOf(op.kube),
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

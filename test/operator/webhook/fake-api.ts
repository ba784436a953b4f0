// In-memory Secrets and webhook configurations with the API server's write rules: create fails
// with 409 when the object exists, replace fails with 409 on a stale resourceVersion and with 404
// when the object is gone. Nothing is ever created implicitly.
import { ApiStatusError, type SecretClient, type WebhookConfigClient, type WebhookConfigKind } from '../../../operator/webhook/tls/clients.js';
import type { JsonObject } from '../../../operator/webhook/json.js';

export class FakeApi {
  private rv = 100;
  readonly objects = new Map<string, JsonObject>();
  writes = 0;
  /** Called before each write; lets a test interleave another writer. */
  beforeWrite: (() => Promise<void>) | undefined;

  private stamp(obj: JsonObject): JsonObject {
    const copy = structuredClone(obj);
    (copy.metadata as JsonObject).resourceVersion = String(++this.rv);
    return copy;
  }

  async get(key: string): Promise<JsonObject | undefined> {
    const o = this.objects.get(key);
    return o ? structuredClone(o) : undefined;
  }

  async create(key: string, obj: JsonObject): Promise<JsonObject> {
    await this.beforeWrite?.();
    if (this.objects.has(key)) throw new ApiStatusError(409, `${key} already exists`);
    const stored = this.stamp(obj);
    this.objects.set(key, stored);
    this.writes++;
    return structuredClone(stored);
  }

  async replace(key: string, obj: JsonObject): Promise<JsonObject> {
    await this.beforeWrite?.();
    const current = this.objects.get(key);
    if (!current) throw new ApiStatusError(404, `${key} not found`);
    const rv = (obj.metadata as JsonObject | undefined)?.resourceVersion;
    if (rv !== (current.metadata as JsonObject).resourceVersion) throw new ApiStatusError(409, `${key}: resourceVersion ${String(rv)} is stale`);
    const stored = this.stamp(obj);
    this.objects.set(key, stored);
    this.writes++;
    return structuredClone(stored);
  }

  secrets(): SecretClient {
    const key = (ns: string, name: string) => `Secret/${ns}/${name}`;
    return {
      get: (ns, name) => this.get(key(ns, name)),
      create: (ns, s) => this.create(key(ns, String((s.metadata as JsonObject).name)), s),
      replace: (ns, s) => this.replace(key(ns, String((s.metadata as JsonObject).name)), s),
    };
  }

  webhookConfigs(): WebhookConfigClient {
    const key = (kind: WebhookConfigKind, name: string) => `${kind}/${name}`;
    return {
      get: (kind, name) => this.get(key(kind, name)),
      replace: (kind, o) => this.replace(key(kind, String((o.metadata as JsonObject).name)), o),
    };
  }

  /** Seeds an object as `helm install` would. */
  put(key: string, obj: JsonObject): void {
    this.objects.set(key, this.stamp(obj));
  }
}

export function webhookConfiguration(kind: WebhookConfigKind, name: string, service = { namespace: 'helm-system', name: 'helm-operator-webhook' }): JsonObject {
  const webhook = (n: string, path: string) => ({
    name: n,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    clientConfig: { service: { ...service, path, port: 443 } },
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name },
    webhooks:
      kind === 'MutatingWebhookConfiguration'
        ? [webhook('inject.helm.mindburn.org', '/mutate'), { ...webhook('other.example.com', '/x'), clientConfig: { url: 'https://other.example.com/x', caBundle: 'b3RoZXI=' } }]
        : [webhook('guardiansidecars.helm.mindburn.org', '/validate'), webhook('workloads.helm.mindburn.org', '/validate')],
  };
}

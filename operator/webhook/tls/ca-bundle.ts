// Keeps caBundle in the chart's webhook configurations equal to the CA bundle the operator serves
// with. It only ever updates configurations that exist: they belong to the Helm release, so after
// `helm uninstall` nothing is recreated. Only webhooks pointing at our Service are touched.
import { arrayAt, isObject, objectAt, stringAt, type JsonObject } from '../json.js';
import { statusOf, type WebhookConfigClient, type WebhookConfigKind } from './clients.js';

export interface CaBundleTarget {
  kind: WebhookConfigKind;
  name: string;
}

export interface CaBundleResult {
  updated: string[];
  unchanged: string[];
  missing: string[];
}

const MAX_CONFLICT_RETRIES = 5;

function withCaBundle(obj: JsonObject, service: { namespace: string; name: string }, caBundle: string): JsonObject | undefined {
  const copy = structuredClone(obj);
  let changed = false;
  for (const w of (arrayAt(copy, 'webhooks') ?? []).filter(isObject)) {
    const svc = objectAt(w, 'clientConfig', 'service');
    if (!svc || svc.name !== service.name || svc.namespace !== service.namespace) continue;
    const clientConfig = objectAt(w, 'clientConfig')!;
    if (clientConfig.caBundle !== caBundle) {
      clientConfig.caBundle = caBundle;
      changed = true;
    }
  }
  return changed ? copy : undefined;
}

export async function ensureCaBundle(
  client: WebhookConfigClient,
  targets: readonly CaBundleTarget[],
  service: { namespace: string; name: string },
  caPem: string,
): Promise<CaBundleResult> {
  const caBundle = Buffer.from(caPem).toString('base64');
  const result: CaBundleResult = { updated: [], unchanged: [], missing: [] };
  for (const t of targets) {
    const label = `${t.kind}/${t.name}`;
    for (let attempt = 0; ; attempt++) {
      const current = await client.get(t.kind, t.name);
      if (!current || stringAt(current, 'metadata', 'deletionTimestamp')) {
        result.missing.push(label);
        break;
      }
      const next = withCaBundle(current, service, caBundle);
      if (!next) {
        result.unchanged.push(label);
        break;
      }
      try {
        await client.replace(t.kind, next);
        result.updated.push(label);
        break;
      } catch (e) {
        const status = statusOf(e);
        if (status === 404) {
          result.missing.push(label);
          break;
        }
        if (status !== 409 || attempt >= MAX_CONFLICT_RETRIES) throw e;
      }
    }
  }
  return result;
}

// The two pieces of the Kubernetes API the certificate rotation touches, as small interfaces the
// operator wires to its API client. Objects are raw JSON; writes carry metadata.resourceVersion
// and must fail with HTTP 409 when it is stale (optimistic concurrency between replicas).
import type { JsonObject } from '../json.js';

export interface SecretClient {
  get(namespace: string, name: string): Promise<JsonObject | undefined>;
  /** 409 (AlreadyExists) when another replica created it first. */
  create(namespace: string, secret: JsonObject): Promise<JsonObject>;
  /** PUT with metadata.resourceVersion; 409 (Conflict) when it changed meanwhile. */
  replace(namespace: string, secret: JsonObject): Promise<JsonObject>;
}

export type WebhookConfigKind = 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';

export interface WebhookConfigClient {
  get(kind: WebhookConfigKind, name: string): Promise<JsonObject | undefined>;
  /** PUT with metadata.resourceVersion; 409 on a stale one, 404 when it no longer exists. */
  replace(kind: WebhookConfigKind, object: JsonObject): Promise<JsonObject>;
}

/** Reads the HTTP status from the error shapes API clients throw. */
export function statusOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const r = e as { status?: unknown; statusCode?: unknown; code?: unknown; response?: { status?: unknown; statusCode?: unknown } };
  for (const v of [r.status, r.statusCode, r.code, r.response?.status, r.response?.statusCode]) if (typeof v === 'number') return v;
  return undefined;
}

/** An error carrying an HTTP status, for fakes and adapters. */
export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

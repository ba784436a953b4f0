// Where a PolicyBundle's text comes from: inline, a ConfigMap in its namespace, or a URL. A URL is
// fetched over https only (unless the operator allows http), with a timeout, a size limit and no
// redirects; whatever the source, the text is only trusted once it hashes to the pinned
// contentHash and its signature verifies (policybundle.ts).
import type { PolicyBundle } from '../api/v1alpha1.js';
import { isNotFound, describeError } from '../runtime/errors.js';
import type { KObject } from '../runtime/kube.js';

export type SourceReason = 'SourceInvalid' | 'SourceNotFound' | 'SourceUnavailable' | 'SourceInsecure' | 'SourceTooLarge';

export type SourceOutcome =
  | { ok: true; text: string; origin: 'inline' | 'configMap' | 'url' }
  | { ok: false; reason: SourceReason; message: string; transient: boolean };

export interface SourceOptions {
  getConfigMap(namespace: string, name: string): Promise<KObject>;
  fetch: typeof globalThis.fetch;
  allowHttp: boolean;
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_CONFIGMAP_KEY = 'bundle.yaml';

function failure(reason: SourceReason, message: string, transient: boolean): SourceOutcome {
  return { ok: false, reason, message, transient };
}

export async function resolveSource(pb: PolicyBundle, o: SourceOptions): Promise<SourceOutcome> {
  const spec = pb.spec;
  const given = [spec.inline !== undefined, spec.configMapRef !== undefined, spec.sourceUrl !== undefined].filter(Boolean).length;
  if (given !== 1) return failure('SourceInvalid', `exactly one of spec.inline, spec.configMapRef and spec.sourceUrl must be set (found ${given})`, false);
  if (spec.inline !== undefined) return { ok: true, text: spec.inline, origin: 'inline' };
  if (spec.configMapRef) return fromConfigMap(pb, spec.configMapRef, o);
  return fromUrl(spec.sourceUrl!, o);
}

async function fromConfigMap(pb: PolicyBundle, ref: { name: string; key?: string }, o: SourceOptions): Promise<SourceOutcome> {
  const ns = pb.metadata.namespace ?? 'default';
  const key = ref.key ?? DEFAULT_CONFIGMAP_KEY;
  let cm: KObject;
  try {
    cm = await o.getConfigMap(ns, ref.name);
  } catch (e) {
    if (isNotFound(e)) return failure('SourceNotFound', `ConfigMap ${ns}/${ref.name} not found`, true);
    return failure('SourceUnavailable', `reading ConfigMap ${ns}/${ref.name}: ${describeError(e)}`, true);
  }
  const data = (cm.data ?? {}) as Record<string, unknown>;
  const text = data[key];
  if (typeof text !== 'string') return failure('SourceNotFound', `ConfigMap ${ns}/${ref.name} has no key ${key}`, true);
  return { ok: true, text, origin: 'configMap' };
}

async function fromUrl(raw: string, o: SourceOptions): Promise<SourceOutcome> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return failure('SourceInvalid', `sourceUrl ${JSON.stringify(raw)} is not a URL`, false);
  }
  if (url.protocol !== 'https:' && !(o.allowHttp && url.protocol === 'http:')) {
    return failure('SourceInsecure', `sourceUrl scheme ${url.protocol.replace(':', '')} is not allowed (https only${o.allowHttp ? ' or http' : ''})`, false);
  }
  if (url.username || url.password) return failure('SourceInvalid', 'sourceUrl must not carry credentials', false);
  let res: Response;
  try {
    res = await o.fetch(url, { redirect: 'error', signal: AbortSignal.timeout(o.timeoutMs), headers: { accept: 'application/yaml, application/json, text/plain' } });
  } catch (e) {
    const timedOut = (e as { name?: string }).name === 'TimeoutError';
    return failure('SourceUnavailable', timedOut ? `fetching ${url.href} timed out after ${o.timeoutMs} ms` : `fetching ${url.href}: ${describeError(e)}`, true);
  }
  if (!res.ok) {
    await res.body?.cancel();
    return failure('SourceUnavailable', `fetching ${url.href}: HTTP ${res.status}`, true);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) {
    await res.body?.cancel();
    return failure('SourceTooLarge', `${url.href} is ${declared} bytes; the limit is ${o.maxBytes}`, false);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = res.body?.getReader();
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > o.maxBytes) {
        await reader.cancel();
        return failure('SourceTooLarge', `${url.href} exceeds the limit of ${o.maxBytes} bytes`, false);
      }
      chunks.push(value);
    }
  } catch (e) {
    return failure('SourceUnavailable', `reading ${url.href}: ${describeError(e)}`, true);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return failure('SourceInvalid', `${url.href} is not UTF-8 text`, false);
  }
  return { ok: true, text, origin: 'url' };
}

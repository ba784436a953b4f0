// Reads an agent's JSON request body with hard limits: the media type first (415), the declared
// and actual size (413), strict UTF-8 and JSON (400). A body over the limit is read to its end
// and discarded (so the client sees the 413 rather than a reset) up to a bound past which the
// connection is dropped.
import type { IncomingMessage } from 'node:http';
import { refusalCodeOf } from '../../kernel/json/codes.js';
import { parseStrictJson } from '../../kernel/json/index.js';
import { ProxyError } from './errors.js';

/**
 * Deepest nesting a request body may have. Checked by the iterative strict parser before any
 * recursive code (re-serialization, schema compilation, JCS) touches the body.
 */
export const MAX_BODY_DEPTH = 128;

/** Past the limit, at most this much more is read and discarded before the socket is dropped. */
const DISCARD_BYTES = 64 * 1024 * 1024;

export function checkJsonMediaType(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new ProxyError(415, 'unsupported_media_type', `the body must be application/json, not ${JSON.stringify(type || '(none)')}`);
  }
  const enc = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (enc !== 'identity' && enc !== '') throw new ProxyError(415, 'unsupported_media_type', `content-encoding ${JSON.stringify(enc)} is not accepted`);
}

export interface ReadBody {
  bytes: Buffer;
  value: unknown;
}

/** Resolves with the parsed body; rejects with a ProxyError (and `drop` set when the socket must go). */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody> {
  checkJsonMediaType(req);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + DISCARD_BYTES) {
    throw Object.assign(new ProxyError(413, 'body_too_large', `the body declares ${declared} bytes; the limit is ${maxBytes}`), { drop: true });
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes + DISCARD_BYTES) throw Object.assign(new ProxyError(413, 'body_too_large', `the body exceeds ${maxBytes} bytes`), { drop: true });
    if (size <= maxBytes) parts.push(chunk);
  }
  if (size > maxBytes) throw new ProxyError(413, 'body_too_large', `the body has ${size} bytes; the limit is ${maxBytes}`);
  const bytes = Buffer.concat(parts, size);
  // Strict: duplicate keys, lone surrogates, non-I-JSON numbers and deep nesting are refused too.
  const r = parseStrictJson(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { maxLength: maxBytes, maxDepth: MAX_BODY_DEPTH });
  if (r.ok) return { bytes, value: r.value };
  const e = r.error;
  const what = e.code === 'syntax' ? 'not valid JSON' : e.code === 'invalid_unicode' && e.path === '' && e.offset === 0 ? 'not valid UTF-8' : 'refused';
  throw new ProxyError(400, 'invalid_json', `the body is ${what}: ${e.message}${e.path ? ` (at ${e.path})` : ''}`).because(refusalCodeOf(e.code));
}

export function shouldDrop(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { drop?: unknown }).drop === true;
}

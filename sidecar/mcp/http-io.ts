// Small HTTP helpers for the gateway's own endpoints (legacy SSE messages and REST): a bounded
// body reader and JSON answers. MCP framing itself stays with the SDK.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { screenMessage } from './screen.js';

export type Body = { ok: true; text: string } | { ok: false; status: 413 | 400; message: string };
export type BodyBytes = { ok: true; bytes: Uint8Array } | { ok: false; status: 413 | 400; message: string };

/** Reads the whole body as UTF-8 text (else 400), refusing it (413) past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const b = await readBodyBytes(req, limit);
  if (!b.ok) return b;
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(b.bytes) };
  } catch {
    return { ok: false, status: 400, message: 'request body is not valid UTF-8' };
  }
}

/** Reads the whole body, refusing it (413) as soon as it exceeds `limit` bytes. */
export function readBodyBytes(req: IncomingMessage, limit: number): Promise<BodyBytes> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ ok: false, status: 413, message: `request body of ${declared} bytes exceeds the limit of ${limit} bytes` });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        resolve({ ok: false, status: 413, message: `request body exceeds the limit of ${limit} bytes` });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const buf = Buffer.concat(chunks);
      resolve({ ok: true, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) });
    });
    req.on('error', (e) => {
      if (done) return;
      done = true;
      resolve({ ok: false, status: 400, message: `request body could not be read: ${e.message}` });
    });
  });
}

export function isJsonContentType(req: IncomingMessage): boolean {
  const ct = req.headers['content-type'];
  return typeof ct === 'string' && /^application\/json\s*(;|$)/i.test(ct.trim());
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** A JSON-RPC error object for failures outside any request (parse errors, oversized bodies). */
export function rpcError(code: number, message: string, data?: unknown) {
  return { jsonrpc: '2.0', id: null, error: { code, message, ...(data !== undefined ? { data } : {}) } };
}

/**
 * Reads a JSON-RPC body and screens it strictly (./screen.ts). Answers the error itself and
 * returns undefined when there is nothing to pass on.
 */
export async function readScreened(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  const b = await readBodyBytes(req, limit);
  if (!b.ok) {
    const reasonCode = b.status === 413 ? 'INPUT_TOO_LARGE' : 'MCP_MESSAGE_INVALID';
    sendJson(res, b.status, rpcError(b.status === 413 ? -32600 : -32700, `${reasonCode}: ${b.message}`, { reasonCode }));
    return undefined;
  }
  const s = screenMessage(b.bytes, limit);
  if (!s.ok) {
    sendJson(res, 400, rpcError(s.code, `MCP_MESSAGE_INVALID: ${s.message}`, { reasonCode: 'MCP_MESSAGE_INVALID' }));
    return undefined;
  }
  return s.message;
}

// Small HTTP helpers for the gateway's own endpoints (legacy SSE messages and REST): a bounded
// body reader and JSON answers. MCP framing itself stays with the SDK.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Body = { ok: true; text: string } | { ok: false; status: 413 | 400; message: string };

/** Reads the whole body, refusing it (413) as soon as it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
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
      const text = new TextDecoder('utf-8', { fatal: true });
      try {
        resolve({ ok: true, text: text.decode(buf) });
      } catch {
        resolve({ ok: false, status: 400, message: 'request body is not valid UTF-8' });
      }
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

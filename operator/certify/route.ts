// The HTTP side of POST /v1/certify on the webhook's HTTPS server: method and size checks, then
// certify(); every answer is JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { certify, type CertifyDeps } from './certify.js';

const MAX_BODY = 16 * 1024;

export type CertifyRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function certifyRoute(deps: CertifyDeps): CertifyRoute {
  return async (req, res) => {
    if (req.method !== 'POST') return send(res, 405, { code: 'ERR_CERTIFY_METHOD', message: 'POST the certification request' });
    const body = await readBody(req);
    if (body === null) return send(res, 400, { code: 'ERR_CERTIFY_BAD_REQUEST', message: `the body exceeds ${MAX_BODY} bytes` });
    const a = await certify(req.headers.authorization, body, deps);
    send(res, a.status, a.body);
  };
}

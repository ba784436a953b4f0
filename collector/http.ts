// The collector's HTTP surface: POST /add-checkpoint (c2sp.org/tlog-witness), POST /writer/open,
// POST /writer/close (JSON), GET /writers, GET /healthz, GET /readyz. Bodies are capped; any
// handler error is a 500 that cosigns nothing. With a Lease (collector/active.ts) an instance that
// is not the active one answers 503 and is not ready.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Answer, Collector } from './collector.js';

const MAX_BODY = 1 << 20;

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function route(active: () => Collector | undefined, req: IncomingMessage): Promise<Answer> {
  if (req.method === 'GET' && req.url === '/healthz') return { status: 200, body: 'ok\n' };
  const c = active();
  if (req.method === 'GET' && req.url === '/readyz') return c ? { status: 200, body: 'active\n' } : { status: 503, body: 'standby: another instance holds the collector Lease\n' };
  if (!c) return { status: 503, body: 'not the active collector (another instance holds the Lease); retry\n' };
  if (req.method === 'GET' && req.url === '/writers') return { status: 200, body: JSON.stringify(c.list()), type: 'application/json' };
  if (req.method !== 'POST') return { status: 405, body: 'POST only\n' };
  const body = await readBody(req);
  if (body === null) return { status: 413, body: `body exceeds ${MAX_BODY} bytes\n` };
  if (req.url === '/add-checkpoint') return c.addCheckpoint(body);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { status: 400, body: 'body is not JSON\n' };
  }
  if (req.url === '/writer/open') return c.open(json);
  if (req.url === '/writer/close') return c.close(json);
  return { status: 404, body: `no route ${req.url}\n` };
}

export function collectorServer(c: Collector | (() => Collector | undefined), onError?: (e: unknown) => void): Server {
  const active = typeof c === 'function' ? c : () => c;
  return createServer((req, res) => {
    route(active, req).then(
      (a) => {
        res.writeHead(a.status, { 'content-type': a.type ?? 'text/plain; charset=utf-8' });
        res.end(a.body);
      },
      (e: unknown) => {
        onError?.(e);
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`collector error: ${(e as Error)?.message ?? String(e)}\n`);
      },
    );
  });
}

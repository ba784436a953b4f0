// The operator's plain-HTTP endpoint: Prometheus metrics and the kubelet's probes. Liveness is
// "the process serves"; readiness is "caches synced" (every replica, leader or not, serves the
// webhook from its caches, so readiness must not depend on leadership).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface ProbeState {
  ready(): boolean;
}

export async function serveMetrics(port: number, registry: Registry, state: ProbeState, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
      return;
    }
    if (path === '/healthz') return void res.writeHead(200).end('ok');
    if (path === '/readyz') return void (state.ready() ? res.writeHead(200).end('ok') : res.writeHead(503).end('caches not synced'));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}

// The admin listener: probes, Prometheus metrics and the approvals API. It is separate from the
// governed listener so that probes and scrapes keep answering while governed calls drain, and so
// that the operator can expose it to the kubelet without exposing the governed surface.
import type { RequestListener } from 'node:http';
import type { Logger } from '../log.js';
import type { SidecarMetrics } from '../observe/metrics.js';
import { approvalRoutes, type ApprovalsApi } from './approvals.js';
import { Routes, send, sendJson } from './http.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean } & Record<string, unknown>>;
}

export interface Liveness {
  live: boolean;
  /** Why not live (a registered word, e.g. store_unavailable), and the detail. */
  reason?: string;
  detail?: string;
}

export interface AdminDeps {
  readiness(): Readiness;
  /** Default: live while the process answers. */
  liveness?(): Liveness;
  metrics: SidecarMetrics;
  approvals: ApprovalsApi;
  log: Logger;
}

/** The admin listener (plain node:http; see http.ts for the routing rules it keeps). */
export function adminApp(d: AdminDeps): RequestListener {
  const routes = new Routes();
  // Liveness: the process answers and can still do its job. A store that failed (disk full,
  // read-only) never recovers in-process, so it fails liveness: the kubelet restarts the
  // container, and the start reopens the log from what is durable (docs/sidecar.md).
  routes.get('/healthz', (_req, res) => {
    const l = d.liveness?.() ?? { live: true };
    if (l.live) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 503, { status: 'failing', reason: l.reason, detail: l.detail });
  });
  routes.get('/readyz', (_req, res) => {
    const r = d.readiness();
    sendJson(res, r.ready ? 200 : 503, r);
  });
  routes.get('/metrics', async (_req, res) => {
    send(res, 200, d.metrics.contentType, await d.metrics.text());
  });
  approvalRoutes(routes, d.approvals, d.metrics, d.log);

  const failed = (res: Parameters<RequestListener>[1], err: unknown): void => {
    d.log.error('admin request failed', { error: (err as Error)?.message ?? String(err) });
    if (res.headersSent) res.destroy();
    else sendJson(res, 500, { error: { code: 'ERR_INTERNAL', message: 'internal error' } });
  };
  return (req, res) => {
    const method = req.method ?? 'GET';
    const pathname = (req.url ?? '/').split('?')[0]!;
    let hit;
    try {
      hit = routes.match(method, pathname);
    } catch (e) {
      return failed(res, e); // a bad percent-encoding in a path parameter
    }
    if (hit && 'handler' in hit) {
      Promise.resolve()
        .then(() => hit.handler(req, res, hit.params))
        .catch((e: unknown) => failed(res, e));
    } else if (hit && method === 'OPTIONS') {
      const allow = hit.allow.join(', ');
      res.setHeader('Allow', allow);
      send(res, 200, 'text/html; charset=utf-8', allow);
    } else {
      sendJson(res, 404, { error: { code: 'ERR_NOT_FOUND', message: `no admin endpoint ${method} ${pathname}` } });
    }
  };
}

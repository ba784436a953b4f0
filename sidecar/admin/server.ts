// The admin listener: probes, Prometheus metrics and the approvals API. It is separate from the
// governed listener so that probes and scrapes keep answering while governed calls drain, and so
// that the operator can expose it to the kubelet without exposing the governed surface.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../log.js';
import type { SidecarMetrics } from '../observe/metrics.js';
import { approvalsRouter, type ApprovalsApi } from './approvals.js';

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

export function adminApp(d: AdminDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Liveness: the process answers and can still do its job. A store that failed (disk full,
  // read-only) never recovers in-process, so it fails liveness: the kubelet restarts the
  // container, and the start reopens the log from what is durable (docs/sidecar.md).
  app.get('/healthz', (_req, res) => {
    const l = d.liveness?.() ?? { live: true };
    if (l.live) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'failing', reason: l.reason, detail: l.detail });
  });
  app.get('/readyz', (_req, res) => {
    const r = d.readiness();
    res.status(r.ready ? 200 : 503).json(r);
  });
  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await d.metrics.text();
      res.set('Content-Type', d.metrics.contentType).send(body);
    } catch (e) {
      next(e);
    }
  });
  app.use(approvalsRouter(d.approvals, d.metrics, d.log));
  app.use((req, res) => {
    res.status(404).json({ error: { code: 'ERR_NOT_FOUND', message: `no admin endpoint ${req.method} ${req.path}` } });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed' || type === 'entity.too.large' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
      d.metrics.approvalSubmission('ERR_APPROVAL_MALFORMED');
      res.status(type === 'entity.too.large' ? 413 : 400).json({ accepted: false, code: 'ERR_APPROVAL_MALFORMED', message: (err as Error).message });
      return;
    }
    d.log.error('admin request failed', { error: (err as Error)?.message ?? String(err) });
    res.status(500).json({ error: { code: 'ERR_INTERNAL', message: 'internal error' } });
  });
  return app;
}

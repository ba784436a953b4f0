// The operator's /metrics text passes `promtool check metrics` (the exposition-format linter
// Prometheus ships): every metric the code registers, with a sample recorded in each, and the
// default process metrics.
import { execFileSync } from 'node:child_process';
import { serveMetrics } from '../../operator/http.js';
import { metricsRegistry, operatorMetrics, webhookMetrics } from '../../operator/metrics.js';
import { describeWithPromtool, promtoolBin } from './tools.js';

function check(text: string): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync(promtoolBin!, ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describeWithPromtool('operator /metrics', () => {
  it('passes promtool check metrics with every metric populated', async () => {
    const ops = operatorMetrics();
    ops.reconcile('PolicyBundle', 'success', 0.02);
    ops.queueDepth('policybundles', 1);
    ops.queueRetry('policybundles');
    ops.leader('helm-system/helm-operator', 'op-0', true);
    ops.watchRestart('pods', 'gone');
    ops.bundlePhase('helm-system', 'desk', 'Active');
    ops.injectedPods('agents', 'guardian', 2);
    ops.webhookReady(true);
    webhookMetrics().injection('injected', 'ok');
    webhookMetrics().latency(0.004, 'mutate');
    const text = await metricsRegistry().metrics();
    expect(text).toContain('helm_operator_webhook_ready 1');
    const r = check(text);
    expect([r.status, r.out]).toEqual([0, '']);
  });

  it('what the operator serves on /metrics over HTTP passes it too', async () => {
    const served = await serveMetrics(0, metricsRegistry(), { ready: () => true }, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${served.port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('# TYPE helm_operator_reconcile_total counter');
      const r = check(text);
      expect([r.status, r.out]).toEqual([0, '']);
    } finally {
      await new Promise<void>((resolve) => served.server.close(() => resolve()));
    }
  });

  it('the check is real: a gauge named like a counter fails it', () => {
    expect(check('# HELP x_total a gauge\n# TYPE x_total gauge\nx_total 1\n').status).not.toBe(0);
  });
});

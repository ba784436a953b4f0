// The operator process as main.ts runs it: configuration, trust roots, metrics and probes, the
// webhook started beside the controllers (self-managed certificates stored through the double).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, parseTrustRoots } from '../../operator/config.js';
import { runOperator, type RunningOperator } from '../../operator/main.js';
import { OPERATOR_METRIC_NAMES } from '../../operator/metrics.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { GROUP, OPERATOR_NS, bundleSigner, bundleStatus, bundleText, governedNamespace, clusterGuardianSidecar, otherSigner, policyBundle, signedSpec, startDouble, waitFor } from './support.js';

describe('operator configuration', () => {
  it('reads flags over environment over defaults and validates them', () => {
    const cfg = parseConfig(['--namespace', 'ops', '--metrics-port=0', '--leader-elect', 'false'], { POD_NAME: 'pod-1', HELM_SOURCE_TIMEOUT: '3s', POD_NAMESPACE: 'ignored' });
    expect(cfg).toMatchObject({ namespace: 'ops', identity: 'pod-1', metricsPort: 0, leaderElection: false, sourceTimeoutMs: 3000, leaderElectionId: 'helm-operator-leader', defaultRefreshMs: 300_000 });
    expect(cfg.webhook).toMatchObject({ enabled: true, port: 9443, certMode: 'self-managed', failClosed: true });
    expect(() => parseConfig(['--bogus', '1'], {})).toThrow(/unknown argument/);
    expect(() => parseConfig(['--lease-duration', '1s'], {})).toThrow(/lease-duration > --renew-deadline/);
    expect(() => parseConfig(['--metrics-port', 'x'], {})).toThrow(/integer/);
  });

  it('parses a trust roots file of verifier keys and revocations, refusing an empty one', () => {
    const trust = parseTrustRoots(`# roots\n${bundleSigner.verifier.vkey}\n\nrevoke ${otherSigner.verifier.handle}\n`);
    expect(trust.roots.map((r) => r.handle)).toEqual([bundleSigner.verifier.handle]);
    expect(trust.revoked).toEqual([otherSigner.verifier.handle]);
    expect(() => parseTrustRoots('# nothing\n')).toThrow(/no trust root/);
    expect(() => parseTrustRoots('not-a-key\n')).toThrow(/line 1/);
  });
});

describe('operator process', () => {
  let d: ApiServerDouble;
  let dir: string;
  let running: RunningOperator | undefined;

  beforeEach(async () => {
    d = await startDouble();
    dir = mkdtempSync(join(tmpdir(), 'helm-operator-'));
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves metrics and probes, reconciles, and runs the webhook with self-managed certificates', async () => {
    writeFileSync(join(dir, 'roots'), `${bundleSigner.verifier.vkey}\n`);
    writeFileSync(join(dir, 'kubeconfig'), d.kubeconfigText());
    const lines: string[] = [];
    const cfg = parseConfig(['--kubeconfig', join(dir, 'kubeconfig'), '--trust-roots', join(dir, 'roots'), '--metrics-port', '0', '--webhook-port', '0', '--identity', 'main-test', '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '1s'], {});
    cfg.retryPeriodMs = 100;
    running = await runOperator(cfg, (msg, ctx) => lines.push(`${msg} ${JSON.stringify(ctx)}`));
    const base = `http://127.0.0.1:${running.metricsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    governedNamespace(d, 'agents');
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [OPERATOR_METRIC_NAMES.reconcileTotal, OPERATOR_METRIC_NAMES.reconcileDuration, OPERATOR_METRIC_NAMES.workqueueDepth, OPERATOR_METRIC_NAMES.leader, OPERATOR_METRIC_NAMES.bundlePhase]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/helm_operator_reconcile_total\{kind="PolicyBundle",result="success"\} [1-9]/);
    expect(text).toMatch(/helm_operator_leader\{lease="helm-system\/helm-operator-leader",identity="main-test"\} 1/);
    expect(running.webhook).toBeDefined();
    // Self-managed mode stored its CA and serving certificate in a Secret in the operator's namespace.
    const secret = d.get('', 'secrets', OPERATOR_NS, 'helm-operator-webhook-tls');
    expect(secret).toBeDefined();
    expect(Object.keys(secret!.data).length).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('webhook serving'))).toBe(true);
  });

  it('refuses to start without a usable trust roots file', async () => {
    const cfg = parseConfig(['--trust-roots', join(dir, 'missing'), '--metrics-port', '0'], {});
    await expect(runOperator(cfg, () => undefined)).rejects.toMatchObject({ code: 'ERR_TRUST_ROOTS' });
  });
});

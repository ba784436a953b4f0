// One graph per shared volume: several sidecars write to one ProofGraph directory, and
// `helmctl export` of the whole directory is one pack that `helmctl verify` accepts. A directory
// whose logs cannot verify together is refused by export (never exit 0 on a pack verify rejects).
import { cp, writeFile } from 'node:fs/promises';
import { main as helmctl } from '../../cli/helmctl.js';
import { startCertifyOperator, type CertifyOperator } from '../support/certify-operator.js';
import { chat, startCertified } from './certified-support.js';
import { keys, Pod } from './support.js';

let op: CertifyOperator;
let pod: Pod;
beforeAll(async () => {
  op = await startCertifyOperator();
  pod = await Pod.create();
  await writeFile(pod.path('root-only.policy'), ['quorum none', `root ${op.root.verifier.vkey}`, `exporter ${keys.exporter.verifier.vkey}`, ''].join('\n'));
});
afterAll(async () => {
  await pod.cleanup();
  await op.close();
});

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { stdout: { write: (t: string) => void (out += t) }, stderr: { write: (t: string) => void (out += t) } };
  const code = await helmctl(args, io);
  return { code, out };
}

const exportArgs = (store: string, pack: string, ...more: string[]) => ['export', '--store', store, '--out', pack, '--key', pod.path('keys/exporter.key'), ...more];

describe('one graph per shared volume', () => {
  it('three certified sidecars (two pods, one restarted) on one directory export as one pack that verifies under one root line', async () => {
    const a = op.seedPod('agent-a');
    const b = op.seedPod('agent-b', { namespace: 'billing' });
    for (const p of [a, b]) op.registerToken(`tok-${p.name}`, p);
    for (const p of [a, b, a]) {
      const s = await startCertified(pod, op, p);
      await s.certifier!.whenCertified();
      expect((await chat(pod, s, `call-${p.name}`)).headers.get('x-helm-decision')).toBe('ALLOW');
      await s.stop();
    }
    const pack = pod.path('fleet.tar.gz');
    const e = await run(exportArgs(pod.path('proofgraph'), pack, '--json'));
    expect(e.code).toBe(0);
    const logs = (JSON.parse(e.out) as { logs: Array<{ dir: string; origin: string }> }).logs;
    expect(logs).toHaveLength(3);
    expect(logs.every((l) => /^(shop_agent-a|billing_agent-b)_\d{8}t\d{6}z-[0-9a-f]{8}$/.test(l.dir))).toBe(true);
    expect(await run(['verify', pack, '--trust-policy', pod.path('root-only.policy')])).toMatchObject({ code: 0 });

    // Selection by namespace and pod; a pod subdirectory as --store works too.
    const ns = await run(exportArgs(pod.path('proofgraph'), pod.path('billing.tar.gz'), '--namespace', 'billing', '--json'));
    expect((JSON.parse(ns.out) as { logs: unknown[] }).logs).toHaveLength(1);
    const byPod = await run(exportArgs(pod.path('proofgraph'), pod.path('a.tar.gz'), '--pod', 'agent-a', '--json'));
    expect((JSON.parse(byPod.out) as { logs: unknown[] }).logs).toHaveLength(2);
    const sub = await run(exportArgs(pod.path('proofgraph/shop/agent-a'), pod.path('sub.tar.gz'), '--trust-policy', pod.path('root-only.policy')));
    expect(sub.code).toBe(0);
    expect(sub.out).toMatch(/verified under/);
    expect((await run(exportArgs(pod.path('proofgraph'), pod.path('none.tar.gz'), '--namespace', 'nowhere'))).out).toMatch(/ERR_EXPORT_NOTHING/);
  });

  it('refuses a directory with a log whose keys were never certified, and names the way out', async () => {
    const c = op.seedPod('agent-c');
    // No token registered: the sidecar never gets certified.
    const s = await startCertified(pod, op, c);
    await chat(pod, s, 'call-c');
    await s.stop();
    const r = await run(exportArgs(pod.path('proofgraph'), pod.path('mixed.tar.gz')));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/ERR_EXPORT_UNPUBLISHED_KEY/);
    expect(r.out).toMatch(/shop\/agent-c/);
    expect((await run(exportArgs(pod.path('proofgraph'), pod.path('billing-only.tar.gz'), '--namespace', 'billing'))).code).toBe(0);
  });

  it('refuses two writers that share one origin (the namespace-wide static key), where export used to exit 0', async () => {
    // Two static sidecars with the same keys and origin, each in its own directory of one volume.
    await pod.start({ noBundle: true }).then((r) => r.sidecar.stop());
    await cp(pod.path('proofgraph/agent-pod-1'), pod.path('static/agent-pod-1'), { recursive: true });
    await cp(pod.path('proofgraph/agent-pod-1'), pod.path('static/agent-pod-2'), { recursive: true });
    const r = await run(exportArgs(pod.path('static'), pod.path('dup.tar.gz')));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/ERR_EXPORT_DUPLICATE_ORIGIN/);
    // One pod's own directory exports (no more ERR_EXPORT_NOTHING).
    expect((await run(exportArgs(pod.path('static/agent-pod-1'), pod.path('one.tar.gz'), '--trust-policy', pod.path('trust-policy.txt')))).code).toBe(0);
  });
});

// Hot reload of the mounted bundle: a changed bundle that verifies is put in force and recorded by
// a policy_change heartbeat; one that does not verify is reported and the old one stays; a
// ConfigMap-style symlink swap is noticed without any call to reload().
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { signBundle } from '../../kernel/guardian/index.js';
import { otherSigner } from '../guardian/helpers.js';
import { body, call, decisions, Pod, sidecarBundle, waitFor } from './support.js';

const metric = async (admin: (p: string) => Promise<Response>, line: RegExp) => (await (await admin('/metrics')).text()).split('\n').find((l) => line.test(l)) ?? null;

describe('bundle hot reload', () => {
  let pod: Pod;
  beforeEach(async () => {
    pod = await Pod.create();
  });
  afterEach(async () => {
    await pod.cleanup();
  });

  it('a good new bundle is verified, swapped in and recorded as a policy_change heartbeat', async () => {
    const r = await pod.start();
    const before = r.sidecar.policy.status().digest;
    // The new bundle no longer allows CRM lookups.
    const next = sidecarBundle((d) => {
      d.metadata.version = '2026.11.2';
      d.rules = d.rules.filter((x) => x.id !== 'allow-crm-read');
    });
    await pod.writeBundle(next);
    await waitFor(() => r.log.lines.some((l) => l.msg === 'policy bundle reloaded'));
    const after = r.sidecar.policy.status();
    expect(after).toMatchObject({ status: 'ready', version: '2026.11.2', rejected: null });

    const changes = (await pod.nodes()).filter((n) => n.kind === 'heartbeat' && body(n).reason === 'policy_change').map((n) => body(n).policyDigest);
    expect(changes).toEqual([before, after.digest]);
    expect(await metric(r.admin, /^helm_bundle_reloads_total\{result="applied"/)).toMatch(/ 1$/);
    expect(await metric(r.admin, /^helm_bundle_info\{/)).toContain('version="2026.11.2"');

    pod.script(() => ({ toolCalls: [call('call_after', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'x' }] });
    expect(decisions(await pod.nodes())).toContainEqual(['call_after', 'crm.lookup_customer', 'DENY', 'NO_POLICY_DEFINED']);
  });

  it.each([
    ['signed by an untrusted key', 'SIGNER_UNTRUSTED', async (p: Pod) => p.writeBundle(sidecarBundle((d) => (d.metadata.version = 'evil')), otherSigner)],
    ['signature of another bundle', 'HASH_MISMATCH', async (p: Pod) => p.writeBundle(sidecarBundle((d) => (d.metadata.version = 'evil')), undefined, { signature: signBundle(sidecarBundle(), otherSigner, nodeSuite) })],
    ['not YAML', 'BUNDLE_INVALID', async (p: Pod) => writeFile(p.path('bundle/bundle.yaml'), 'tools: [unclosed')],
    ['deleted', 'BUNDLE_MISSING', async (p: Pod) => rename(p.path('bundle/bundle.yaml'), p.path('bundle/gone.yaml'))],
  ])('a bad new bundle (%s) is rejected with %s and the old one stays in force', async (_what, code, spoil) => {
    const r = await pod.start();
    const before = r.sidecar.policy.status();
    const size = (await pod.nodes()).length;
    await spoil(pod);
    // The watcher may see the change first; either way it is handled once.
    await r.sidecar.reload();
    await waitFor(() => r.log.lines.some((l) => l.level === 'error' && l.code === code));
    expect(await r.sidecar.reload()).toEqual({ result: 'unchanged' });
    expect(r.sidecar.policy.status()).toMatchObject({ status: 'ready', digest: before.digest, rejected: { code } });
    // Rejection changes nothing in the log: no policy_change for a bundle that is not in force.
    expect((await pod.nodes()).length).toBe(size);
    expect(await metric(r.admin, new RegExp(`^helm_bundle_reloads_total\\{result="rejected",code="${code}"\\}`))).toMatch(/ 1$/);
    expect(await metric(r.admin, /^helm_bundle_file_rejected /)).toBe('helm_bundle_file_rejected 1');
    expect(r.log.lines.some((l) => l.level === 'error' && l.code === code)).toBe(true);
    const ready = (await (await r.admin('/readyz')).json()) as { ready: boolean; checks: { bundle: { rejected: { code: string } } } };
    expect(ready.ready).toBe(true);
    expect(ready.checks.bundle.rejected.code).toBe(code);

    pod.script(() => ({ toolCalls: [call('call_still', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'x' }] });
    expect(decisions(await pod.nodes())).toContainEqual(['call_still', 'crm.lookup_customer', 'ALLOW', 'ALLOWED']);
  });

  it('notices a ConfigMap-style ..data symlink swap by itself', async () => {
    // Layout of a ConfigMap volume: bundle.yaml -> ..data/bundle.yaml, ..data -> ..<timestamp>.
    const mount = pod.path('cm');
    await mkdir(`${mount}/..v1`, { recursive: true });
    await writeFile(`${mount}/..v1/bundle.yaml`, JSON.stringify(sidecarBundle()));
    await writeFile(`${mount}/..v1/sig.json`, JSON.stringify(signBundle(sidecarBundle(), (await import('../guardian/helpers.js')).bundleSigner, nodeSuite)));
    await symlink('..v1', `${mount}/..data`);
    await symlink('..data/bundle.yaml', `${mount}/bundle.yaml`);
    await symlink('..data/sig.json', `${mount}/sig.json`);
    const r = await pod.start({ flags: ['--bundle', `${mount}/bundle.yaml`, '--bundle-signature', `${mount}/sig.json`, '--bundle-poll-interval-ms', '60000'] });
    const before = r.sidecar.policy.status().digest;

    const next = sidecarBundle((d) => (d.metadata.version = 'v2'));
    await mkdir(`${mount}/..v2`);
    await writeFile(`${mount}/..v2/bundle.yaml`, JSON.stringify(next));
    await writeFile(`${mount}/..v2/sig.json`, JSON.stringify(signBundle(next, (await import('../guardian/helpers.js')).bundleSigner, nodeSuite)));
    await symlink('..v2', `${mount}/..data_tmp`);
    await rename(`${mount}/..data_tmp`, `${mount}/..data`);
    // Polling is off for a minute: only the directory watch can see this.
    await waitFor(() => r.sidecar.policy.status().digest !== before, 5000);
    expect(r.sidecar.policy.status().version).toBe('v2');
  });
});

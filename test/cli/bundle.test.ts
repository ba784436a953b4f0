// helmctl bundle hash|sign|verify|lint|test|compose, helmctl approve (fed to a real PEP), and
// helmctl replay's policy re-evaluation, run in-process against files in a temp directory.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { bundleContentHash, parseBundleText } from '../../kernel/guardian/index.js';
import { verifyApproval } from '../../kernel/pep/index.js';
import { main } from '../../cli/helmctl.js';
import { tempDir } from '../evidence/fixtures.js';
import { EXAMPLE_ROOT, EXAMPLE_SIG, EXAMPLE_YAML } from '../guardian/helpers.js';
import { Lab, pepBundle, refund, signed } from '../pep/support.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const tmp = await tempDir('helm-cli-bundle-');
const p = (name: string) => join(tmp.dir, name);
afterAll(() => tmp.cleanup());
await run('keygen', '--name', 'policy-signer', '--out', p('signer.key'));
await run('keygen', '--name', 'other-signer', '--out', p('other.key'));
const signerVkey = readFileSync(p('signer.key.pub'), 'utf8').trim();
const overlayYaml = (rules: string) => `apiVersion: helm-policy-bundle/v1\nkind: PolicyOverlay\nmetadata: { name: tenant }\n${rules}\n`;

describe('helmctl bundle', () => {
  it('hash prints the contentHash the example signature covers', async () => {
    const r = await run('bundle', 'hash', EXAMPLE_YAML);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(JSON.parse(readFileSync(EXAMPLE_SIG, 'utf8')).contentHash);
  });

  it('sign writes a detached signature that verify accepts under its key, and refuses otherwise', async () => {
    expect((await run('bundle', 'sign', EXAMPLE_YAML, '--key', p('signer.key'), '--out', p('sig.json'))).code).toBe(0);
    const sig = JSON.parse(readFileSync(p('sig.json'), 'utf8'));
    expect(Object.keys(sig).sort()).toEqual(['contentHash', 'signature', 'signerKeyId']);
    const ok = await run('bundle', 'verify', EXAMPLE_YAML, '--signature', p('sig.json'), '--trust-root', p('signer.key.pub'));
    expect([ok.code, ok.out]).toEqual([0, `VALID: ${sig.contentHash} signed by ${parseVerifierKey(signerVkey).handle}\n`]);
    const untrusted = await run('bundle', 'verify', EXAMPLE_YAML, '--signature', p('sig.json'), '--trust-root', p('other.key.pub'));
    expect([untrusted.code, untrusted.out]).toEqual([1, expect.stringMatching(/^INVALID: SIGNER_UNTRUSTED: /)]);
    const revoked = await run('bundle', 'verify', EXAMPLE_YAML, '--signature', p('sig.json'), '--trust-root', signerVkey, '--revoked', parseVerifierKey(signerVkey).handle, '--json');
    expect(revoked.code).toBe(1);
    expect(JSON.parse(revoked.out)).toMatchObject({ valid: false, reasonCode: 'SIGNER_REVOKED' });
    writeFileSync(p('tampered.yaml'), readFileSync(EXAMPLE_YAML, 'utf8').replace('version: "2026.11.1"', 'version: "2026.11.2"'));
    const tampered = await run('bundle', 'verify', p('tampered.yaml'), '--signature', p('sig.json'), '--trust-root', signerVkey);
    expect([tampered.code, tampered.out]).toEqual([1, expect.stringMatching(/^INVALID: HASH_MISMATCH: /)]);
    const committed = await run('bundle', 'verify', EXAMPLE_YAML, '--signature', EXAMPLE_SIG, '--trust-root', EXAMPLE_ROOT);
    expect(committed.code).toBe(0);
  });

  it('sign refuses a bundle that fails lint', async () => {
    writeFileSync(p('broken.yaml'), readFileSync(EXAMPLE_YAML, 'utf8').replace('when: "args.amountCents <= 50000"', 'when: "args.amountCents <="'));
    const r = await run('bundle', 'sign', p('broken.yaml'), '--key', p('signer.key'));
    expect([r.code, r.err]).toEqual([1, expect.stringContaining('ERR_CEL')]);
  });

  it('lint: 0 for the example (warnings allowed), 1 for errors, 2 for a missing file', async () => {
    const ok = await run('bundle', 'lint', EXAMPLE_YAML);
    expect([ok.code, ok.out]).toEqual([0, expect.stringContaining('0 error(s)')]);
    const bad = await run('bundle', 'lint', p('broken.yaml'), '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).errors[0]).toMatchObject({ code: 'ERR_CEL', path: expect.stringMatching(/^\/rules\/\d+\/when$/) });
    writeFileSync(p('dup.yaml'), 'a: 1\na: 2\n');
    expect(await run('bundle', 'lint', p('dup.yaml'))).toMatchObject({ code: 1, out: expect.stringContaining('ERR_BUNDLE_PARSE') });
    expect((await run('bundle', 'lint', p('nope.yaml'))).code).toBe(2);
  });

  it('test runs the fixtures: 0 when all pass, 1 when one fails', async () => {
    const ok = await run('bundle', 'test', EXAMPLE_YAML);
    expect([ok.code, ok.out]).toEqual([0, expect.stringContaining('3 passed, 0 failed')]);
    writeFileSync(p('wrong-fixture.yaml'), readFileSync(EXAMPLE_YAML, 'utf8').replace('expect: { verdict: DENY, reasonCode: CAPABILITY_VIOLATION }', 'expect: { verdict: ALLOW }'));
    const bad = await run('bundle', 'test', p('wrong-fixture.yaml'));
    expect([bad.code, bad.out]).toEqual([1, expect.stringMatching(/FAIL auditor cannot update tickets: expected ALLOW, got DENY CAPABILITY_VIOLATION/)]);
  });

  it('compose narrows the base, and refuses an overlay that widens it', async () => {
    writeFileSync(p('overlay.yaml'), overlayYaml('rules:\n  - { id: no-vip, match: { tools: [crm.lookup_customer] }, when: "has(args.email)", verdict: DENY }'));
    const r = await run('bundle', 'compose', EXAMPLE_YAML, p('overlay.yaml'), '--out', p('composed.json'));
    expect(r.code).toBe(0);
    const composed = parseBundleText(readFileSync(p('composed.json'), 'utf8'));
    expect(r.err).toContain(`composed ${bundleContentHash(composed, nodeSuite)} from 2 documents`);
    expect((await run('bundle', 'lint', p('composed.json'))).code).toBe(0);
    writeFileSync(p('widen.yaml'), overlayYaml('grants:\n  - { id: junior-agents, principals: { roles: [junior] }, domains: [tickets, kb, crm], profile: write-limited }'));
    const w = await run('bundle', 'compose', EXAMPLE_YAML, p('widen.yaml'));
    expect([w.code, w.err]).toEqual([1, expect.stringMatching(/^refused: overlay 1 \(.*widen\.yaml\) \/grants/)]);
  });

  it.each([[['bundle']], [['bundle', 'frob']], [['bundle', 'hash']], [['bundle', 'sign', EXAMPLE_YAML]], [['bundle', 'verify', EXAMPLE_YAML, '--signature', 'x']], [['bundle', 'compose', EXAMPLE_YAML]], [['bundle', 'lint', EXAMPLE_YAML, '--nope']]])('usage error %j exits 2', async (argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: ');
  });
});

describe('helmctl approve against a real PEP', () => {
  it('signs the challenge of an escalation; the PEP accepts it and lets the retry through once', async () => {
    await run('keygen', '--name', 'manager-ann', '--out', p('ann.key'));
    await run('keygen', '--name', 'manager-ben', '--out', p('ben.key'));
    const vk = (f: string) => readFileSync(p(f), 'utf8').trim();
    const lab = await Lab.create();
    try {
      const h = await lab.harness('cli-approve', { policy: signed(pepBundle((d) => (d.approvals!.manager!.approvers = [vk('ann.key.pub'), vk('ben.key.pub')]))) });
      const e = await h.pep.decide(refund(20000));
      writeFileSync(p('challenge.json'), JSON.stringify(e.challenge));
      h.clock.advance(61_000);
      const ann = await run('approve', '--key', p('ann.key'), '--challenge', p('challenge.json'));
      expect(ann.code).toBe(0);
      const sub = JSON.parse(ann.out);
      expect(verifyApproval(sub, parseVerifierKey(vk('ann.key.pub')), nodeSuite)).toBe(true);
      expect(await h.pep.approve(sub)).toMatchObject({ accepted: true, approvals: 1 });
      const ch = e.challenge!;
      const ben = await run('approve', '--key', p('ben.key'), '--decision', ch.decision, '--policy-digest', ch.policyDigest, '--nonce', ch.nonce, '--out', p('ben.json'));
      expect(ben.code).toBe(0);
      expect(await h.pep.approve(JSON.parse(readFileSync(p('ben.json'), 'utf8')))).toMatchObject({ accepted: true, approvals: 2 });
      h.clock.advance(30_000);
      expect(await h.pep.decide(refund(20000))).toMatchObject({ verdict: 'ALLOW', reasonCode: 'APPROVAL_GRANTED' });
      const rejected = await run('approve', '--key', p('ben.key'), '--challenge', p('challenge.json'), '--reject');
      expect(JSON.parse(rejected.out).verdict).toBe('reject');

      await lab.close();
      await exportPack({ store: lab.root, exporterKey: lab.keys.exporter, out: p('pep.tar.gz') });
      const replayed = await run('replay', p('pep.tar.gz'));
      expect([replayed.code, replayed.out]).toEqual([0, expect.stringContaining('decisions re-evaluated from recorded inputs under their pinned bundles: 2 (2 identical, 0 diverged, 0 skipped)')]);
      writeFileSync(p('what-if.yaml'), JSON.stringify(pepBundle((d) => (d.rules = d.rules.filter((r) => r.id !== 'escalate-large-refund')))));
      const whatIf = await run('replay', p('pep.tar.gz'), '--bundle', p('what-if.yaml'));
      expect([whatIf.code, whatIf.out]).toEqual([1, expect.stringContaining('ERR_REPLAY_DIVERGENCE')]);
    } finally {
      await lab.cleanup();
    }
  });

  it.each([[['approve']], [['approve', '--key', 'k']], [['approve', '--key', 'k', '--decision', 'sha256:00', '--policy-digest', 'x', '--nonce', 'n']], [['approve', '--key', 'k', '--challenge', 'c', '--nonce', 'AAAAAAAAAAAAAAAAAAAAAA']]])('usage error %j exits 2', async (argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: ');
  });
});

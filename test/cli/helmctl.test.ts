import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromText } from '../../kernel/crypto/signing-key.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyTlogProof } from '../../kernel/proofgraph/tlog-proof.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { TrustRegistry } from '../../kernel/trust/registry.js';
import { main } from '../../cli/helmctl.js';
import { buildStore, tempDir } from '../evidence/fixtures.js';
import { repack } from '../evidence/tamper.js';
import { rawMember } from '../evidence/variants.js';
import { gzipDeterministic } from '../../kernel/evidence/gzip-node.js';
import { repoRoot } from '../support/shared.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const store = await buildStore({ writers: { 'sidecar-a': 'helm.test/log-a', 'sidecar-b': 'helm.test/log-b' }, crossLog: true, calls: 4 });
const tmp = await tempDir('helm-cli-');
const p = (name: string) => join(tmp.dir, name);
afterAll(async () => {
  await store.cleanup();
  await tmp.cleanup();
});

// An exporter key made by the CLI, and a policy trusting it plus the store's log and root keys.
const exporterGen = await run('keygen', '--name', 'ops-exporter', '--type', 'exporter', '--out', p('exporter.key'));
const logLines = Object.values(store.keys.logs).map((k) => `log ${k.log.verifier.vkey}`);
writeFileSync(p('policy.txt'), [...logLines, 'quorum none', `root ${store.keys.root.verifier.vkey}`, `exporter ${readFileSync(p('exporter.key.pub'), 'utf8').trim()}`].join('\n') + '\n');
const exported = await run('export', '--store', store.root, '--out', p('pack.tar.gz'), '--key', p('exporter.key'));

describe('helmctl keygen', () => {
  it('writes the private key with mode 0600 and the vkey in FILE.pub', () => {
    expect(exporterGen.code).toBe(0);
    const priv = readFileSync(p('exporter.key'), 'utf8');
    expect(priv).toMatch(/^PRIVATE\+KEY\+ops-exporter\+[0-9a-f]{8}\+/);
    expect(statSync(p('exporter.key')).mode & 0o777).toBe(0o600);
    const vkey = readFileSync(p('exporter.key.pub'), 'utf8').trim();
    expect(signingKeyFromText(priv.trim(), nodeSigner).verifier.vkey).toBe(vkey);
    expect(exporterGen.out.trim()).toBe(vkey);
  });

  it('makes witness keys with the cosignature algorithm (type 4)', async () => {
    const r = await run('keygen', '--name', 'witness-x', '--type', 'witness', '--out', p('w.key'));
    expect(r.code).toBe(0);
    expect(parseVerifierKey(readFileSync(p('w.key.pub'), 'utf8')).alg).toBe(4);
    expect(parseVerifierKey(r.out.trim()).alg).toBe(4);
  });

  it('refuses to overwrite without --force', async () => {
    const before = readFileSync(p('exporter.key'), 'utf8');
    const r = await run('keygen', '--name', 'other', '--out', p('exporter.key'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists \(use --force/);
    expect(readFileSync(p('exporter.key'), 'utf8')).toBe(before);
    await run('keygen', '--name', 'x', '--out', p('x.key'));
    const forced = await run('keygen', '--name', 'x2', '--out', p('x.key'), '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(p('x.key'), 'utf8')).toMatch(/^PRIVATE\+KEY\+x2\+/);
    expect(statSync(p('x.key')).mode & 0o777).toBe(0o600);
  });
});

describe('helmctl export / verify / replay', () => {
  it('exports and prints the sha256 and counts', () => {
    expect(exported.code).toBe(0);
    const sha = nodeSuite.sha256(readFileSync(p('pack.tar.gz')));
    expect(exported.out).toContain(`sha256 ${Buffer.from(sha).toString('hex')}`);
    expect(exported.out).toContain('log sidecar-a (helm.test/log-a): entries 0..20 (21)');
  });

  it('verify: exit 0 with a verdict, per-log summary and key sources', async () => {
    const r = await run('verify', p('pack.tar.gz'), '--trust-policy', p('policy.txt'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VALID: /);
    expect(r.out).toContain('sidecar-a (origin helm.test/log-a): entries 0..20 (21)');
    expect(r.out).toContain(`exporter key ops-exporter+`);
    expect(r.out).toMatch(/node key node-helm-test-log-a\+[0-9a-f]{8} for helm.test\/log-a \(valid from index 0\): root key -> KEY_PUBLISH logs\/sidecar-a\/entries.jsonl index 1/);
    const j = await run('verify', p('pack.tar.gz'), '--trust-policy', p('policy.txt'), '--json', '--workers', '0');
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, readable: true, problems: [] });
  });

  it('verify: exit 1 for a tampered pack, naming the first bad record and listing all problems', async () => {
    const bytes = readFileSync(p('pack.tar.gz'));
    const tampered = repack(bytes, (files) => {
      const path = 'logs/sidecar-b/entries.jsonl';
      const text = new TextDecoder().decode(files.get(path)!);
      const ls = text.split('\n');
      ls[7] = ls[7]!.replace(/"sig":"(.)/, (_m, c: string) => `"sig":"${c === 'A' ? 'B' : 'A'}`);
      files.set(path, new TextEncoder().encode(ls.join('\n')));
    });
    writeFileSync(p('tampered.tar.gz'), tampered);
    const r = await run('verify', p('tampered.tar.gz'), '--trust-policy', p('policy.txt'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^INVALID: /);
    expect(r.out).toMatch(/first bad record: logs\/sidecar-b\/entries.jsonl index 7: ERR_NODE_(BAD_SIGNATURE|MALFORMED): /);
    expect(r.out).toMatch(/problems \(\d+\):\n.*ERR_MANIFEST_FILE_DIGEST/s);
  });

  it('verify: exit 1 for a ../ member or a symlink (unsafe but readable), 2 for unreadable input', async () => {
    const member = (name: string, type: string) => gzipDeterministic(new Uint8Array([...rawMember(name, type, new Uint8Array(0), type === '2' ? '/etc/passwd' : ''), ...new Uint8Array(1024)]));
    writeFileSync(p('dotdot.tar.gz'), member('../../etc/cron.d/x', '0'));
    writeFileSync(p('symlink.tar.gz'), member('logs/a/entries.jsonl', '2'));
    const dotdot = await run('verify', p('dotdot.tar.gz'), '--trust-policy', p('policy.txt'));
    expect([dotdot.code, dotdot.out]).toEqual([1, expect.stringContaining('ERR_PACK_UNSAFE_PATH')]);
    const sym = await run('verify', p('symlink.tar.gz'), '--trust-policy', p('policy.txt'));
    expect([sym.code, sym.out]).toEqual([1, expect.stringContaining('ERR_PACK_UNSAFE_ENTRY')]);
    writeFileSync(p('not-a-pack'), 'hello\n');
    expect((await run('verify', p('not-a-pack'), '--trust-policy', p('policy.txt'))).code).toBe(2);
    expect((await run('verify', p('missing.tar.gz'), '--trust-policy', p('policy.txt'))).code).toBe(2);
    writeFileSync(p('bad-policy.txt'), 'log not-a-key\n');
    const bad = await run('verify', p('pack.tar.gz'), '--trust-policy', p('bad-policy.txt'));
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('ERR_POLICY_SYNTAX')]);
  });

  it('verify --max-pack-mib sets the memory bound: a member over it is ERR_PACK_LIMIT, exit 2', async () => {
    // A 2 MiB member (zeros) is within the default bound (a readable pack without a manifest) and over 1 MiB.
    const big = new Uint8Array([...rawMember('logs/a/entries.jsonl', '0', new Uint8Array(2 * 1024 * 1024)), ...new Uint8Array(1024)]);
    writeFileSync(p('big.tar.gz'), gzipDeterministic(big));
    const dflt = await run('verify', p('big.tar.gz'), '--trust-policy', p('policy.txt'));
    expect([dflt.code, dflt.out]).toEqual([1, expect.stringContaining('ERR_MANIFEST_MISSING')]);
    const capped = await run('verify', p('big.tar.gz'), '--trust-policy', p('policy.txt'), '--max-pack-mib', '1');
    expect([capped.code, capped.out]).toEqual([2, expect.stringContaining('ERR_PACK_LIMIT')]);
    expect((await run('verify', p('pack.tar.gz'), '--trust-policy', p('policy.txt'), '--max-pack-mib', '1')).code).toBe(0);
    expect((await run('verify', p('pack.tar.gz'), '--trust-policy', p('policy.txt'), '--max-pack-mib', '0')).code).toBe(2);
  });

  it('replay: lists causal chains', async () => {
    const r = await run('replay', p('pack.tar.gz'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('sidecar-a-call-0 (files.read): intent helm.test/log-a#2 -> decision helm.test/log-a#3 ALLOW RULE_ALLOW -> effect helm.test/log-a#4 executed -> result helm.test/log-a#5 ok');
    const j = JSON.parse((await run('replay', p('pack.tar.gz'), '--json')).out);
    expect(j.chains).toHaveLength(9);
  });
});

describe('usage errors exit 2 and print usage', () => {
  it.each([
    [[]],
    [['frobnicate']],
    [['verify']],
    [['verify', 'x.tar.gz']],
    [['export', '--out', 'x']],
    [['keygen', '--name', 'a+b', '--out', 'k']],
    [['keygen', '--name', 'n', '--out', 'k', '--type', 'nope']],
    [['verify', 'a', 'b', '--trust-policy', 'p']],
    [['proof', '--store', 's', '--log', 'a', '--index', '-1']],
    [['trust', 'promote', '--root-key', 'r', '--origin', 'o', '--from-index', '0', '--out', 'x', '--key', 'k']],
  ])('%j', async (argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/usage: helmctl/);
  });
});

describe('helmctl trust', () => {
  it('publish, rotate and revoke produce root-signed events the trust registry accepts', async () => {
    for (const [name, type] of [['root', 'root'], ['n1', 'node'], ['n2', 'node']] as const) expect((await run('keygen', '--name', name, '--type', type, '--out', p(`${name}.key`))).code).toBe(0);
    const common = ['--root-key', p('root.key'), '--origin', 'helm.test/log-a', '--issued-at', '2026-11-22T00:00:00Z'];
    expect((await run('trust', 'publish', ...common, '--key', p('n1.key'), '--from-index', '0', '--out', p('pub.json'))).code).toBe(0);
    expect((await run('trust', 'rotate', ...common, '--key', p('n1.key'), '--new-key', p('n2.key'), '--from-index', '10', '--out', p('rot.json'))).code).toBe(0);
    const rev = await run('trust', 'revoke', ...common, '--key', p('n2.key.pub'), '--from-index', '20', '--reason', 'key leaked', '--out', p('rev.json'));
    expect(rev.code).toBe(0);
    expect(rev.out).toMatch(/KEY_REVOKE n2\+[0-9a-f]{8}\+\S+ for helm.test\/log-a from index 20, signed by root\+/);
    const root = parseVerifierKey(readFileSync(p('root.key.pub'), 'utf8'));
    const reg = new TrustRegistry(nodeSuite, root);
    for (const f of ['pub.json', 'rot.json', 'rev.json']) reg.apply(JSON.parse(readFileSync(p(f), 'utf8')), f);
    const n1 = parseVerifierKey(readFileSync(p('n1.key.pub'), 'utf8')).handle;
    const n2 = parseVerifierKey(readFileSync(p('n2.key.pub'), 'utf8')).handle;
    expect(reg.resolve(n1, 'helm.test/log-a', 5).ok).toBe(true);
    expect(reg.resolve(n1, 'helm.test/log-a', 10)).toMatchObject({ ok: false, code: 'KEY_ROTATED' });
    expect(reg.resolve(n2, 'helm.test/log-a', 15).ok).toBe(true);
    expect(reg.resolve(n2, 'helm.test/log-a', 20)).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
    // A root that is not the policy root is refused.
    expect(() => new TrustRegistry(nodeSuite, parseVerifierKey(readFileSync(p('n2.key.pub'), 'utf8'))).apply(JSON.parse(readFileSync(p('pub.json'), 'utf8')), 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_TRUST_EVENT_UNAUTHORISED' }),
    );
  });
});

describe('helmctl proof', () => {
  it('prints a tlog-proof that verifies for the entry against the trust policy', async () => {
    const r = await run('proof', '--store', store.root, '--log', 'sidecar-a', '--index', '5');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^c2sp.org\/tlog-proof@v1\nindex 5\n/);
    const entry = (await readLog(join(store.root, 'sidecar-a'))).entries[5]!;
    const policy = parseTrustPolicy(readFileSync(p('policy.txt'), 'utf8'), 'policy.txt');
    expect(verifyTlogProof(r.out, entry, policy, nodeSuite)).toMatchObject({ index: 5, checkpoint: { size: 7 } });
    const other = (await readLog(join(store.root, 'sidecar-a'))).entries[6]!;
    expect(() => verifyTlogProof(r.out, other, policy, nodeSuite)).toThrow(expect.objectContaining({ code: 'ERR_TLOG_PROOF_INCLUSION' }));
    expect((await run('proof', '--store', store.root, '--log', 'sidecar-a', '--index', '500')).code).toBe(2);
  });
});

describe('helmctl as a process', () => {
  it('runs from its shebang entry and exits with the verdict code', () => {
    const cli = join(repoRoot, 'cli', 'helmctl.ts');
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const ok = spawnSync(process.execPath, ['--import', 'tsx', cli, 'verify', p('pack.tar.gz'), '--trust-policy', p('policy.txt')], { encoding: 'utf8', cwd: repoRoot });
    expect([ok.status, ok.stdout.split('\n')[0]]).toEqual([0, `VALID: ${p('pack.tar.gz')}`]);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, 'verify', p('dotdot.tar.gz'), '--trust-policy', p('policy.txt')], { encoding: 'utf8', cwd: repoRoot });
    expect(bad.status).toBe(1);
    const usage = spawnSync(process.execPath, ['--import', 'tsx', cli], { encoding: 'utf8', cwd: repoRoot });
    expect(usage.status).toBe(2);
  });
});

describe('command catalog', () => {
  it('each entry loads the command it names', async () => {
    const { COMMANDS } = await import('../../cli/commands/catalog.js');
    for (const e of COMMANDS) expect((await e.load()).name).toBe(e.name);
  });
});

// helmctl trust publish --purpose log: the root's certification of a log key, as a verifier reads it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as helmctl } from '../../cli/helmctl.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { TrustRegistry } from '../../kernel/trust/index.js';
import { testKey } from '../evidence/fixtures.js';

it('trust publish --purpose log writes a log-key certification the registry lists for the origin; other actions refuse it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'helm-trust-'));
  try {
    const root = testKey('helm/root');
    const log = testKey('helm/cluster/ns/uid/boot');
    await writeFile(join(dir, 'root.key'), `${root.privateText}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'log.key'), `${log.privateText}\n`, { mode: 0o600 });
    let err = '';
    const io = { stdout: { write: () => undefined }, stderr: { write: (t: string) => void (err += t) } };
    const base = ['--root-key', join(dir, 'root.key'), '--key', join(dir, 'log.key'), '--origin', log.verifier.name, '--from-index', '0'];
    expect(await helmctl(['trust', 'publish', '--purpose', 'log', ...base, '--out', join(dir, 'cert.json')], io)).toBe(0);
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(JSON.parse(await readFile(join(dir, 'cert.json'), 'utf8')), 'cert.json');
    expect(reg.logKeys().map((k) => [k.origin, k.key.handle])).toEqual([[log.verifier.name, log.verifier.handle]]);
    expect(await helmctl(['trust', 'revoke', '--purpose', 'log', ...base, '--out', join(dir, 'x.json')], io)).toBe(2);
    expect(await helmctl(['trust', 'publish', '--purpose', 'log', ...base.slice(0, -2), '--from-index', '3', '--out', join(dir, 'y.json')], io)).toBe(2);
    expect(err).toMatch(/ERR_TRUST_EVENT_INVALID/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

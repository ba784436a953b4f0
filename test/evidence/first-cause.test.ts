// The first problem a verifier reports is the cause (issue 10 item 10): after a verdict is flipped or
// an entry dropped, the entry comes first, before consequences such as an input blob that no node
// references any more.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { Lab, lookup, req } from '../pep/support.js';
import { joinLines, lines, repack } from './tamper.js';

const dec = new TextDecoder();
const enc = new TextEncoder();
const ENTRIES = 'logs/sidecar-a/entries.jsonl';

function payloadOf(line: Uint8Array): string {
  return Buffer.from(JSON.parse(dec.decode(line)).payload, 'base64').toString();
}

describe('first bad record is the cause', () => {
  const lab = Lab.create();
  let pack: Uint8Array;
  let policy: ReturnType<typeof parseTrustPolicy>;
  let exporter: Awaited<typeof lab>['keys']['exporter'];
  beforeAll(async () => {
    const l = await lab;
    const h = await l.harness('sidecar-a');
    await h.pep.decide(lookup());
    await h.pep.decide(req('shell.exec', { cmd: 'rm -rf /' }));
    await h.pep.decide(lookup({ callId: 'call-3' }));
    await l.close();
    pack = (await exportPack({ store: l.root, exporterKey: l.keys.exporter })).bytes;
    policy = parseTrustPolicy(l.policyText(), 'lab.policy');
    exporter = l.keys.exporter;
  });
  afterAll(async () => (await lab).cleanup());

  const denyIndex = (files: Map<string, Uint8Array>): number => lines(files.get(ENTRIES)!).findIndex((l) => payloadOf(l).includes('"verdict":"DENY"'));

  it('the fixture pack verifies and has a DENY', async () => {
    const r = await verifyPack(pack, policy, { suite: nodeSuite });
    expect(r.problems).toEqual([]);
  });

  it.each([
    ['manifest re-signed', true],
    ['manifest left as it was', false],
  ])('a DENY flipped to ALLOW (%s): the entry is named first', async (_name, resign) => {
    let at = -1;
    const bad = repack(pack, (f) => {
      const ls = lines(f.get(ENTRIES)!);
      at = denyIndex(f);
      const env = JSON.parse(dec.decode(ls[at]!));
      env.payload = Buffer.from(payloadOf(ls[at]!).replace('"verdict":"DENY"', '"verdict":"ALLOW"')).toString('base64');
      ls[at] = enc.encode(JSON.stringify(env));
      f.set(ENTRIES, joinLines(ls));
    }, resign ? { resign: exporter } : {});
    const r = await verifyPack(bad, policy, { suite: nodeSuite });
    expect(at).toBeGreaterThan(0);
    expect(r.problems.map((p) => p.code)).toContain('ERR_PACK_UNEXPECTED_FILE');
    expect(r.firstProblem).toMatchObject({ file: ENTRIES, index: at });
  });

  it('an entry dropped: the entry is named first', async () => {
    let at = -1;
    const bad = repack(pack, (f) => {
      at = denyIndex(f);
      f.set(ENTRIES, joinLines(lines(f.get(ENTRIES)!).filter((_, i) => i !== at)));
    }, { resign: exporter });
    const r = await verifyPack(bad, policy, { suite: nodeSuite });
    expect(r.problems.map((p) => p.code)).toContain('ERR_PACK_UNEXPECTED_FILE');
    expect(r.firstProblem).toMatchObject({ code: 'ERR_NODE_INDEX', file: ENTRIES, index: at });
  });
});

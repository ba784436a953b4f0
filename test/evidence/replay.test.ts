import { nodeSuite } from '../../kernel/crypto/node.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { replayPack } from '../../kernel/evidence/replay.js';
import { buildStore } from './fixtures.js';
import { joinLines, lines, loadSources, packFromSources, repack } from './tamper.js';

const store = await buildStore({ writers: { 'sidecar-a': 'helm.test/log-a', 'sidecar-b': 'helm.test/log-b' }, crossLog: true, calls: 3 });
afterAll(() => store.cleanup());
const pack = packFromSources(await loadSources(store.root), store.keys.exporter);

describe('replayPack', () => {
  it('re-derives every node without a trust policy and lists the causal chains', () => {
    const r = replayPack(pack, { suite: nodeSuite });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.logs.map((l) => [l.dir, l.entries])).toEqual([
      ['sidecar-a', 16],
      ['sidecar-b', 17],
    ]);
    const a0 = r.chains.find((c) => c.callId === 'sidecar-a-call-0')!;
    expect(a0).toMatchObject({
      tool: 'files.read',
      complete: true,
      intent: { origin: 'helm.test/log-a', index: 2, lamport: 3 },
      decision: { index: 3, verdict: 'ALLOW', reasonCode: 'RULE_ALLOW', lamport: 4 },
      effect: { index: 4, status: 'executed', confirmed: true },
      result: { index: 5, status: 'ok' },
    });
    const denied = r.chains.find((c) => c.callId === 'sidecar-a-call-2')!;
    expect(denied.decision).toMatchObject({ verdict: 'DENY' });
    expect(r.chains.map((c) => c.callId)).toEqual([
      'sidecar-a-call-0',
      'sidecar-a-call-1',
      'sidecar-a-call-2',
      'x-sidecar-b',
      'sidecar-b-call-0',
      'sidecar-b-call-1',
      'sidecar-b-call-2',
    ]);
    // the relayed intent in log B has a cross-log parent in log A and no decision of its own
    expect(r.chains[3]).toMatchObject({ intent: { origin: 'helm.test/log-b' }, decision: null, complete: false });
  });

  it('gives the same answer with the portable suite', () => {
    expect(replayPack(pack, { suite: portableSuite })).toEqual(replayPack(pack, { suite: nodeSuite }));
  });

  it('finds a broken prev chain and Lamport value where the entries were reordered', () => {
    const bad = repack(pack, (f) => {
      const ls = lines(f.get('logs/sidecar-a/entries.jsonl')!);
      [ls[6], ls[7]] = [ls[7]!, ls[6]!];
      f.set('logs/sidecar-a/entries.jsonl', joinLines(ls));
    });
    const r = replayPack(bad, { suite: nodeSuite });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['ERR_NODE_INDEX', 'ERR_NODE_PREV', 'ERR_ROOT_MISMATCH', 'ERR_MANIFEST_FILE_DIGEST']));
    expect(r.problems.find((p) => p.index !== undefined)).toMatchObject({ file: 'logs/sidecar-a/entries.jsonl', index: 6 });
  });

  it('reports an unreadable pack as such', () => {
    const r = replayPack(new Uint8Array([1, 2, 3]), { suite: nodeSuite });
    expect(r).toMatchObject({ ok: false, readable: false, problems: [{ code: 'ERR_PACK_NOT_GZIP' }] });
  });
});

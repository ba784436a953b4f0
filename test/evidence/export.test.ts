import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { parseManifest } from '../../kernel/evidence/manifest.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { ExportError, planWindow } from '../../kernel/evidence/window.js';
import { buildStore, policyFor, tempDir } from './fixtures.js';
import { loadSources, unpack } from './tamper.js';

const store = await buildStore({ writers: { 'sidecar-a': 'helm.test/log-a', 'sidecar-b': 'helm.test/log-b' }, crossLog: true, calls: 8, checkpointEvery: 7 });
const out = await tempDir('helm-export-');
afterAll(async () => {
  await store.cleanup();
  await out.cleanup();
});

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as ExportError).code;
  }
  return 'no error';
}

describe('exportPack', () => {
  it('is deterministic: the same store exported twice gives the same bytes and sha256', async () => {
    const file = join(out.dir, 'p1.tar.gz');
    const a = await exportPack({ store: store.root, out: file, exporterKey: store.keys.exporter });
    const b = await exportPack({ store: store.root, exporterKey: store.keys.exporter });
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.sha256).toBe(a.sha256);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(Buffer.from(await readFile(file)).equals(Buffer.from(a.bytes))).toBe(true);
  });

  it('writes the v1 layout: manifest of every other file, each stored checkpoint, proofs between consecutive ones', async () => {
    const r = await exportPack({ store: store.root, exporterKey: store.keys.exporter });
    const files = unpack(r.bytes);
    const m = parseManifest(files.get('MANIFEST.json')!);
    expect(m).toEqual(r.manifest);
    expect(m.files.map((f) => f.path).sort()).toEqual([...files.keys()].filter((p) => !p.startsWith('MANIFEST')).sort());
    expect(m.logs.map((l) => [l.dir, l.from, l.size])).toEqual([
      ['sidecar-a', 0, 39],
      ['sidecar-b', 0, 40],
    ]);
    expect([...files.keys()].filter((p) => p.startsWith('logs/sidecar-a/')).sort()).toEqual(
      [
        'logs/sidecar-a/checkpoints/2.note',
        'logs/sidecar-a/checkpoints/7.note',
        'logs/sidecar-a/checkpoints/14.note',
        'logs/sidecar-a/checkpoints/21.note',
        'logs/sidecar-a/checkpoints/28.note',
        'logs/sidecar-a/checkpoints/35.note',
        'logs/sidecar-a/checkpoints/39.note',
        'logs/sidecar-a/consistency/2-7',
        'logs/sidecar-a/consistency/7-14',
        'logs/sidecar-a/consistency/14-21',
        'logs/sidecar-a/consistency/21-28',
        'logs/sidecar-a/consistency/28-35',
        'logs/sidecar-a/consistency/35-39',
        'logs/sidecar-a/entries.jsonl',
        'logs/sidecar-a/range-proof',
      ].sort(),
    );
    expect(files.get('logs/sidecar-a/range-proof')!.length).toBe(0);
    const sources = await loadSources(store.root);
    const lines = new TextDecoder().decode(files.get('logs/sidecar-a/entries.jsonl')!).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual(sources[0]!.entries.map((e) => new TextDecoder().decode(e)));
    expect(r.logs[0]).toEqual({ dir: 'sidecar-a', origin: 'helm.test/log-a', from: 0, size: 39, entries: 39, checkpoints: 7 });
  });

  it('selects by time: from the first selected entry to the first checkpoint covering the last one', async () => {
    const sources = await loadSources(store.root);
    const times = sources[0]!.entries.map((e) => decodeNode(nodeSuite, e).statement.predicate.time);
    // entries 16..24 of log A; log B is later and not selected at all
    const r = await exportPack({ store: store.root, exporterKey: store.keys.exporter, from: times[16]!, to: times[24]! });
    expect(r.manifest.selection).toEqual({ from: times[16], to: times[24] });
    expect(r.logs).toEqual([{ dir: 'sidecar-a', origin: 'helm.test/log-a', from: 16, size: 28, entries: 12, checkpoints: 3 }]);
    expect(r.notes).toEqual(['log sidecar-b: no entry in the selected time range']);
    const files = unpack(r.bytes);
    expect([...files.keys()].filter((p) => !p.endsWith('entries.jsonl') && !p.endsWith('range-proof') && !p.startsWith('MANIFEST')).sort()).toEqual(
      [
        'logs/sidecar-a/checkpoints/14.note',
        'logs/sidecar-a/checkpoints/21.note',
        'logs/sidecar-a/checkpoints/28.note',
        'logs/sidecar-a/consistency/14-21',
        'logs/sidecar-a/consistency/21-28',
        // before the window: the trust node, the latest heartbeat and the entry just before it
        'logs/sidecar-a/prior/1.entry',
        'logs/sidecar-a/prior/1.proof',
        'logs/sidecar-a/prior/10.entry',
        'logs/sidecar-a/prior/10.proof',
        'logs/sidecar-a/prior/15.entry',
        'logs/sidecar-a/prior/15.proof',
      ].sort(),
    );
    expect(files.get('logs/sidecar-a/range-proof')!.length).toBeGreaterThan(0);
    const v = await verifyPack(r.bytes, policyFor(store.keys), { suite: nodeSuite });
    expect(v.problems).toEqual([]);
    // The prior entries let the verifier check the first node's prev, Lamport and silence too.
    expect(v.warnings).toEqual([]);
    expect(v.logs[0]!.prior).toEqual([1, 10, 15]);
  });

  it('accepts RFC 3339 offsets and refuses bad or reversed selections', async () => {
    const r = await exportPack({ store: store.root, exporterKey: store.keys.exporter, from: '2026-11-22T01:00:30+01:00' });
    expect(r.manifest.selection).toEqual({ from: '2026-11-22T00:00:30.000Z' });
    expect(r.logs.map((l) => l.dir)).toEqual(['sidecar-b']);
    expect(await errorCode(exportPack({ store: store.root, exporterKey: store.keys.exporter, from: 'yesterday' }))).toBe('ERR_EXPORT_SELECTION');
    expect(await errorCode(exportPack({ store: store.root, exporterKey: store.keys.exporter, from: '2026-02-30T00:00:00Z' }))).toBe('ERR_EXPORT_SELECTION');
    expect(await errorCode(exportPack({ store: store.root, exporterKey: store.keys.exporter, from: '2026-11-23T00:00:00Z', to: '2026-11-22T00:00:00Z' }))).toBe('ERR_EXPORT_SELECTION');
    expect(await errorCode(exportPack({ store: store.root, exporterKey: store.keys.exporter, from: '2030-01-01T00:00:00Z' }))).toBe('ERR_EXPORT_NOTHING');
  });

  it('leaves out entries after the latest checkpoint and says so', async () => {
    const src = (await loadSources(store.root))[0]!;
    const plan = planWindow(nodeSuite, { ...src, checkpoints: src.checkpoints.slice(0, -1) }, {});
    expect(plan.section!.size).toBe(35);
    expect(plan.uncheckpointed).toBe(4);
    expect(plan.notes).toEqual(['log sidecar-a: 4 entries after the latest checkpoint (size 35) are not exported']);
  });

  it('refuses a store whose checkpoint does not match its entries', async () => {
    const src = (await loadSources(store.root))[0]!;
    const swapped = [...src.entries];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(() => planWindow(nodeSuite, { ...src, entries: swapped }, {})).toThrow(expect.objectContaining({ code: 'ERR_EXPORT_STORE_INCONSISTENT' }));
  });
});

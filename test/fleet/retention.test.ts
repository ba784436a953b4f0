// Local retention (HELM_SHIP_RETENTION=free-closed): a start frees only the earlier boots of the
// same pod that shipped whole (SHIPPED.json naming a checkpoint the log stored, of its whole
// length and root), never a killed boot, a log longer than its marker, another pod's log, a log a
// live writer holds, or itself; the local export of what is left still verifies. The marker being
// written after WRITER_CLOSED with the collector's cosignature is checked in shipping.test.ts.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { exportPack } from '../../kernel/evidence/export.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { addSignatures, parseNote } from '../../kernel/crypto/note.js';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { key, mirrorKey } from './fleet-support.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { WriterLock } from '../../kernel/proofgraph/store/lock.js';
import { attachShipping } from '../../sidecar/ship/attach.js';
import { freeShippedBoots, markShipped } from '../../sidecar/ship/retention.js';
import { buildStore, policyFor } from '../evidence/fixtures.js';

const POD = 'helm/c/ns/uid-1';
// A collector key with the real one's name but another key: what a forger on the volume could sign with.
const forger = key(mirrorKey.verifier.name, ALG_COSIGNATURE_V1);

async function markWhole(dir: string, shorter = false, by = mirrorKey): Promise<void> {
  const log = await readLog(dir);
  const notes = log.checkpoints.map((n) => ({ n, size: parseCheckpointText(parseNote(n).text).size }));
  const pick = shorter ? notes.find((c) => c.size < log.entries.length)! : notes.find((c) => c.size === log.entries.length)!;
  await markShipped(dir, { origin: log.origin, size: pick.size, cosignedNote: addSignatures(pick.n, [by], 1_700_000_000n) });
}

describe('local retention of shipped boots', () => {
  it('frees only earlier boots of this pod that shipped whole; what is left still exports and verifies', async () => {
    const s = await buildStore({
      writers: { b0: `${POD}/b0`, b1: `${POD}/b1`, b2: `${POD}/b2`, b3: `${POD}/b3`, b4: 'helm/c/ns/uid-2/b4', b5: `${POD}/b5`, b6: `${POD}/b6` },
      calls: 3,
      checkpointEvery: 5,
    });
    try {
      await markWhole(join(s.root, 'b1')); // shipped whole: freed
      // b2: killed, no marker: kept
      await markWhole(join(s.root, 'b3'), true); // marker below the log's length: kept
      await markWhole(join(s.root, 'b4')); // another pod (uid-2): kept
      await markWhole(join(s.root, 'b5')); // a live writer holds it: kept
      await markWhole(join(s.root, 'b0')); // itself: kept
      await markWhole(join(s.root, 'b6'), false, forger); // cosigned by a key other than the collector's: kept
      const held = await WriterLock.acquire(join(s.root, 'b5'));
      const freed = await freeShippedBoots(join(s.root, 'b0'), `${POD}/b0`, mirrorKey.verifier);
      await held.release();
      expect(freed).toEqual(['b1']);
      expect((await readdir(s.root)).sort()).toEqual(['b0', 'b2', 'b3', 'b4', 'b5', 'b6']);

      // The local export covers the logs still on the volume; the freed boot is in the bucket.
      const pack = await exportPack({ store: s.root, exporterKey: s.keys.exporter });
      expect(pack.logs.map((l) => l.origin).sort()).toEqual([`${POD}/b0`, `${POD}/b2`, `${POD}/b3`, `${POD}/b5`, `${POD}/b6`, 'helm/c/ns/uid-2/b4']);
      const report = await verifyPackNode(pack.bytes, policyFor(s.keys), { workers: 0 });
      expect(report.ok).toBe(true);
    } finally {
      await s.cleanup();
    }
  });

  it('is refused with static identity (its log is reopened by the next start), with an unknown value, and shipping without a valid collector key', async () => {
    const base = { HELM_SHIP: 'on', HELM_COLLECTOR_URL: 'http://127.0.0.1:9', HELM_COLLECTOR_VKEY: mirrorKey.verifier.vkey, HELM_FLEET_BUCKET: 'b', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', HELM_SHIP_NAMESPACE: 'ns' };
    const stub = { origin: 'o', close: async () => undefined, checkpoint: async () => '' } as never;
    const pep = { decide: async () => ({}) } as never;
    const log = { info: () => undefined, warn: () => undefined } as never;
    await expect(attachShipping({ env: { ...base, HELM_SHIP_RETENTION: 'free-closed' }, pep, writer: stub, logDir: '/nonexistent', log })).rejects.toMatchObject({ code: 'ERR_SHIP_CONFIG', message: expect.stringMatching(/HELM_IDENTITY=certified/) });
    // Without the collector's key nothing could be counted as cosigned, let alone freed: refused.
    const { HELM_COLLECTOR_VKEY: _, ...nokey } = base;
    await expect(attachShipping({ env: nokey, pep, writer: stub, logDir: '/nonexistent', log })).rejects.toMatchObject({ code: 'ERR_SHIP_CONFIG', message: expect.stringMatching(/HELM_COLLECTOR_VKEY/) });
    await expect(attachShipping({ env: { ...base, HELM_COLLECTOR_VKEY: 'not-a-key' }, pep, writer: stub, logDir: '/nonexistent', log })).rejects.toMatchObject({ code: 'ERR_SHIP_CONFIG', message: expect.stringMatching(/HELM_COLLECTOR_VKEY/) });
    await expect(attachShipping({ env: { ...base, HELM_SHIP_RETENTION: 'sometimes' }, pep, writer: stub, logDir: '/nonexistent', log })).rejects.toMatchObject({ code: 'ERR_SHIP_CONFIG' });
  });
});

// Shipper → bucket → collector → fleet log, against a real S3 server (Ceph RGW). Receipts shipped
// by simulated writers (real ProofGraph stores) must come back byte for byte and be provable in the
// fleet log; the collector answers the tlog-witness status codes and refuses every fault.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { verifyNote, parseNote } from '../../kernel/crypto/note.js';
import { decodeFleetEvent, type WriterCheckpoint } from '../../kernel/fleet/events.js';
import { FLEET_PREFIX, bundleKey, writerPrefix } from '../../kernel/fleet/layout.js';
import { encodeEntryBundle } from '../../kernel/fleet/tiles.js';
import { formatAddCheckpoint } from '../../kernel/fleet/witness-request.js';
import { openCheckpoint, parseCheckpointText, signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree, leafHash, verifyInclusion } from '../../kernel/proofgraph/merkle.js';
import { CollectorClient } from '../../sidecar/ship/collector-client.js';
import { FleetBucket, type BucketConfig } from '../../sidecar/ship/object-store.js';
import { publishGrowth, readEntries } from '../../sidecar/ship/publish.js';
import { Shipper } from '../../sidecar/ship/shipper.js';
import { signKeyEvent } from '../../kernel/trust/events.js';
import { buckets, certify, fleetKey, key, mirrorKey, relay, simWriter, startCollector, type SimWriter } from './fleet-support.js';
import { describeWithRgw, useRgw } from './rgw-support.js';
import { attachShipping } from '../../sidecar/ship/attach.js';
import { Registry } from 'prom-client';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../sidecar/log.js';
import { lookup, openHarness } from '../pep/support.js';

/** The writer's tree with every leaf: a log opened fresh (not resumed from a snapshot) keeps them all. */
function treeOf(w: { store: { tree: unknown } }): MerkleTree {
  if (!(w.store.tree instanceof MerkleTree)) throw new Error('expected a fresh log with every leaf in memory');
  return w.store.tree;
}

const post = (url: string, path: string, body: string): Promise<Response> => fetch(new URL(path, url), { method: 'POST', body });

describeWithRgw('fleet shipping through Ceph RGW', () => {
  const rgw = useRgw();

  it('ships writers × receipts; every receipt round-trips and is provable from the fleet checkpoint', async () => {
    const config = await buckets(rgw(), 'fleet-roundtrip');
    const col = await startCollector(config);
    const bucket = new FleetBucket(config);
    const writers: SimWriter[] = [];
    const shippers: Shipper[] = [];
    // CI size; the full size is HELM_FLEET_WRITERS=50 HELM_FLEET_RECEIPTS=2000 (docs/fleet.md).
    const WRITERS = Number(process.env.HELM_FLEET_WRITERS ?? 5);
    const RECEIPTS = Number(process.env.HELM_FLEET_RECEIPTS ?? 600); // > 2 full bundles plus a partial one per writer
    try {
      for (let k = 0; k < WRITERS; k++) {
        const w = await simWriter(`helm/test/ns-a/pod-${k}/boot-1`);
        writers.push(w);
        shippers.push(new Shipper({ source: w.source, bucket, collector: new CollectorClient(col.url), namespace: 'ns-a', collectorKey: mirrorKey.verifier, certification: w.certification, highWaterBytes: 1 << 30 }));
      }
      // Two shipping rounds per writer with appends in between: the second goes through a consistency proof.
      for (let round = 0; round < 2; round++) {
        await Promise.all(writers.map((w) => w.append(RECEIPTS / 2)));
        await Promise.all(shippers.map((s) => s.round()));
      }
      for (const s of shippers) expect(s.metrics).toMatchObject({ cosignedSize: RECEIPTS, unshippedBytes: 0 });
      await Promise.all(shippers.map((s) => s.close()));

      const fleetNote = col.collector.fleet.note!;
      const { checkpoint: fleetCp, verification } = openCheckpoint(fleetNote, [fleetKey.verifier, mirrorKey.verifier], nodeSuite);
      expect(verification.verified.map((v) => v.key.name).sort()).toEqual([fleetKey.verifier.name, mirrorKey.verifier.name].sort());
      const fleetLeaves = await readEntries(bucket, FLEET_PREFIX, 0, fleetCp.size);
      const fleetTree = new MerkleTree(nodeSuite);
      fleetLeaves.forEach((l) => fleetTree.appendEntry(l));
      expect(Buffer.from(fleetTree.root()).equals(Buffer.from(fleetCp.root))).toBe(true);
      const events = fleetLeaves.map(decodeFleetEvent);
      expect(events.filter((e) => e.kind === 'WRITER_OPEN')).toHaveLength(WRITERS);
      expect(events.filter((e) => e.kind === 'WRITER_CLOSED').map((e) => e.origin).sort()).toEqual(writers.map((w) => w.origin).sort());

      for (const w of writers) {
        const at = events.findLastIndex((e) => e.kind === 'CHECKPOINT' && e.origin === w.origin);
        const ev = events[at] as WriterCheckpoint;
        expect(ev.size).toBe(RECEIPTS);
        // The fleet leaf is included in the fleet checkpoint...
        expect(verifyInclusion(nodeSuite, at, fleetCp.size, leafHash(nodeSuite, fleetLeaves[at]!), fleetTree.inclusionProof(at), fleetCp.root)).toBe(true);
        // ...and carries the writer's checkpoint, signed by its log key and cosigned by the collector.
        const v = verifyNote(ev.note, [w.logKey.verifier, mirrorKey.verifier], nodeSuite);
        expect(v.verified).toHaveLength(2);
        const cp = parseCheckpointText(v.text);
        // Every receipt comes back byte for byte and is included under that checkpoint.
        const back = await readEntries(bucket, writerPrefix(nodeSuite, w.origin), 0, cp.size);
        expect(back.map((b) => Buffer.from(b).toString())).toEqual(w.receipts.map((r) => Buffer.from(r).toString()));
        const tree = new MerkleTree(nodeSuite);
        back.forEach((b) => tree.appendEntry(b));
        // All leaves hash to the cosigned root, so each has an inclusion proof; a sample is checked.
        expect(Buffer.from(tree.root()).equals(Buffer.from(cp.root))).toBe(true);
        for (const i of [0, 255, 256, 511, RECEIPTS - 1].filter((x) => x < RECEIPTS)) expect(verifyInclusion(nodeSuite, i, cp.size, leafHash(nodeSuite, back[i]!), tree.inclusionProof(i), cp.root)).toBe(true);
      }

      // A restarted collector rebuilds its state from the bucket alone.
      const again = await startCollector(config);
      expect(again.collector.list().map((w) => [w.size, w.status])).toEqual(writers.map(() => [RECEIPTS, 'closed']));
      // When each writer was last cosigned (GET /writers: the operator's ship lag), rebuilt from the fleet log.
      for (const w of again.collector.list()) expect(w.cosignedAt).toEqual(expect.any(Number));
      await again.stop();
    } finally {
      await Promise.all(writers.map((w) => w.close()));
      bucket.destroy();
      await col.stop();
    }
  }, Math.max(180_000, Number(process.env.HELM_FLEET_WRITERS ?? 5) * Number(process.env.HELM_FLEET_RECEIPTS ?? 600) * 6)); // the full size gets ~10 min

  describe('collector refusals (tlog-witness status codes) and fault injection', () => {
    let config: BucketConfig;
    let col: Awaited<ReturnType<typeof startCollector>>;
    let bucket: FleetBucket;
    let w: SimWriter;
    const cosign = async (oldSize: number, size: number, note?: string): Promise<Response> =>
      post(col.url, '/add-checkpoint', formatAddCheckpoint({ oldSize, proof: oldSize > 0 && oldSize < size ? treeOf(w).consistencyProof(oldSize, size) : [], note: note ?? signCheckpoint({ origin: w.origin, size, root: treeOf(w).root(size), extensions: [] }, w.logKey) }));
    const prefix = (): string => writerPrefix(nodeSuite, w.origin);

    beforeAll(async () => {
      config = await buckets(rgw(), 'fleet-faults');
      col = await startCollector(config);
      bucket = new FleetBucket(config);
    }, 60_000);
    afterAll(async () => {
      await w?.close();
      bucket?.destroy();
      await col?.stop();
    });

    it('400 malformed, 404 unknown origin, 403 wrong key or uncertified writer', async () => {
      w = await simWriter('helm/test/ns-f/pod-1/boot-1');
      await w.append(300);
      expect((await post(col.url, '/add-checkpoint', 'old x\n\nnope')).status).toBe(400);
      expect((await cosign(0, 300)).status).toBe(404);
      const stranger = key('helm/test/ns-f/pod-1/boot-1');
      // A certification signed by some other "root" is refused.
      const fakeRoot = key('helm-root');
        const uncertified = signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'log', origin: w.origin, key: w.logKey.verifier.vkey, fromIndex: 0, issuedAt: '2026-12-03T00:00:00.000Z' }, [fakeRoot, w.logKey]);
      expect((await post(col.url, '/writer/open', JSON.stringify({ origin: w.origin, namespace: 'ns-f', certification: uncertified }))).status).toBe(403);
      expect((await post(col.url, '/writer/open', JSON.stringify({ origin: w.origin, namespace: 'ns-f', certification: w.certification }))).status).toBe(200);
      const bySomeoneElse = signCheckpoint({ origin: w.origin, size: 300, root: treeOf(w).root(300), extensions: [] }, stranger);
      expect((await cosign(0, 300, bySomeoneElse)).status).toBe(403);
    });

    it('422 for a dropped, a reordered and a truncated bundle; 200 once the true bundles are there', async () => {
      const entries = w.receipts;
      // Dropped: nothing published.
      let r = await cosign(0, 300);
      expect(r.status).toBe(422);
      expect(await r.text()).toMatch(/ERR_READBACK_MISSING/);
      // Reordered: the edge bundle (staged, so the test can replace it) has two entries swapped.
      const edge = { level: 0, index: 1, width: 44 };
      const swapped = [...entries.slice(256, 300)];
      [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
      await publishGrowth(bucket, prefix(), treeOf(w), 0, (i) => entries[i]!);
      await bucket.putStaged(bundleKey(prefix(), edge), encodeEntryBundle(swapped));
      r = await cosign(0, 300);
      expect(r.status).toBe(422);
      expect(await r.text()).toMatch(/do not hash to the signed root/);
      // Truncated: the edge bundle loses its last byte.
      const good = encodeEntryBundle(entries.slice(256, 300));
      await bucket.putStaged(bundleKey(prefix(), edge), good.subarray(0, good.length - 1));
      r = await cosign(0, 300);
      expect(r.status).toBe(422);
      expect(await r.text()).toMatch(/ERR_READBACK_MALFORMED/);
      await bucket.putStaged(bundleKey(prefix(), edge), good);
      r = await cosign(0, 300);
      expect(r.status).toBe(200);
      expect(await r.text()).toMatch(/^\u2014 helm\/collector\/test /);
    });

    it('409 with the collector size for a stale old size; 422 for a bad consistency proof', async () => {
      await w.append(100);
      await publishGrowth(bucket, prefix(), treeOf(w), 300, (i) => w.receipts[i]!);
      const stale = await cosign(200, 400);
      expect(stale.status).toBe(409);
      expect(stale.headers.get('content-type')).toBe('text/x.tlog.size');
      expect(await stale.text()).toBe('300\n');
      const note = signCheckpoint({ origin: w.origin, size: 400, root: treeOf(w).root(400), extensions: [] }, w.logKey);
      const bad = await post(col.url, '/add-checkpoint', formatAddCheckpoint({ oldSize: 300, proof: treeOf(w).consistencyProof(299, 400), note }));
      expect(bad.status).toBe(422);
      expect((await cosign(300, 400)).status).toBe(200);
    });

    it('a forked checkpoint becomes signed equivocation evidence and quarantines the writer', async () => {
      const forkRoot = new MerkleTree(nodeSuite);
      for (let i = 0; i < 400; i++) forkRoot.appendEntry(Buffer.from(`fork ${i}`));
      const forked = signCheckpoint({ origin: w.origin, size: 400, root: forkRoot.root(), extensions: [] }, w.logKey);
      const r = await post(col.url, '/add-checkpoint', formatAddCheckpoint({ oldSize: 400, proof: [], note: forked }));
      expect(r.status).toBe(409);
      expect(col.collector.writer(w.origin)?.status).toBe('quarantined');
      const events = (await readEntries(bucket, FLEET_PREFIX, 0, col.collector.fleet.tree.size)).map(decodeFleetEvent);
      const eq = events.find((e) => e.kind === 'EQUIVOCATION');
      expect(eq).toMatchObject({ origin: w.origin });
      const evidence = JSON.parse(Buffer.from((await bucket.get((eq as { evidence: string }).evidence))!).toString());
      // Both notes verify under the writer's certified key, and they disagree on the tree of size 400.
      const a = parseCheckpointText(verifyNote(evidence.cosigned, [w.logKey.verifier], nodeSuite).text);
      const b = parseCheckpointText(verifyNote(evidence.conflicting, [w.logKey.verifier], nodeSuite).text);
      expect(a.size).toBe(b.size);
      expect(Buffer.from(a.root).equals(Buffer.from(b.root))).toBe(false);
      expect(parseNote(evidence.cosigned).signatures.map((s) => s.name)).toContain(mirrorKey.verifier.name);
      // Quarantined: even a genuine checkpoint is no longer cosigned.
      await w.append(10);
      expect((await cosign(400, 410)).status).toBe(403);
    });
  });

  it('keeps shipping through a bucket outage: the backlog grows past the high-water mark, then drains', async () => {
    const net = await relay(rgw().endpoint);
    const config = await buckets(rgw(), 'fleet-outage', net.endpoint);
    const col = await startCollector({ ...config, endpoint: rgw().endpoint });
    const bucket = new FleetBucket(config);
    const w = await simWriter('helm/test/ns-o/pod-1/boot-1');
    const errors: unknown[] = [];
    const s = new Shipper({ source: w.source, bucket, collector: new CollectorClient(col.url), namespace: 'ns-o', collectorKey: mirrorKey.verifier, certification: w.certification, highWaterBytes: 20_000, onError: (e) => errors.push(e) });
    try {
      await w.append(50);
      await s.round();
      expect(s.overHighWater).toBe(false);
      net.cut();
      await w.append(400);
      await expect(s.round()).rejects.toMatchObject({ code: 'ERR_OBJECT_STORE' });
      expect(s.overHighWater).toBe(true);
      expect(s.metrics.cosignedSize).toBe(50);
      expect(s.metrics.unshippedBytes).toBeGreaterThan(20_000);
      net.restore();
      await s.round();
      expect(s.overHighWater).toBe(false);
      expect(s.metrics).toMatchObject({ cosignedSize: 450, unshippedBytes: 0, shipLagSeconds: 0 });
    } finally {
      await w.close();
      bucket.destroy();
      await col.stop();
      await net.close();
    }
  }, 120_000);

  it('a sidecar with shipping on (attachShipping, as serve wires it): allows until the high-water mark while the bucket is down, denies RECEIPT_BACKLOG with receipts, ships everything and closes', async () => {
    const net = await relay(rgw().endpoint);
    const config = await buckets(rgw(), 'fleet-sidecar');
    const col = await startCollector(config);
    const h = await openHarness();
    try {
      const origin = h.writer.origin;
      // The operator's certification of the log key, recorded in the log as the certifier does.
      await h.writer.append('trust', { event: certify(origin, h.keys.logs[origin]!.log) as Record<string, unknown> }, { subjectName: `log/${origin}` });
      const env = {
        HELM_SHIP: 'on',
        HELM_COLLECTOR_URL: col.url,
        HELM_COLLECTOR_VKEY: mirrorKey.verifier.vkey,
        HELM_FLEET_BUCKET: config.bucket,
        AWS_ENDPOINT_URL: net.endpoint,
        AWS_ACCESS_KEY_ID: rgw().accessKeyId,
        AWS_SECRET_ACCESS_KEY: rgw().secretAccessKey,
        HELM_SHIP_NAMESPACE: 'ns-s',
        HELM_SHIP_HIGH_WATER_BYTES: '6000',
        HELM_SHIP_INTERVAL_MS: '3600000',
      };
      const registry = new Registry();
      const shipping = (await attachShipping({ env, pep: h.pep, writer: h.writer, logDir: h.logDir, log: memoryLogger(), registry }))!;
      const scrape = async (): Promise<Record<string, number>> => Object.fromEntries((await registry.metrics()).split('\n').filter((l) => /^helm_ship_/.test(l)).map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
      expect((await h.pep.decide(lookup())).verdict).toBe('ALLOW');
      await shipping.shipper.round();
      expect(shipping.shipper.metrics).toMatchObject({ cosignedSize: h.writer.size, unshippedBytes: 0 });
      // The same numbers on the sidecar's registry (its /metrics).
      expect(await scrape()).toEqual({ helm_ship_entries_total: h.writer.size, helm_ship_errors_total: 0, helm_ship_unshipped_bytes: 0, helm_ship_high_water_bytes: 6000, helm_ship_lag_seconds: 0, helm_ship_cosigned_size: h.writer.size, helm_ship_freed_bytes_total: 0, helm_ship_log_base: 0 });
      const cosignedBefore = h.writer.size;
      net.cut();
      const verdicts: string[] = [];
      for (let i = 0; i < 12; i++) {
        verdicts.push((await h.pep.decide(lookup())).reasonCode);
        await shipping.shipper.round().catch(() => undefined);
      }
      // Allowed while under the mark, then denied with a durable local receipt, never allowed past it.
      expect(verdicts[0]).not.toBe('RECEIPT_BACKLOG');
      expect(verdicts.at(-1)).toBe('RECEIPT_BACKLOG');
      expect(verdicts.slice(verdicts.indexOf('RECEIPT_BACKLOG')).every((v) => v === 'RECEIPT_BACKLOG')).toBe(true);
      const denied = await h.pep.decide(lookup());
      expect(denied).toMatchObject({ verdict: 'DENY', reasonCode: 'RECEIPT_BACKLOG', recorded: true });
      const down = await scrape();
      expect(down.helm_ship_errors_total).toBeGreaterThan(0);
      expect(down.helm_ship_unshipped_bytes).toBeGreaterThan(6000);
      expect(down.helm_ship_cosigned_size).toBe(cosignedBefore);
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: await registry.metrics(), encoding: 'utf8' });
      if (promtool.error === undefined) expect([promtool.status, promtool.stdout + promtool.stderr]).toEqual([0, '']);
      net.restore();
      await shipping.shipper.round();
      expect(shipping.shipper.overHighWater).toBe(false);
      expect(await scrape()).toMatchObject({ helm_ship_unshipped_bytes: 0, helm_ship_cosigned_size: h.writer.size, helm_ship_entries_total: h.writer.size });
      expect((await h.pep.decide(lookup())).verdict).toBe('ALLOW');
      await h.writer.close();
      expect(col.collector.writer(origin)).toMatchObject({ status: 'closed', size: h.writer.size });
      // The retention marker (sidecar/ship/retention.ts): the final checkpoint with the collector's cosignature.
      const marker = JSON.parse(await readFile(join(h.logDir, 'SHIPPED.json'), 'utf8')) as { origin: string; size: number; cosignedNote: string };
      expect(marker).toMatchObject({ origin, size: h.writer.size });
      expect(marker.cosignedNote.startsWith(shipping.shipper.metrics.cosignedNote!)).toBe(true);
      expect(marker.cosignedNote.split('\n').filter((l) => l.startsWith('— ')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await h.cleanup();
      await col.stop();
      await net.close();
    }
  }, 120_000);
});

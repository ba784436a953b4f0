// Fleet evidence packs end to end on Ceph RGW: writers ship, the collector cosigns at known
// (injected) times, `helmctl export --bucket` builds the pack from the bucket alone, byte-identical
// when exported again, and `helmctl verify --fleet` checks it offline. The negative suite changes
// one thing each and expects its own code.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromUtf8, utf8 } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { DEFAULT_LIMITS } from '../../kernel/evidence/limits.js';
import { readTar, writeTar } from '../../kernel/evidence/tar.js';
import { FLEET_NOTE, MANIFEST, verifyFleetPack, writerDir, type FleetManifest } from '../../kernel/fleet/pack.js';
import { decodeEntryBundle, encodeEntryBundle } from '../../kernel/fleet/tiles.js';
import { verifyFleetPackBytes } from '../../kernel/fleet/verify-portable.js';
import { main } from '../../cli/helmctl.js';
import { CollectorClient } from '../../sidecar/ship/collector-client.js';
import { FleetBucket } from '../../sidecar/ship/object-store.js';
import { Shipper } from '../../sidecar/ship/shipper.js';
import { buckets, fleetKey, mirrorKey, root, simWriter, startCollector, type SimWriter } from './fleet-support.js';
import { describeWithRgw, startRgw, type Rgw } from './rgw-support.js';

const T = Date.parse('2026-12-03T10:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const policyText = `log ${fleetKey.verifier.vkey}\nwitness collector ${mirrorKey.verifier.vkey}\nquorum collector\nroot ${root.verifier.vkey}\n`;
const policy = parseTrustPolicy(policyText, 'fleet.policy');

function io(): { out: string[]; err: string[]; io: { stdout: { write(s: string): void }; stderr: { write(s: string): void } } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (s) => out.push(s) }, stderr: { write: (s) => err.push(s) } } };
}

describeWithRgw('fleet evidence pack from the bucket alone', () => {
  let rgw: Rgw;
  let dir: string;
  let files: Map<string, Uint8Array>;
  let writers: SimWriter[];
  let exportArgs: string[];
  beforeAll(async () => {
    rgw = await startRgw();
    dir = await mkdtemp(join(tmpdir(), 'helm-fleet-pack-'));
    const config = await buckets(rgw, 'fleet-pack');
    let now = T;
    const col = await startCollector(config, { now: () => now });
    const bucket = new FleetBucket(config);
    writers = [];
    const shippers: Shipper[] = [];
    for (const [ns, pod] of [['ns-a', 'p1'], ['ns-a', 'p2'], ['ns-a', 'p3'], ['ns-b', 'p1']] as const) {
      const w = await simWriter(`helm/test/${ns}/${pod}/boot-1`);
      writers.push(w);
      shippers.push(new Shipper({ source: w.source, bucket, collector: new CollectorClient(col.url), namespace: ns, collectorKey: mirrorKey.verifier, certification: w.certification, highWaterBytes: 1 << 30 }));
    }
    // Three rounds of 300 receipts, cosigned at T+1 s, T+5 s, T+9 s; pod p3 closes at T+3 s.
    for (const [k, at] of [1000, 5000, 9000].entries()) {
      now = T + at;
      for (const [i, w] of writers.entries()) {
        if (i === 2 && k > 0) continue;
        await w.append(300);
        await shippers[i]!.round();
      }
      if (k === 0) {
        now = T + 3000;
        await shippers[2]!.close();
      }
    }
    await writers.reduce((p, w) => p.then(() => w.close()), Promise.resolve());
    bucket.destroy();
    await col.stop();
    process.env.AWS_ACCESS_KEY_ID = rgw.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = rgw.secretAccessKey;
    exportArgs = ['export', '--bucket', 'fleet-pack', '--endpoint', rgw.endpoint, '--namespace', 'ns-a', '--from', iso(T + 2000), '--to', iso(T + 6000)];
  }, 240_000);
  afterAll(async () => {
    await rgw?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('exports deterministically and verifies offline: writer set, windows, receipts', async () => {
    const a = io();
    expect(await main([...exportArgs, '--out', join(dir, 'a.tar')], a.io)).toBe(0);
    expect(await main([...exportArgs, '--out', join(dir, 'b.tar')], io().io)).toBe(0);
    const bytes = await readFile(join(dir, 'a.tar'));
    expect(Buffer.compare(bytes, await readFile(join(dir, 'b.tar')))).toBe(0);
    files = new Map(readTar(bytes, { limits: DEFAULT_LIMITS, accept: () => true }).map((f) => [f.path, f.data]));

    await writeFile(join(dir, 'fleet.policy'), policyText);
    const v = io();
    expect(await main(['verify', '--fleet', join(dir, 'a.tar'), '--trust-policy', join(dir, 'fleet.policy'), '--json'], v.io)).toBe(0);
    const verdict = JSON.parse(v.out.join(''));
    // p1, p2: the size cosigned before the window (300) to the first size cosigned after it (900).
    // p3 closed at T+3 s, inside the window: its leaves from 0 to its last size (300). ns-b is not in.
    expect(verdict.writers).toEqual([
      { origin: 'helm/test/ns-a/p1/boot-1', from: 300, to: 900, closed: false, gap: false },
      { origin: 'helm/test/ns-a/p2/boot-1', from: 300, to: 900, closed: false, gap: false },
      { origin: 'helm/test/ns-a/p3/boot-1', from: 300, to: 300, closed: true, gap: false },
    ]);
    expect(verdict.receipts).toBe(1200);
    expect(verdict.fleet.witnesses).toEqual(['collector']);
  });

  const tamper = (f: (m: Map<string, Uint8Array>, manifest: FleetManifest) => void): Map<string, Uint8Array> => {
    const copy = new Map(files);
    const manifest = JSON.parse(fromUtf8(copy.get(MANIFEST)!)) as FleetManifest;
    f(copy, manifest);
    if (!copy.has(MANIFEST) || fromUtf8(copy.get(MANIFEST)!) === fromUtf8(files.get(MANIFEST)!)) copy.set(MANIFEST, utf8(JSON.stringify(manifest)));
    return copy;
  };
  const verdict = (run: () => unknown): string => {
    try {
      run();
      return 'OK';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  /** The CLI's verdict (node:crypto), which the browser verifier (portable reader and crypto, from the tar bytes) must give too. */
  const codeOf = (m: Map<string, Uint8Array>): string => {
    const code = verdict(() => verifyFleetPack(nodeSuite, m, policy));
    const tar = writeTar([...m].map(([path, data]) => ({ path, data })));
    expect(verdict(() => verifyFleetPackBytes(tar, policy))).toBe(code);
    return code;
  };
  const p1 = (): string => writerDir(nodeSuite, 'helm/test/ns-a/p1/boot-1');

  it('negative suite: each change fails with its own code', async () => {
    expect(codeOf(tamper(() => undefined))).toBe('OK');
    const removeReceipt = tamper((m) => {
      const path = `${p1()}bundles/000000000002`;
      const entries = decodeEntryBundle(m.get(path)!);
      m.set(path, encodeEntryBundle([...entries.slice(0, 10), ...entries.slice(11)]));
    });
    const removeWriter = tamper((m, man) => {
      man.writers = man.writers.filter((w) => w.origin !== 'helm/test/ns-a/p2/boot-1');
      const d = writerDir(nodeSuite, 'helm/test/ns-a/p2/boot-1');
      for (const k of [...m.keys()]) if (k.startsWith(d)) m.delete(k);
      m.set(MANIFEST, utf8(JSON.stringify(man)));
    });
    const removeCosignature = tamper((m) => {
      const note = fromUtf8(m.get(FLEET_NOTE)!);
      m.set(FLEET_NOTE, utf8(note.split('\n').filter((l) => !l.startsWith(`\u2014 ${mirrorKey.verifier.name} `)).join('\n')));
    });
    const shiftBoundary = tamper((m, man) => {
      man.writers[0]!.from += 1;
      m.set(MANIFEST, utf8(JSON.stringify(man)));
    });
    const swapTile = tamper((m) => {
      const [x, y] = [`${p1()}bundles/000000000001`, `${p1()}bundles/000000000002`];
      const bx = m.get(x)!;
      m.set(x, m.get(y)!);
      m.set(y, bx);
    });
    const codes = [removeReceipt, removeWriter, removeCosignature, shiftBoundary, swapTile].map(codeOf);
    expect(codes).toEqual(['ERR_FLEET_RECEIPT_MISSING', 'ERR_FLEET_WRITER_MISSING', 'ERR_FLEET_QUORUM', 'ERR_FLEET_BOUNDARY', 'ERR_FLEET_TILE_MISMATCH']);
    expect(new Set(codes).size).toBe(codes.length);

    // The CLI reports the same verdict with exit code 1.
    await writeFile(join(dir, 'bad.tar'), writeTar([...swapTile].map(([path, data]) => ({ path, data }))));
    const r = io();
    expect(await main(['verify', '--fleet', join(dir, 'bad.tar'), '--trust-policy', join(dir, 'fleet.policy'), '--json'], r.io)).toBe(1);
    expect(JSON.parse(r.out.join(''))).toMatchObject({ ok: false, code: 'ERR_FLEET_TILE_MISMATCH' });
  });
});

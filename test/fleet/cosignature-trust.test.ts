// The shipper counts a size as cosigned only when the collector's answer carries a valid
// cosignature by the configured collector key (HELM_COLLECTOR_VKEY) over the checkpoint it sent.
// Anyone else answering 200 on the collector URL moves nothing: the round fails, says why, and the
// backlog (what the high-water gate and retention read) stays.
import { createServer, type Server } from 'node:http';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { addSignatures, parseNote } from '../../kernel/crypto/note.js';
import { parseAddCheckpoint } from '../../kernel/fleet/witness-request.js';
import { CollectorClient } from '../../sidecar/ship/collector-client.js';
import { FleetBucket } from '../../sidecar/ship/object-store.js';
import { Shipper } from '../../sidecar/ship/shipper.js';
import { buckets, fleetKey, key, mirrorKey, root, simWriter, startCollector } from './fleet-support.js';
import { startCollectorFromEnv } from '../../collector/main.js';
import { tempDir } from '../evidence/fixtures.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeWithRgw, useRgw } from './rgw-support.js';

/** A "collector" that opens every writer and answers add-checkpoint with `cosign(note)`. */
async function fakeCollector(cosign: (note: string) => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/add-checkpoint') {
        res.writeHead(200).end(cosign(parseAddCheckpoint(body).note));
      } else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** The lines a note gained when `keys` cosigned it. */
const linesBy = (note: string, keys: Parameters<typeof addSignatures>[1], ts = 1_700_000_000n): string => {
  const before = new Set(parseNote(note).signatures.map((s) => s.line));
  return parseNote(addSignatures(note, keys, ts)).signatures.filter((s) => !before.has(s.line)).map((s) => `${s.line}\n`).join('');
};

describe('the collector and the key sidecars trust', () => {
  it('refuses to start when HELM_COLLECTOR_VKEY is not the verifier key of its cosignature key', async () => {
    const t = await tempDir('helm-collector-vkey-');
    try {
      await writeFile(join(t.dir, 'fleet.key'), fleetKey.privateText);
      await writeFile(join(t.dir, 'collector.key'), mirrorKey.privateText);
      const env = { HELM_FLEET_BUCKET: 'b', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', HELM_FLEET_KEY: join(t.dir, 'fleet.key'), HELM_COLLECTOR_KEY: join(t.dir, 'collector.key'), HELM_TRUST_ROOT: root.verifier.vkey, HELM_COLLECTOR_LISTEN: '127.0.0.1:0' };
      const forged = key(mirrorKey.verifier.name, ALG_COSIGNATURE_V1);
      await expect(startCollectorFromEnv({ ...env, HELM_COLLECTOR_VKEY: forged.verifier.vkey })).rejects.toThrow(/ERR_COLLECTOR_CONFIG: HELM_COLLECTOR_VKEY .* is not the verifier key of HELM_COLLECTOR_KEY/);
    } finally {
      await t.cleanup();
    }
  });
});

describeWithRgw('the shipper trusts only the collector key', () => {
  const rgw = useRgw();

  it('refuses a 200 whose cosignature is by another key, over another checkpoint, or missing; a genuine collector is then accepted', async () => {
    const config = await buckets(rgw(), 'fleet-cosig');
    const bucket = new FleetBucket(config);
    const w = await simWriter('helm/test/ns-c/pod-1/boot-1');
    const forger = key(mirrorKey.verifier.name, ALG_COSIGNATURE_V1); // same name, another key
    let stale = '';
    const answers: Array<(note: string) => string> = [
      (note) => linesBy(note, [forger]),
      () => stale, // a genuine cosignature, but of an earlier checkpoint
      () => '',
    ];
    const col = await startCollector(config);
    try {
      // A first genuine round gives a real cosignature of an older checkpoint to replay.
      await w.append(20);
      const real = new Shipper({ source: w.source, bucket, collector: new CollectorClient(col.url), collectorKey: mirrorKey.verifier, namespace: 'ns-c', certification: w.certification, highWaterBytes: 1 << 30 });
      await real.round();
      stale = parseNote(real.metrics.cosignedNote!).signatures.filter((s) => s.name === mirrorKey.verifier.name).map((s) => `${s.line}\n`).join('');
      expect(stale).not.toBe('');
      await w.append(30);
      for (const answer of answers) {
        const fake = await fakeCollector(answer);
        const s = new Shipper({ source: w.source, bucket, collector: new CollectorClient(fake.url), collectorKey: mirrorKey.verifier, namespace: 'ns-c', certification: w.certification, highWaterBytes: 1 << 30 });
        try {
          await expect(s.round()).rejects.toMatchObject({ code: 'ERR_SHIP_COSIGNATURE', message: expect.stringContaining(mirrorKey.verifier.handle) });
          expect(s.metrics).toMatchObject({ cosignedSize: 0, cosignedNote: null, errors: 1 });
          expect(s.metrics.unshippedBytes).toBeGreaterThan(0);
        } finally {
          fake.server.closeAllConnections();
          await new Promise((r) => fake.server.close(r));
        }
      }
      // The same shipper set-up against the real collector: cosigned.
      await real.round();
      expect(real.metrics).toMatchObject({ cosignedSize: 50, unshippedBytes: 0, errors: 0 });
    } finally {
      await w.close();
      bucket.destroy();
      await col.stop();
    }
  }, 120_000);
});

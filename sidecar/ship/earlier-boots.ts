// Ships what earlier boots of this pod left behind (certified identity: one log per start under
// <dir>/<namespace>/<pod>/<boot>). A boot that was killed never shipped its tail nor sent
// WRITER_CLOSED; its log key lived in memory only, so what can still be proven is the log up to
// its last stored signed checkpoint. That much is shipped and cosigned; if the checkpoint covers
// the whole log the writer is closed (and SHIPPED.json written, so retention may free it),
// otherwise it stays OPEN at the cosigned size: a reported gap of the unsigned tail, which stays
// durable on the volume. Runs in the background at start; never on the decision path.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseNote } from '../../kernel/crypto/note.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { WriterLock } from '../../kernel/proofgraph/store/lock.js';
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import type { CollectorClient } from './collector-client.js';
import type { FleetBucket } from './object-store.js';
import { markShipped, SHIPPED_MARKER } from './retention.js';
import { Shipper } from './shipper.js';

export interface EarlierBoot {
  dir: string;
  origin: string;
  /** Entries in the local log. */
  entries: number;
  /** Size the collector cosigned (the last stored checkpoint's size). */
  cosigned: number;
  closed: boolean;
}

const podOf = (origin: string): string => origin.slice(0, origin.lastIndexOf('/'));

export async function shipEarlierBoots(o: {
  logDir: string;
  origin: string;
  bucket: FleetBucket;
  collector: CollectorClient;
  collectorKey: VerifierKey;
  namespace: string;
  certification: (dir: string, origin: string) => Promise<unknown>;
}): Promise<EarlierBoot[]> {
  const parent = dirname(o.logDir);
  const out: EarlierBoot[] = [];
  for (const d of await readdir(parent, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name === basename(o.logDir)) continue;
    const dir = join(parent, d.name);
    const names = await readdir(dir);
    if (names.includes(SHIPPED_MARKER) || !names.includes('LOG')) continue;
    // A held lock is a live writer (not an earlier boot): leave it alone.
    const lock = await WriterLock.acquire(dir).catch(() => null);
    if (!lock) continue;
    try {
      const log = await readLog(dir, { fromBase: true }); // a log freed below a base is shipped from it (shipper.ts)
      if (podOf(log.origin) !== podOf(o.origin) || log.origin === o.origin) continue;
      const last = log.checkpoints.at(-1);
      if (!last) continue;
      const size = parseCheckpointText(parseNote(last).text).size;
      const shipper = new Shipper({
        source: { dir, origin: log.origin, checkpoint: async () => last },
        bucket: o.bucket,
        collector: o.collector,
        collectorKey: o.collectorKey,
        namespace: o.namespace,
        certification: () => o.certification(dir, log.origin),
        highWaterBytes: Number.MAX_SAFE_INTEGER,
      });
      const whole = size === log.first + log.entries.length;
      if (whole) await shipper.close();
      else await shipper.round();
      const m = shipper.metrics;
      if (whole && m.cosignedNote) await markShipped(dir, { origin: log.origin, size: m.cosignedSize, cosignedNote: m.cosignedNote });
      out.push({ dir, origin: log.origin, entries: log.first + log.entries.length, cosigned: m.cosignedSize, closed: whole });
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
  return out;
}

// Local retention for shipped logs (HELM_SHIP_RETENTION=free-closed; off by default). With
// certified identity every sidecar start is a new log under <dir>/<namespace>/<pod>/<boot> that no
// later start reopens. When a boot stops gracefully and the collector has cosigned its final size
// and accepted WRITER_CLOSED, it leaves SHIPPED.json (the cosigned checkpoint) in its directory.
// A later start of the same pod frees (deletes) those earlier boot directories whose marker
// matches the log on disk: the cosigned checkpoint is one the log stored, its size is the log's
// whole length and its root is the root of the entries. The collector cosigns a size only after
// reading every entry below it back from the bucket, so nothing freed is missing from the bucket.
// Never freed: the live log, a boot that was killed (no marker), a log longer than its marker, a
// marker without a valid cosignature by the configured collector key (HELM_COLLECTOR_VKEY).
import { readdir, rm } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { equalBytes } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseNote } from '../../kernel/crypto/note.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { BasedTree } from '../../kernel/proofgraph/based-tree.js';
import { baseTree } from '../../kernel/proofgraph/store/log-base.js';
import { writeFileAtomic } from '../../kernel/proofgraph/store/durable-fs.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { WriterLock } from '../../kernel/proofgraph/store/lock.js';
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import { verifyCosignature } from './cosignature.js';

export const SHIPPED_MARKER = 'SHIPPED.json';

export interface ShippedMarker {
  origin: string;
  size: number;
  /** The writer's checkpoint note followed by the collector's cosignature lines. */
  cosignedNote: string;
}

/** Written after WRITER_CLOSED was accepted for the final cosigned size. */
export async function markShipped(logDir: string, m: ShippedMarker): Promise<void> {
  await writeFileAtomic(join(logDir, SHIPPED_MARKER), `${JSON.stringify(m)}\n`);
}

async function shippedWhole(dir: string, collectorKey: VerifierKey): Promise<ShippedMarker | null> {
  let m: ShippedMarker;
  try {
    m = JSON.parse(await readFile(join(dir, SHIPPED_MARKER), 'utf8')) as ShippedMarker;
  } catch {
    return null;
  }
  const log = await readLog(dir, { fromBase: true }).catch(() => null);
  if (!log || log.tornTail || log.origin !== m.origin || log.first + log.entries.length !== m.size) return null;
  const stored = log.checkpoints.find((c) => m.cosignedNote.startsWith(c));
  if (!stored) return null;
  // The marker is the sidecar's own file: its cosignature is checked again, never taken on trust.
  try {
    verifyCosignature(m.cosignedNote, collectorKey, stored);
  } catch {
    return null;
  }
  const cp = parseCheckpointText(parseNote(stored).text);
  if (cp.origin !== m.origin || cp.size !== m.size) return null;
  const tree = log.base ? baseTree(nodeSuite, log.base) : new BasedTree(nodeSuite, 0, []);
  for (const e of log.entries) tree.appendEntry(e);
  return equalBytes(tree.root(cp.size), cp.root) ? m : null;
}

const podOf = (origin: string): string => origin.slice(0, origin.lastIndexOf('/'));

/**
 * Frees the earlier boots of this pod (siblings of logDir whose origin differs from `origin` only
 * in the boot part) that shipped whole; returns their directory names.
 */
export async function freeShippedBoots(logDir: string, origin: string, collectorKey: VerifierKey): Promise<string[]> {
  const parent = dirname(logDir);
  const self = basename(logDir);
  const freed: string[] = [];
  for (const d of await readdir(parent, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name === self) continue;
    const dir = join(parent, d.name);
    // Held while checking and deleting, so no writer can reopen the log meanwhile; a held lock
    // (a live writer) means: not ours to free.
    const lock = await WriterLock.acquire(dir).catch(() => null);
    if (!lock) continue;
    const marker = await shippedWhole(dir, collectorKey);
    if (!marker || marker.origin === origin || podOf(marker.origin) !== podOf(origin)) {
      await lock.release().catch(() => undefined);
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    freed.push(d.name);
  }
  return freed.sort();
}

// Start-up snapshots (docs/spec/store.md §Start-up snapshots): the writer's chain state and the
// PEP's state as folded over the first `size` entries of the log, so a start decodes only the
// entries after them. The log authenticates it: the snapshot names the size and the Merkle root of
// that prefix, and is used only when the log's own tree gives the same root at that size (any
// truncation, fork or other log makes it stale). It is signed by the node key, so a file edited on
// the volume (a budget reset, say) is refused. A refused or missing snapshot means a full rebuild.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concat, fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/bytes.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { ChainSnapshot } from './chain-state.js';
import { Frontier } from './frontier.js';
import { writeFileAtomic } from './store/durable-fs.js';
import type { TreeResume } from './store/writer-open.js';

export const START_SNAPSHOT_FILE = 'start-snapshot.json';
export const START_SNAPSHOT_FORMAT = 'helm.start-snapshot/v1';

export interface StartSnapshot {
  format: typeof START_SNAPSHOT_FORMAT;
  origin: string;
  /** Entries [0, size) are folded in. */
  size: number;
  /** Base64 RFC 6962 root of the log at `size`. */
  root: string;
  chain: ChainSnapshot;
  /** The PEP's fold (kernel/pep/snapshot.ts), opaque here. */
  pep: unknown;
  /**
   * The Merkle frontier at `size` (base64 subtree roots, largest first) and the leaf hash of entry
   * size - 1: with them the writer's open reads only the segments from that entry on. Optional:
   * a snapshot without them still spares the folds, and the open reads every segment.
   */
  tree?: { frontier: string[]; lastLeaf: string };
}

/**
 * The file is two lines: a header `{"keyid": <node key id>, "sig": <base64 Ed25519 signature>}`
 * and the snapshot's JSON, the signature being over the exact bytes of that second line (signing
 * bytes as stored avoids canonicalising a large object at every start).
 */
interface SnapshotHeader {
  keyid: string;
  sig: string;
}

export function snapshotPath(logDir: string): string {
  return join(logDir, START_SNAPSHOT_FILE);
}

export async function saveStartSnapshot(logDir: string, snapshot: StartSnapshot, nodeKey: SigningKey): Promise<void> {
  const body = utf8(JSON.stringify(snapshot));
  const header: SnapshotHeader = { keyid: nodeKey.verifier.keyId, sig: toBase64(nodeKey.sign(body)) };
  await writeFileAtomic(snapshotPath(logDir), concat(utf8(`${JSON.stringify(header)}\n`), body));
}

export type LoadedSnapshot = { snapshot: StartSnapshot; rejected: null } | { snapshot: null; rejected: string | null };

/** The snapshot if it is valid for this log now; otherwise why not (null: there is none). */
export async function loadStartSnapshot(
  logDir: string,
  o: { origin: string; size: number; rootAt: (size: number) => Uint8Array; nodeKey: SigningKey; suite: CryptoSuite },
): Promise<LoadedSnapshot> {
  const read = await readStartSnapshot(logDir, o);
  return read.snapshot ? checkStartSnapshot(read.snapshot, o) : read;
}

/** Checks against the log as opened: the size is in it and its root there is the snapshot's. */
export function checkStartSnapshot(s: StartSnapshot, o: { size: number; rootAt: (size: number) => Uint8Array }): LoadedSnapshot {
  const no = (why: string): LoadedSnapshot => ({ snapshot: null, rejected: why });
  if (!Number.isSafeInteger(s.size) || s.size < 1 || s.size > o.size) return no(`snapshot at size ${s.size}, the log has ${o.size} entries`);
  if (toBase64(o.rootAt(s.size)) !== s.root) return no(`the log's root at size ${s.size} is not the snapshot's: the log was truncated, forked or replaced`);
  return { snapshot: s, rejected: null };
}

/** The snapshot file if it is signed by the node key and is for this origin (not yet checked against the log). */
export async function readStartSnapshot(logDir: string, o: { origin: string; nodeKey: SigningKey; suite: CryptoSuite }): Promise<LoadedSnapshot> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(snapshotPath(logDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { snapshot: null, rejected: null };
    return { snapshot: null, rejected: `unreadable: ${(e as Error).message}` };
  }
  const no = (why: string): LoadedSnapshot => ({ snapshot: null, rejected: why });
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return no('no header line');
  const body = bytes.subarray(nl + 1);
  let header: SnapshotHeader;
  let s: StartSnapshot;
  try {
    header = JSON.parse(fromUtf8(bytes.subarray(0, nl))) as SnapshotHeader;
  } catch {
    return no('header is not JSON');
  }
  if (header?.keyid !== o.nodeKey.verifier.keyId) return no(`signed by key ${String(header?.keyid)}, not the node key ${o.nodeKey.verifier.keyId}`);
  let sig: Uint8Array;
  try {
    sig = fromBase64(String(header.sig));
  } catch {
    return no('signature is not base64');
  }
  // The signature first: nothing of an unsigned body is parsed.
  if (!o.suite.verifyEd25519(o.nodeKey.publicKey, body, sig)) return no('bad signature');
  try {
    s = JSON.parse(fromUtf8(body)) as StartSnapshot;
  } catch {
    return no('snapshot is not JSON');
  }
  if (!s || s.format !== START_SNAPSHOT_FORMAT) return no(`format is not ${START_SNAPSHOT_FORMAT}`);
  if (s.origin !== o.origin) return no(`snapshot of log ${s.origin}, not ${o.origin}`);
  return { snapshot: s, rejected: null };
}

/** The tree resume a snapshot offers, or null when it has none or it is malformed (the open then reads everything). */
export function treeResumeOf(s: StartSnapshot, suite: CryptoSuite): TreeResume | null {
  try {
    if (!s.tree || !Number.isSafeInteger(s.size) || s.size < 1) return null;
    const frontier = Frontier.fromBase64(suite, s.size, s.tree.frontier);
    const lastLeaf = fromBase64(s.tree.lastLeaf);
    if (lastLeaf.length !== 32 || toBase64(frontier.root()) !== s.root) return null;
    return { size: s.size, frontier: frontier.hashes(), lastLeaf };
  } catch {
    return null;
  }
}

// Fleet evidence packs (normative: docs/spec/fleet-pack.md): for (namespace, [from, to]), the
// cosigned fleet checkpoint, every fleet leaf under it, and per writer the entry bundles that hold
// its leaves in the window plus a range proof binding them to its cosigned checkpoint. Built from
// the bucket alone (the CLI reads it); deterministic (JCS, sorted tar); verified offline against a
// trust policy. Pure and portable: hashing and signatures come from the CryptoSuite.
import { fromBase64, fromUtf8, toBase64, toHex, utf8 } from '../crypto/bytes.js';
import { jcs } from '../crypto/jcs.js';
import { parseVerifierKey } from '../crypto/keys.js';
import { NoteError, verifyNote } from '../crypto/note.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { PolicyError, quorumSatisfied, verifyCheckpointWithPolicy, type TrustPolicy } from '../evidence/trust-policy.js';
import { parseCheckpointText } from '../proofgraph/checkpoint.js';
import { MerkleTree, leafHash, rootFromRange } from '../proofgraph/merkle.js';
import { TrustError } from '../trust/events.js';
import { TrustRegistry } from '../trust/registry.js';
import { decodeFleetEvent, FleetEventError, type FleetEvent, type WriterCheckpoint } from './events.js';
import { TILE_WIDTH, decodeEntryBundle, encodeEntryBundle, TileError } from './tiles.js';
import { selectWindows, type WriterWindow } from './window.js';

export const FLEET_PACK_FORMAT = 'helm.fleet-pack/v1';
export const MANIFEST = 'FLEET.json';
export const FLEET_NOTE = 'fleet/checkpoint.note';
export const FLEET_LEAVES = 'fleet/leaves.jsonl';

export type FleetPackCode =
  | 'ERR_FLEET_PACK_MALFORMED'
  | 'ERR_FLEET_CHECKPOINT'
  | 'ERR_FLEET_QUORUM'
  | 'ERR_FLEET_LOG_MISMATCH'
  | 'ERR_FLEET_WRITER_MISSING'
  | 'ERR_FLEET_WRITER_UNKNOWN'
  | 'ERR_FLEET_BOUNDARY'
  | 'ERR_FLEET_WRITER_CHECKPOINT'
  | 'ERR_FLEET_RECEIPT_MISSING'
  | 'ERR_FLEET_TILE_MISMATCH';

export class FleetPackError extends Error {
  constructor(
    readonly code: FleetPackCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface FleetManifest {
  format: typeof FLEET_PACK_FORMAT;
  namespace: string;
  from: number;
  to: number;
  fleet: { origin: string; size: number };
  writers: WriterWindow[];
}

export const writerDir = (suite: CryptoSuite, origin: string): string => `writers/${toHex(suite.sha256(utf8(origin)))}/`;
const bundlePath = (dir: string, index: number): string => `${dir}bundles/${String(index).padStart(12, '0')}`;

/** What the exporter read from the bucket. */
export interface FleetSource {
  fleetNote: string;
  fleetLeaves: Uint8Array[];
  /** Entries [0, size) of a writer log as published for that size. */
  writerEntries(origin: string, size: number): Promise<Uint8Array[]>;
}

export async function buildFleetPack(suite: CryptoSuite, src: FleetSource, namespace: string, from: number, to: number): Promise<Map<string, Uint8Array>> {
  const fleetCp = parseCheckpointText(noteText(src.fleetNote));
  const events = src.fleetLeaves.map(decodeFleetEvent);
  const windows = selectWindows(events, namespace, from, to);
  const files = new Map<string, Uint8Array>();
  const manifest: FleetManifest = { format: FLEET_PACK_FORMAT, namespace, from, to, fleet: { origin: fleetCp.origin, size: fleetCp.size }, writers: windows };
  files.set(MANIFEST, jcs(manifest));
  files.set(FLEET_NOTE, utf8(src.fleetNote));
  files.set(FLEET_LEAVES, utf8(src.fleetLeaves.map((l) => fromUtf8(l) + '\n').join('')));
  // Reads (object-store round trips) run a few writers at a time; the pack is built in window
  // order from the results, so the bytes do not depend on which read finished first.
  const reads = await mapLimited(windows, READ_CONCURRENCY, (w) => (w.to === 0 ? Promise.resolve([]) : src.writerEntries(w.origin, w.to)));
  for (const [i, w] of windows.entries()) {
    if (w.to === 0) continue;
    const entries = reads[i]!;
    const tree = new MerkleTree(suite);
    for (const e of entries) tree.appendEntry(e);
    const dir = writerDir(suite, w.origin);
    const lo = Math.floor(w.from / TILE_WIDTH) * TILE_WIDTH;
    for (let n = lo / TILE_WIDTH; n * TILE_WIDTH < w.to; n++) {
      const slice = entries.slice(n * TILE_WIDTH, Math.min(w.to, (n + 1) * TILE_WIDTH));
      files.set(bundlePath(dir, n), encodeEntryBundle(slice));
    }
    files.set(`${dir}range-proof`, utf8(tree.rangeProof(lo, w.to).map((h) => toBase64(h) + '\n').join('')));
  }
  return files;
}

const READ_CONCURRENCY = 8;

async function mapLimited<T, R>(items: readonly T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await f(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function noteText(note: string): string {
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}

export interface FleetVerdict {
  namespace: string;
  from: number;
  to: number;
  fleet: { origin: string; size: number; witnesses: string[] };
  writers: Array<{ origin: string; from: number; to: number; closed: boolean; gap: boolean }>;
  receipts: number;
}

const packError = (code: FleetPackCode, message: string): never => {
  throw new FleetPackError(code, message);
};

function need(files: ReadonlyMap<string, Uint8Array>, path: string, code: FleetPackCode = 'ERR_FLEET_PACK_MALFORMED'): Uint8Array {
  return files.get(path) ?? packError(code, `${path} is missing from the pack`);
}

/** Verifies a fleet pack offline. Throws FleetPackError with the first problem found. */
export function verifyFleetPack(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, policy: TrustPolicy): FleetVerdict {
  let m: FleetManifest;
  try {
    m = JSON.parse(fromUtf8(need(files, MANIFEST))) as FleetManifest;
  } catch (e) {
    if (e instanceof FleetPackError) throw e;
    return packError('ERR_FLEET_PACK_MALFORMED', `${MANIFEST} is not JSON`);
  }
  if (m.format !== FLEET_PACK_FORMAT || typeof m.namespace !== 'string' || !Number.isSafeInteger(m.from) || !Number.isSafeInteger(m.to) || !Array.isArray(m.writers)) {
    packError('ERR_FLEET_PACK_MALFORMED', `${MANIFEST} is not a ${FLEET_PACK_FORMAT} manifest`);
  }
  // 1. The fleet checkpoint, its log signature and the witness quorum.
  let fleet;
  try {
    fleet = verifyCheckpointWithPolicy(fromUtf8(need(files, FLEET_NOTE)), policy, suite);
  } catch (e) {
    if (e instanceof PolicyError) packError(e.code === 'ERR_QUORUM_NOT_MET' ? 'ERR_FLEET_QUORUM' : 'ERR_FLEET_CHECKPOINT', e.message);
    throw e;
  }
  const cp = fleet!.checkpoint;
  if (cp.origin !== m.fleet?.origin || cp.size !== m.fleet?.size) packError('ERR_FLEET_CHECKPOINT', `${MANIFEST} names fleet ${m.fleet?.origin}@${m.fleet?.size}, the checkpoint is ${cp.origin}@${cp.size}`);
  // 2. Every fleet leaf under it: completeness of the writer set follows from the root.
  const text = fromUtf8(need(files, FLEET_LEAVES));
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  const tree = new MerkleTree(suite);
  for (const l of lines) tree.appendLeafHash(leafHash(suite, utf8(l)));
  if (!text.endsWith('\n') && text !== '') packError('ERR_FLEET_LOG_MISMATCH', `${FLEET_LEAVES} does not end in a newline`);
  if (tree.size !== cp.size || toHex(tree.root()) !== toHex(cp.root)) packError('ERR_FLEET_LOG_MISMATCH', `${FLEET_LEAVES} holds ${tree.size} leaves that do not hash to the fleet checkpoint ${cp.origin}@${cp.size}`);
  let events: FleetEvent[];
  try {
    events = lines.map((l) => decodeFleetEvent(utf8(l)));
  } catch (e) {
    if (e instanceof FleetEventError) return packError('ERR_FLEET_LOG_MISMATCH', e.message);
    throw e;
  }
  // 3. The writer set and each window, recomputed from the fleet log.
  const expected = selectWindows(events, m.namespace, m.from, m.to);
  const claimed = new Map(m.writers.map((w) => [w.origin, w]));
  for (const w of expected) if (!claimed.has(w.origin)) packError('ERR_FLEET_WRITER_MISSING', `writer ${w.origin} was open in ${m.namespace} during the window but is not in the pack`);
  for (const w of m.writers) if (!expected.some((x) => x.origin === w.origin)) packError('ERR_FLEET_WRITER_UNKNOWN', `writer ${w.origin} is in the pack but not open in ${m.namespace} during the window`);
  for (const w of expected) {
    const c = claimed.get(w.origin)!;
    if (c.from !== w.from || c.to !== w.to || c.checkpointLeaf !== w.checkpointLeaf || c.closed !== w.closed) {
      packError('ERR_FLEET_BOUNDARY', `writer ${w.origin}: the pack claims leaves [${c.from}, ${c.to}) at fleet leaf ${c.checkpointLeaf}; the fleet log gives [${w.from}, ${w.to}) at ${w.checkpointLeaf}`);
    }
  }
  const logKeys = certifiedLogKeys(suite, events, policy);
  const expectedFiles = new Set([MANIFEST, FLEET_NOTE, FLEET_LEAVES]);
  let receipts = 0;
  for (const w of expected) {
    if (w.checkpointLeaf === null) continue;
    receipts += checkWriter(suite, files, policy, w, events[w.checkpointLeaf] as WriterCheckpoint, logKeys, expectedFiles);
  }
  for (const path of files.keys()) if (!expectedFiles.has(path)) packError('ERR_FLEET_PACK_MALFORMED', `unexpected file ${path} in the pack`);
  return {
    namespace: m.namespace,
    from: m.from,
    to: m.to,
    fleet: { origin: cp.origin, size: cp.size, witnesses: fleet!.witnesses },
    writers: expected.map((w) => ({ origin: w.origin, from: w.from, to: w.to, closed: w.closed, gap: w.checkpointLeaf === null })),
    receipts,
  };
}

/** Writer log keys certified by the policy's root, from the WRITER_OPEN leaves. */
function certifiedLogKeys(suite: CryptoSuite, events: readonly FleetEvent[], policy: TrustPolicy): Map<string, string> {
  const keys = new Map<string, string>();
  if (!policy.root) return keys;
  const registry = new TrustRegistry(suite, policy.root.key);
  events.forEach((e, i) => {
    if (e.kind !== 'WRITER_OPEN') return;
    try {
      registry.apply(e.certification, `fleet leaf ${i}`);
    } catch (err) {
      if (!(err instanceof TrustError)) throw err;
    }
  });
  for (const k of registry.logKeys()) keys.set(k.origin, k.key.vkey);
  return keys;
}

function checkWriter(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, policy: TrustPolicy, w: WriterWindow, leaf: WriterCheckpoint, logKeys: Map<string, string>, expectedFiles: Set<string>): number {
  const vkey = logKeys.get(w.origin) ?? packError('ERR_FLEET_WRITER_CHECKPOINT', `writer ${w.origin} has no log key certified by the policy root`);
  let cp;
  try {
    const v = verifyNote(leaf.note, [...[...policy.witnesses.values()].map((x) => x.key), parseVerifierKey(vkey)], suite);
    if (!v.verified.some((x) => x.key.vkey === vkey)) packError('ERR_FLEET_WRITER_CHECKPOINT', `writer checkpoint of ${w.origin} is not signed by its certified log key`);
    const cosigners = new Set<string>();
    for (const [name, wk] of policy.witnesses) if (v.verified.some((x) => x.key.vkey === wk.key.vkey)) cosigners.add(name);
    if (!quorumSatisfied(policy, cosigners)) packError('ERR_FLEET_WRITER_CHECKPOINT', `writer checkpoint of ${w.origin} lacks the collector cosignatures the policy's quorum needs`);
    cp = parseCheckpointText(v.text);
  } catch (e) {
    if (e instanceof NoteError) return packError('ERR_FLEET_WRITER_CHECKPOINT', `writer checkpoint of ${w.origin}: ${e.message}`);
    throw e;
  }
  if (cp.origin !== w.origin || cp.size !== w.to) packError('ERR_FLEET_WRITER_CHECKPOINT', `fleet leaf ${w.checkpointLeaf} holds ${cp.origin}@${cp.size}, not ${w.origin}@${w.to}`);
  const dir = writerDir(suite, w.origin);
  const lo = Math.floor(w.from / TILE_WIDTH) * TILE_WIDTH;
  const leaves: Uint8Array[] = [];
  for (let n = lo / TILE_WIDTH; n * TILE_WIDTH < w.to; n++) {
    const path = bundlePath(dir, n);
    expectedFiles.add(path);
    const width = Math.min(TILE_WIDTH, w.to - n * TILE_WIDTH);
    let entries: Uint8Array[];
    try {
      entries = decodeEntryBundle(need(files, path, 'ERR_FLEET_RECEIPT_MISSING'), width);
    } catch (e) {
      if (e instanceof TileError) return packError('ERR_FLEET_RECEIPT_MISSING', `${path}: ${e.message} (leaves ${n * TILE_WIDTH}..${n * TILE_WIDTH + width} of ${w.origin} must all be there)`);
      throw e;
    }
    for (const e of entries) leaves.push(leafHash(suite, e));
  }
  const proofPath = `${dir}range-proof`;
  expectedFiles.add(proofPath);
  const proofText = fromUtf8(need(files, proofPath, 'ERR_FLEET_TILE_MISMATCH'));
  let root: Uint8Array;
  try {
    const proof = proofText === '' ? [] : proofText.slice(0, -1).split('\n').map(fromBase64);
    root = rootFromRange(suite, cp.size, lo, leaves, proof);
  } catch (e) {
    // A malformed hash line (fromBase64) or a proof of the wrong length (MerkleError).
    return packError('ERR_FLEET_TILE_MISMATCH', `${proofPath}: ${(e as Error).message}`);
  }
  if (toHex(root) !== toHex(cp.root)) packError('ERR_FLEET_TILE_MISMATCH', `the bundles of ${w.origin} and its range proof do not hash to its cosigned root at size ${cp.size}`);
  return w.to - w.from;
}

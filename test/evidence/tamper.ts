// Tools for building tampered packs that reach the check they are meant to test. Two levels:
// - file level: unpack, change member bytes, rebuild the tar (and, if asked, a manifest re-signed
//   by the exporter) so the container and manifest checks pass and the deeper check is hit;
// - log level: decode a stored log, edit its statements, then re-sign nodes with the node key,
//   re-chain prev/parent hashes and re-sign checkpoints with the log key, as an insider holding
//   those keys would; only the semantic defect the edit introduced remains.
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { decodeNode, encodeNode, isCrossLog, type HashRef, type Statement } from '../../kernel/contracts/node.js';
import type { NodeKind } from '../../kernel/contracts/schemas.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { parseNote } from '../../kernel/crypto/note.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { readStore } from '../../kernel/proofgraph/store/index.js';
import { assemblePack } from '../../kernel/evidence/assemble.js';
import { gzipDeterministic } from '../../kernel/evidence/gzip-node.js';
import { MANIFEST_DSSE_PATH, MANIFEST_PATH } from '../../kernel/evidence/layout.js';
import { buildManifest, parseManifest, signManifest } from '../../kernel/evidence/manifest.js';
import { openPack } from '../../kernel/evidence/pack-reader.js';
import { writeTar, type TarFile } from '../../kernel/evidence/tar.js';
import { planWindow, type LogSource, type TimeSelection } from '../../kernel/evidence/window.js';

/** JSON deep copy: structuredClone would give objects of another realm under jest, which JCS refuses as not plain. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function loadSources(storeRoot: string): Promise<LogSource[]> {
  return (await readStore(storeRoot)).map((l) => ({ dir: l.writerId, origin: l.origin, entries: l.entries, checkpoints: l.checkpoints }));
}

/** Pack bytes from in-memory logs, as the exporter would build them. */
export function packFromSources(sources: readonly LogSource[], exporter: SigningKey, sel: TimeSelection = {}): Uint8Array {
  const sections = sources.map((s) => planWindow(nodeSuite, s, sel).section!).filter(Boolean);
  return gzipDeterministic(assemblePack({ suite: nodeSuite, sections, selection: {}, exporterKey: exporter }).tar);
}

export function unpack(bytes: Uint8Array): Map<string, Uint8Array> {
  return new Map([...openPack(bytes)].map(([p, d]) => [p, Uint8Array.from(d)]));
}

/**
 * Rebuilds a pack after `mutate` changed its members. With `resign`, MANIFEST.json is rebuilt from
 * the files (keeping its logs and selection unless `logs` is given) and signed by that key.
 */
export function repack(
  bytes: Uint8Array,
  mutate: (files: Map<string, Uint8Array>) => void,
  o: { resign?: SigningKey; editManifest?: (m: ReturnType<typeof parseManifest>) => void } = {},
): Uint8Array {
  const files = unpack(bytes);
  mutate(files);
  if (o.resign) {
    const old = parseManifest(files.get(MANIFEST_PATH)!);
    o.editManifest?.(old);
    const rest: TarFile[] = [...files].filter(([p]) => p !== MANIFEST_PATH && p !== MANIFEST_DSSE_PATH).map(([path, data]) => ({ path, data }));
    const { bytes: m } = buildManifest(nodeSuite, rest, old.logs, old.selection);
    files.set(MANIFEST_PATH, m);
    files.set(MANIFEST_DSSE_PATH, signManifest(m, o.resign));
  }
  return gzipDeterministic(writeTar([...files].map(([path, data]) => ({ path, data }))));
}

export function lines(data: Uint8Array): Uint8Array[] {
  const text = dec.decode(data);
  return text
    .split('\n')
    .slice(0, -1)
    .map((l) => enc.encode(l));
}

export function joinLines(ls: readonly Uint8Array[]): Uint8Array {
  return enc.encode(ls.map((l) => dec.decode(l) + '\n').join(''));
}

export interface EditableNode {
  kind: NodeKind;
  subjectName: string;
  statement: Statement;
  /** Signers for the re-encoded node; default: the log's node key. */
  signers?: SigningKey[];
  /** Keep the stored bytes as they are (no re-signing, no re-chaining). */
  raw?: Uint8Array;
  /** Entry hash of the stored node this one came from. */
  origHash?: HashRef;
}

/**
 * Decodes a log, lets `edit` change, drop or insert nodes, then re-encodes: prev follows the new
 * order, same-log parent hashes are remapped to the re-encoded entries, index and lamport are
 * kept as the edit left them. Checkpoints are re-signed with the log key at the stored sizes
 * (those still within the log), with roots of the edited entries.
 */
export function rewriteLog(src: LogSource, keys: { node: SigningKey; log: SigningKey }, edit: (nodes: EditableNode[]) => void, o: { rechain?: boolean } = {}): LogSource {
  const nodes: EditableNode[] = src.entries.map((e) => {
    const d = decodeNode(nodeSuite, e);
    return { kind: d.kind, subjectName: d.statement.subject[0].name, statement: clone(d.statement), origHash: d.entryHash };
  });
  edit(nodes);
  const remap = new Map<HashRef, HashRef>();
  const entries: Uint8Array[] = [];
  let prevHash: HashRef | null = null;
  nodes.forEach((n, i) => {
    if (n.raw) {
      entries.push(n.raw);
      prevHash = decodeNode(nodeSuite, n.raw).entryHash;
      return;
    }
    const p = n.statement.predicate;
    if (o.rechain !== false) {
      if (i > 0) p.prev = prevHash;
      p.parents = p.parents.map((par) => (isCrossLog(par) ? par : { hash: remap.get(par.hash) ?? par.hash }));
    }
    const signers = n.signers ?? [keys.node];
    const e = encodeNode(nodeSuite, { kind: n.kind, subjectName: n.subjectName, predicate: p }, signers.map((s) => ({ keyid: s.verifier.handle, signer: s })));
    if (n.origHash) remap.set(n.origHash, e.entryHash);
    entries.push(e.entry);
    prevHash = e.entryHash;
  });
  const tree = new MerkleTree(nodeSuite);
  for (const e of entries) tree.appendEntry(e);
  const sizes = [...new Set(src.checkpoints.map((c) => parseCheckpointText(parseNote(c).text).size))].filter((s) => s <= entries.length);
  if (!sizes.includes(entries.length)) sizes.push(entries.length);
  const checkpoints = sizes.sort((a, b) => a - b).map((size) => signCheckpoint({ origin: src.origin, size, root: tree.root(size), extensions: [] }, keys.log));
  return { ...src, entries, checkpoints };
}

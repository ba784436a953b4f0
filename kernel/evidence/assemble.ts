// Turns log sections into the pack's files, manifest and signed manifest, as a deterministic tar.
// Portable; gzip is applied by the caller (gzip-node.ts on the export side).
import { toBase64, utf8 } from '../crypto/bytes.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { checkpointPath, consistencyPath, entriesPath, inputPath, isValidLogDir, MANIFEST_DSSE_PATH, MANIFEST_PATH, policyPath, priorEntryPath, priorProofPath, rangeProofPath } from './layout.js';
import { buildManifest, encodeRoot, signManifest, type Manifest } from './manifest.js';
import { PackError } from './pack-error.js';
import { writeTar, type TarFile } from './tar.js';
import type { LogSection } from './window.js';

const NEWLINE = 0x0a;

/** entries.jsonl: each entry's exact bytes followed by "\n". */
export function encodeEntries(entries: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const e of entries) n += e.length + 1;
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    // JCS escapes control characters, so a canonical entry never contains a raw newline.
    if (e.includes(NEWLINE)) throw new PackError('ERR_PACK_MALFORMED', 'an entry contains a newline byte', 'entries.jsonl');
    out.set(e, o);
    o += e.length;
    out[o++] = NEWLINE;
  }
  return out;
}

/** Hash-list files (range proof, consistency proofs): one base64 hash per line. */
export function encodeHashes(hashes: readonly Uint8Array[]): Uint8Array {
  return utf8(hashes.map((h) => toBase64(h) + '\n').join(''));
}

export function sectionFiles(s: LogSection): TarFile[] {
  if (!isValidLogDir(s.dir)) throw new PackError('ERR_PACK_UNSAFE_PATH', `log directory ${JSON.stringify(s.dir)} must match [A-Za-z0-9._-]{1,128}`, `logs/${s.dir}`);
  return [
    { path: entriesPath(s.dir), data: encodeEntries(s.entries) },
    { path: rangeProofPath(s.dir), data: encodeHashes(s.rangeProof) },
    ...s.checkpoints.map((c) => ({ path: checkpointPath(s.dir, c.size), data: utf8(c.note) })),
    ...s.consistency.map((c) => ({ path: consistencyPath(s.dir, c.a, c.b), data: encodeHashes(c.proof) })),
    ...s.prior.flatMap((p) => [
      { path: priorEntryPath(s.dir, p.index), data: p.entry },
      { path: priorProofPath(s.dir, p.index), data: encodeHashes(p.proof) },
    ]),
  ];
}

export interface AssembledPack {
  /** The uncompressed tar. */
  tar: Uint8Array;
  manifest: Manifest;
  manifestBytes: Uint8Array;
}

/** Decision inputs and policy bundles to carry, by hex SHA-256 (the caller picks the referenced ones). */
export interface PackBlobs {
  inputs: ReadonlyMap<string, Uint8Array>;
  policies: ReadonlyMap<string, Uint8Array>;
}

/** Builds the tar of a pack: log files and blobs, the manifest listing them, its signature by the exporter. */
export function assemblePack(o: { suite: CryptoSuite; sections: readonly LogSection[]; selection: Manifest['selection']; exporterKey: SigningKey; blobs?: PackBlobs }): AssembledPack {
  const files = o.sections.flatMap(sectionFiles);
  for (const [hex, data] of o.blobs?.inputs ?? []) files.push({ path: inputPath(hex), data });
  for (const [hex, data] of o.blobs?.policies ?? []) files.push({ path: policyPath(hex), data });
  const logs = o.sections.map((s) => ({ dir: s.dir, origin: s.origin, from: s.from, size: s.size, root: encodeRoot(s.root) }));
  const { manifest, bytes } = buildManifest(o.suite, files, logs, o.selection);
  const tar = writeTar([...files, { path: MANIFEST_PATH, data: bytes }, { path: MANIFEST_DSSE_PATH, data: signManifest(bytes, o.exporterKey) }]);
  return { tar, manifest, manifestBytes: bytes };
}

// Evidence pack export (node side): read a ProofGraph store, select each log's window, build the
// deterministic tar, gzip it and optionally write it. The same store and arguments always give the
// same bytes. Spec: docs/spec/evidence-pack.md.
import { rename, writeFile } from 'node:fs/promises';
import { toHex } from '../crypto/bytes.js';
import { nodeSuite } from '../crypto/node.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { formatTime } from '../proofgraph/clock.js';
import { readStore, type StoredLog } from '../proofgraph/store/index.js';
import { assemblePack, type PackBlobs } from './assemble.js';
import { addRefs, emptyRefs, peekEntry } from './blobs.js';
import { readBlobs } from '../pep/blob-store.js';
import { gzipDeterministic } from './gzip-node.js';
import { isValidLogDir } from './layout.js';
import type { Manifest } from './manifest.js';
import { parseSelectionTime } from './selection-time.js';
import { ExportError, planWindow, type TimeSelection } from './window.js';

export interface ExportOptions {
  /** The ProofGraph volume (one subdirectory per writer). */
  store: string;
  /** Where to write the pack; nothing is written when absent. */
  out?: string;
  /** RFC 3339 bounds on predicate.time, both inclusive. */
  from?: string;
  to?: string;
  exporterKey: SigningKey;
  suite?: CryptoSuite;
  /** The logs to export, already read (helmctl export finds nested logs and selects them); default: readStore(store). */
  logs?: StoredLog[];
}

export interface ExportedLog {
  dir: string;
  origin: string;
  from: number;
  size: number;
  entries: number;
  checkpoints: number;
}

export interface ExportResult {
  bytes: Uint8Array;
  /** Hex SHA-256 of the pack file. */
  sha256: string;
  manifest: Manifest;
  logs: ExportedLog[];
  /** Decision inputs and policy bundles carried for replay. */
  blobs: { inputs: number; policies: number };
  /** Logs left out and entries not exported, with the reason. */
  notes: string[];
}

export async function exportPack(o: ExportOptions): Promise<ExportResult> {
  const suite = o.suite ?? nodeSuite;
  const sel: TimeSelection = {};
  const selection: Manifest['selection'] = {};
  if (o.from !== undefined) {
    sel.from = parseSelectionTime(o.from, '--from');
    selection.from = formatTime(sel.from);
  }
  if (o.to !== undefined) {
    sel.to = parseSelectionTime(o.to, '--to');
    selection.to = formatTime(sel.to);
  }
  if (sel.from !== undefined && sel.to !== undefined && sel.from > sel.to) {
    throw new ExportError('ERR_EXPORT_SELECTION', `--from ${selection.from} is after --to ${selection.to}`);
  }
  const stored = o.logs ?? (await readStore(o.store));
  const sections = [];
  const notes: string[] = [];
  for (const log of stored) {
    if (!isValidLogDir(log.writerId)) {
      notes.push(`log ${JSON.stringify(log.writerId)}: writer id is not a valid pack directory name; not exported`);
      continue;
    }
    const plan = planWindow(suite, { dir: log.writerId, origin: log.origin, entries: log.entries, checkpoints: log.checkpoints }, sel);
    notes.push(...plan.notes);
    if (plan.section) sections.push(plan.section);
  }
  if (sections.length === 0) throw new ExportError('ERR_EXPORT_NOTHING', `nothing to export from ${o.store}: ${notes.join('; ') || 'no logs found'}`);
  const blobs = await referencedBlobs(suite, stored, sections, notes);
  const { tar, manifest } = assemblePack({ suite, sections, selection, exporterKey: o.exporterKey, blobs });
  const bytes = gzipDeterministic(tar);
  if (o.out !== undefined) {
    const tmp = `${o.out}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, bytes, { mode: 0o644 });
      await rename(tmp, o.out);
    } catch (e) {
      throw new ExportError('ERR_EXPORT_IO', `writing ${o.out}: ${(e as Error).message}`);
    }
  }
  return {
    bytes,
    sha256: toHex(suite.sha256(bytes)),
    manifest,
    logs: sections.map((s) => ({ dir: s.dir, origin: s.origin, from: s.from, size: s.size, entries: s.entries.length, checkpoints: s.checkpoints.length })),
    blobs: { inputs: blobs.inputs.size, policies: blobs.policies.size },
    notes,
  };
}

/**
 * The inputs and bundles the exported nodes reference, from the PEP blob files of the store's
 * log directories. A referenced blob no log directory holds is left out, and the summary says so.
 */
async function referencedBlobs(suite: CryptoSuite, stored: ReadonlyArray<{ dir: string; writerId: string }>, sections: ReadonlyArray<{ dir: string; entries: readonly Uint8Array[]; prior: ReadonlyArray<{ entry: Uint8Array }> }>, notes: string[]): Promise<PackBlobs> {
  const refs = emptyRefs();
  for (const s of sections) {
    for (const e of [...s.prior.map((p) => p.entry), ...s.entries]) {
      const n = peekEntry(e);
      if (n) addRefs(refs, n.kind, n.body);
    }
  }
  const available = new Map<string, Uint8Array>();
  let pepStore = false;
  for (const log of stored) {
    if (!sections.some((s) => s.dir === log.writerId)) continue;
    const blobs = await readBlobs(log.dir, suite, (hex) => refs.inputs.has(hex) || refs.policies.has(hex));
    pepStore ||= blobs !== null;
    for (const [hex, data] of blobs ?? []) available.set(hex, data);
  }
  const pick = (wanted: Set<string>, what: string): Map<string, Uint8Array> => {
    const out = new Map<string, Uint8Array>();
    let missing = 0;
    for (const hex of [...wanted].sort()) {
      const data = available.get(hex);
      if (data) out.set(hex, data);
      else missing++;
    }
    // Logs written without a PEP keep no blobs; only a PEP's store is expected to hold them.
    if (missing > 0 && pepStore) notes.push(`${missing} referenced ${what} not stored by any exported log directory; not in the pack`);
    return out;
  };
  return { inputs: pick(refs.inputs, 'decision input(s)'), policies: pick(refs.policies, 'policy bundle(s)') };
}

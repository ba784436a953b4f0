// Worker thread body for the node verifier: decodes entries and verifies Ed25519 signatures with
// node:crypto. Inputs arrive packed into transferable buffers (one copy at most, not one
// structured clone per item).
import { parentPort, workerData } from 'node:worker_threads';
import { nodeSuite } from '../crypto/node.js';
import type { HashRef, Statement } from '../contracts/node.js';
import type { NodeKind } from '../contracts/schemas.js';
import { decodeInline, type DecodeOutcome } from './graph-check.js';

export interface PackedBatch {
  id: number;
  count: number;
  /** count * 32 bytes. */
  keys: Uint8Array;
  /** count * 64 bytes. */
  sigs: Uint8Array;
  messages: Uint8Array;
  /** count + 1 offsets into messages. */
  offsets: Float64Array;
}

export interface PackedLines {
  id: number;
  count: number;
  /** Each line preceded by one 0x00 byte (the RFC 6962 leaf prefix). */
  data: Uint8Array;
  /** count + 1 offsets into data: line i is data[offsets[i] + 1, offsets[i + 1]). */
  offsets: Float64Array;
}

export type WorkerRequest = ({ op: 'verify' } & PackedBatch) | ({ op: 'decode' } & PackedLines);

/**
 * Decoded entries, shaped for a cheap trip back: one JSON text for the statements and metadata
 * (JSON.parse is far cheaper than structured-cloning thousands of objects and typed arrays), PAE
 * and signature bytes back to back in transferable buffers. The caller holds the entry bytes.
 * Bodies are kept only for the kinds whose body the verifier reads (trust, heartbeat, gap, and
 * decision and approval for the blobs they reference); other bodies come back as {} after the
 * worker checked them against the subject digest.
 */
export interface DecodeReply {
  /** JSON array: [kind, statement, entryHash, [keyid, ...]] or {code, message}. */
  json: string;
  pae: Uint8Array;
  /** count + 1 offsets into pae (entries that failed to decode have an empty range). */
  paeOffsets: Float64Array;
  sigs: Uint8Array;
  /** One offset per signature of every decoded entry, in order, plus the end. */
  sigOffsets: Float64Array;
  /** count * 32 bytes: the RFC 6962 leaf hash of every entry, decodable or not. */
  leaves: Uint8Array;
}

const BODY_KINDS = new Set(['trust', 'heartbeat', 'gap', 'decision', 'approval']);

export function verifyPacked(b: PackedBatch): Uint8Array {
  const out = new Uint8Array(b.count);
  for (let i = 0; i < b.count; i++) {
    const ok = nodeSuite.verifyEd25519(
      b.keys.subarray(32 * i, 32 * i + 32),
      b.messages.subarray(b.offsets[i]!, b.offsets[i + 1]!),
      b.sigs.subarray(64 * i, 64 * i + 64),
    );
    out[i] = ok ? 1 : 0;
  }
  return out;
}

function concatAll(parts: readonly Uint8Array[]): { bytes: Uint8Array; offsets: Float64Array } {
  const offsets = new Float64Array(parts.length + 1);
  let total = 0;
  parts.forEach((p, i) => {
    offsets[i] = total;
    total += p.length;
  });
  offsets[parts.length] = total;
  const bytes = new Uint8Array(total);
  parts.forEach((p, i) => bytes.set(p, offsets[i]!));
  return { bytes, offsets };
}

export function decodePacked(b: PackedLines): DecodeReply {
  // Items are serialized one by one, so a chunk's decoded objects die young (no retained graph to GC).
  const items: string[] = [];
  const paes: Uint8Array[] = [];
  const sigs: Uint8Array[] = [];
  const leaves = new Uint8Array(32 * b.count);
  for (let i = 0; i < b.count; i++) {
    const prefixed = b.data.subarray(b.offsets[i]!, b.offsets[i + 1]!);
    const line = prefixed.subarray(1);
    // The leaf hash SHA-256(0x00 || entry) of merkle.ts's leafHash, without copying the entry.
    leaves.set(nodeSuite.sha256(prefixed), 32 * i);
    const r = decodeInline(nodeSuite, line);
    if ('error' in r) {
      items.push(JSON.stringify(r.error));
      paes.push(new Uint8Array(0));
      continue;
    }
    const n = r.node;
    const statement = BODY_KINDS.has(n.kind) ? n.statement : { ...n.statement, predicate: { ...n.statement.predicate, body: {} } };
    items.push(JSON.stringify([n.kind, statement, n.entryHash, n.signatures.map((s) => s.keyid)]));
    paes.push(n.pae);
    for (const s of n.signatures) sigs.push(s.sig);
  }
  const p = concatAll(paes);
  const g = concatAll(sigs);
  return { json: `[${items.join(',')}]`, pae: p.bytes, paeOffsets: p.offsets, sigs: g.bytes, sigOffsets: g.offsets, leaves };
}

/** Rebuilds decoder outcomes from a reply; `lines` are the entries that were sent, in order. */
export function unpackDecoded(r: DecodeReply, lines: readonly Uint8Array[]): DecodeOutcome[] {
  const items = JSON.parse(r.json) as Array<[NodeKind, Statement, HashRef, string[]] | { code: string; message: string }>;
  if (items.length !== lines.length) throw new Error(`decoder returned ${items.length} entries for ${lines.length}`);
  let sig = 0;
  return items.map((it, i) => {
    const leaf = r.leaves.subarray(32 * i, 32 * i + 32);
    if (!Array.isArray(it)) return { error: it, leaf };
    const [kind, statement, entryHash, keyids] = it;
    return {
      node: {
        kind,
        statement,
        entry: lines[i]!,
        entryHash,
        pae: r.pae.subarray(r.paeOffsets[i]!, r.paeOffsets[i + 1]!),
        signatures: keyids.map((keyid) => ({ keyid, sig: r.sigs.subarray(r.sigOffsets[sig]!, r.sigOffsets[++sig]!) })),
      },
      leaf,
    };
  });
}

/** workerData marker: only a thread started by VerifyPool answers messages (a test runner's own worker thread must not). */
export const WORKER_MARKER = 'helm-verify-worker/v1';

if (parentPort && workerData === WORKER_MARKER) {
  const port = parentPort;
  port.on('message', (m: WorkerRequest) => {
    if (m.op === 'verify') {
      const results = verifyPacked(m);
      port.postMessage({ id: m.id, results }, [results.buffer as ArrayBuffer]);
    } else {
      const results = decodePacked(m);
      port.postMessage({ id: m.id, results }, [results.pae.buffer, results.paeOffsets.buffer, results.sigs.buffer, results.sigOffsets.buffer, results.leaves.buffer] as ArrayBuffer[]);
    }
  });
}

// Content-addressed members of a pack (docs/spec/evidence-pack.md §2): the canonical decision
// inputs and the policy bundles that decisions reference by hash, so replay can re-evaluate every
// decision offline. A blob must hash to its name, be canonical JSON, and be referenced by a node
// in the pack: anything else is an unexpected member. Portable.
import { equalBytes, fromBase64, toHex } from '../crypto/bytes.js';
import { jcs } from '../crypto/jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { parseJsonStrict } from '../contracts/node.js';
import { classifyMember } from './layout.js';
import type { Findings } from './problems.js';

export interface BlobRefs {
  /** Hex SHA-256 of decision inputs (decision.inputDigest). */
  readonly inputs: Set<string>;
  /** Hex SHA-256 of bundles (policyDigest of decision, heartbeat and approval nodes). */
  readonly policies: Set<string>;
}

const HASH = /^sha256:([0-9a-f]{64})$/;

function hexOf(v: unknown): string | null {
  return typeof v === 'string' ? (HASH.exec(v)?.[1] ?? null) : null;
}

export function emptyRefs(): BlobRefs {
  return { inputs: new Set(), policies: new Set() };
}

/** Adds what one node references. */
export function addRefs(refs: BlobRefs, kind: string, body: Record<string, unknown>): void {
  if (kind === 'decision') {
    const i = hexOf(body.inputDigest);
    if (i) refs.inputs.add(i);
  }
  if (kind === 'decision' || kind === 'heartbeat' || kind === 'approval') {
    const p = hexOf(body.policyDigest);
    if (p) refs.policies.add(p);
  }
}

/**
 * Kind and body of an entry without the full decode (for export, which trusts its own store and
 * only needs to know which blobs to carry); null when the entry does not parse.
 */
export function peekEntry(entry: Uint8Array): { kind: string; body: Record<string, unknown> } | null {
  try {
    const env = parseJsonStrict(entry, 'entry') as { payload?: unknown };
    if (typeof env.payload !== 'string') return null;
    const st = parseJsonStrict(fromBase64(env.payload), 'payload') as { predicateType?: unknown; predicate?: { body?: unknown } };
    const m = typeof st.predicateType === 'string' ? /\/proofgraph\/([a-z]+)\/v1$/.exec(st.predicateType) : null;
    const body = st.predicate?.body;
    if (!m || typeof body !== 'object' || body === null) return null;
    return { kind: m[1]!, body: body as Record<string, unknown> };
  } catch {
    return null;
  }
}

export interface PackBlob {
  readonly kind: 'input' | 'policy';
  readonly hex: string;
  readonly path: string;
  readonly data: Uint8Array;
  /** The bytes hash to the name and are canonical JSON: safe to replay from. */
  readonly sound: boolean;
}

/** Checks every blob member: its hash, its canonical form, and that a node references it. */
export function checkBlobs(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, refs: BlobRefs, f: Findings): PackBlob[] {
  const out: PackBlob[] = [];
  for (const [path, data] of files) {
    const m = classifyMember(path);
    if (!m || (m.kind !== 'input' && m.kind !== 'policy')) continue;
    let sound = true;
    if (toHex(suite.sha256(data)) !== m.hex) {
      f.problem('ERR_PACK_BLOB_DIGEST', path, `content hashes to sha256:${toHex(suite.sha256(data))}, not the ${m.kind} it is named after`);
      sound = false;
    } else {
      try {
        if (!equalBytes(jcs(parseJsonStrict(data, path)), data)) throw new Error('not the JCS form of its content');
      } catch (e) {
        f.problem('ERR_PACK_BLOB_MALFORMED', path, `${m.kind} is not canonical JSON: ${(e as Error).message}`);
        sound = false;
      }
    }
    const referenced = m.kind === 'input' ? refs.inputs.has(m.hex) : refs.policies.has(m.hex);
    if (!referenced) f.problem('ERR_PACK_UNEXPECTED_FILE', path, `no node in the pack references this ${m.kind}`);
    out.push({ kind: m.kind, hex: m.hex, path, data, sound });
  }
  return out;
}

/** Everything the decoded nodes of the pack (prior entries and windows) reference. */
export function refsOfLogs(logs: ReadonlyArray<{ nodes: ReadonlyArray<{ node: { kind: string; statement: { predicate: { body: Record<string, unknown> } } } | null }>; priorNodes: ReadonlyArray<{ node: { kind: string; statement: { predicate: { body: Record<string, unknown> } } } | null }> }>): BlobRefs {
  const refs = emptyRefs();
  for (const l of logs) for (const n of [...l.priorNodes, ...l.nodes]) if (n.node) addRefs(refs, n.node.kind, n.node.statement.predicate.body);
  return refs;
}

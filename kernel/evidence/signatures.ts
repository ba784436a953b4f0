// Node signatures against the trust registry. Trust events found in `trust` nodes are folded into a
// registry rooted at the policy's root key first (in log dir, index order), so a key published
// later in the pack covers earlier nodes when its fromIndex says so. Then each node needs at least
// one valid signature by a key the registry resolves for (origin, index); a signature by such a key
// that does not verify is tampering. Keys inside the pack are never trusted by themselves.
import type { CryptoSuite } from '../crypto/suite.js';
import { TrustError } from '../trust/events.js';
import { TrustRegistry } from '../trust/registry.js';
import type { CheckedLog, CheckedNode } from './graph-check.js';
import type { Findings } from './problems.js';
import type { TrustPolicy } from './trust-policy.js';

export interface SignatureTask {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** Verifies a batch of Ed25519 signatures; results in task order. */
export type VerifyMany = (tasks: SignatureTask[]) => Promise<boolean[]>;

export function sequentialVerifier(suite: CryptoSuite): VerifyMany {
  return async (tasks) => tasks.map((t) => suite.verifyEd25519(t.publicKey, t.message, t.signature));
}

export function buildRegistry(suite: CryptoSuite, policy: TrustPolicy, logs: readonly CheckedLog[], f: Findings): TrustRegistry {
  const registry = new TrustRegistry(suite, policy.root?.key ?? null);
  for (const l of logs) {
    // Prior trust nodes (before the window, proved by inclusion) come first: they are earlier in the log.
    for (const cn of [...l.priorNodes, ...l.nodes]) {
      if (cn.node?.kind !== 'trust') continue;
      const where = `${cn.file} index ${cn.index}`;
      try {
        registry.apply((cn.node.statement.predicate.body as { event: unknown }).event, where);
      } catch (e) {
        if (!(e instanceof TrustError)) throw e;
        f.problem(e.code, cn.file, `trust event not accepted: ${e.message}`, cn.index);
      }
    }
  }
  return registry;
}

/** Nodes per batch handed to the verifier: bounds memory (each message is a whole payload). */
const BATCH_NODES = 4096;

export interface SignatureStats {
  signatures: number;
  /** Handles of node keys that signed at least one node. */
  signers: Set<string>;
}

interface Batch {
  log: CheckedLog;
  nodes: CheckedNode[];
  tasks: SignatureTask[];
  owners: Array<{ node: number; keyid: string }>;
  refused: Map<number, string[]>;
}

function prepare(registry: TrustRegistry, log: CheckedLog, nodes: CheckedNode[]): Batch {
  const b: Batch = { log, nodes, tasks: [], owners: [], refused: new Map() };
  nodes.forEach((cn, k) => {
    if (!cn.node) return;
    for (const s of cn.node.signatures) {
      const r = registry.resolve(s.keyid, log.origin, cn.index);
      if (r.ok) {
        b.tasks.push({ publicKey: r.key.publicKey, message: cn.node.pae, signature: s.sig });
        b.owners.push({ node: k, keyid: s.keyid });
      } else {
        b.refused.set(k, [...(b.refused.get(k) ?? []), `${s.keyid}: ${r.reason}`]);
      }
    }
  });
  return b;
}

function judge(b: Batch, results: boolean[], stats: SignatureStats, f: Findings): void {
  if (results.length !== b.tasks.length) throw new Error(`signature verifier returned ${results.length} results for ${b.tasks.length} tasks`);
  stats.signatures += b.tasks.length;
  const good = new Map<number, number>();
  const bad = new Map<number, string[]>();
  results.forEach((ok, t) => {
    const o = b.owners[t]!;
    if (ok) {
      good.set(o.node, (good.get(o.node) ?? 0) + 1);
      stats.signers.add(o.keyid);
    } else bad.set(o.node, [...(bad.get(o.node) ?? []), o.keyid]);
  });
  b.nodes.forEach((cn, k) => {
    if (!cn.node) return;
    const bd = bad.get(k);
    if (bd) {
      f.problem('ERR_NODE_BAD_SIGNATURE', cn.file, `signature by ${bd.join(', ')} does not verify: the node was altered after signing`, cn.index);
    } else if (!good.has(k)) {
      f.problem('ERR_NODE_UNTRUSTED_SIGNER', cn.file, `no signature by a key the trust registry accepts for ${b.log.origin} at index ${cn.index} (${(b.refused.get(k) ?? []).join('; ')})`, cn.index);
    }
  });
}

export async function checkSignatures(registry: TrustRegistry, logs: readonly CheckedLog[], verifyMany: VerifyMany, f: Findings): Promise<SignatureStats> {
  const stats: SignatureStats = { signatures: 0, signers: new Set() };
  const slices: Array<{ log: CheckedLog; nodes: CheckedNode[] }> = [];
  for (const l of logs) {
    const all = [...l.priorNodes, ...l.nodes];
    for (let start = 0; start < all.length; start += BATCH_NODES) slices.push({ log: l, nodes: all.slice(start, start + BATCH_NODES) });
  }
  // The next batch is prepared and handed to the verifier before this one's results are judged, so
  // a parallel verifier is never idle while the calling thread works. Findings keep batch order.
  const start = (i: number): { batch: Batch; results: Promise<boolean[]> } | null => {
    const s = slices[i];
    if (!s) return null;
    const batch = prepare(registry, s.log, s.nodes);
    const results = batch.tasks.length > 0 ? verifyMany(batch.tasks) : Promise.resolve([]);
    results.catch(() => undefined); // awaited in turn; a failure must not surface as unhandled first
    return { batch, results };
  };
  let current = start(0);
  for (let i = 0; current; i++) {
    const next = start(i + 1);
    judge(current.batch, await current.results, stats, f);
    current = next;
  }
  return stats;
}

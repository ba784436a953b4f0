// Offline verification of one receipt (a ProofGraph node) with the kernel's own checks, so the SDK
// rejects exactly what `helmctl verify` rejects: JCS form at both layers, envelope shape, statement
// schema and subject digest (docs/spec/receipt.md §8 steps 1-2), then the Ed25519 signatures
// against node keys that the trust policy's root published (step 4-5), then, when given, the
// c2sp.org/tlog-proof inclusion proof against a checkpoint signed by a log key of the policy.
// Not checked here (needs the neighbouring entries): prev/lamport/time along the log (step 3).
import { utf8 } from '../../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { decodeNode, type Statement } from '../../../kernel/contracts/node.js';
import { parseTrustPolicy, type TrustPolicy } from '../../../kernel/evidence/trust-policy.js';
import { verifyTlogProof } from '../../../kernel/proofgraph/tlog-proof.js';
import { TrustRegistry } from '../../../kernel/trust/registry.js';

export class ReceiptError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ReceiptError';
  }
}

/** What a verifier trusts: a trust policy file and the root-signed key events that publish node keys. */
export interface Trust {
  policy: TrustPolicy;
  registry: TrustRegistry;
}

function rethrow(e: unknown): never {
  if (e instanceof ReceiptError) throw e;
  const code = (e as { code?: unknown }).code;
  throw new ReceiptError(typeof code === 'string' ? code : 'ERR_RECEIPT_INVALID', (e as Error).message);
}

function parseEvent(text: string, i: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ReceiptError('ERR_TRUST_EVENT_INVALID', `trust event ${i} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Loads a trust policy (docs/spec/trust-policy.md) and folds key events into it. Each event is a
 * DSSE envelope (object or JSON text) as `helmctl trust publish` writes it and `trust` nodes carry;
 * events not signed by the policy's root are refused (ERR_TRUST_*).
 */
export function loadTrust(policyText: string, events: ReadonlyArray<unknown> = [], source = 'trust policy'): Trust {
  try {
    const policy = parseTrustPolicy(policyText, source);
    const registry = new TrustRegistry(nodeSuite, policy.root?.key ?? null);
    events.forEach((ev, i) => registry.apply(typeof ev === 'string' ? parseEvent(ev, i) : ev, `event ${i}`));
    return { policy, registry };
  } catch (e) {
    rethrow(e);
  }
}

/** Adds the key event a `trust` receipt carries (after verifying that receipt). */
export function trustEventsOf(entries: ReadonlyArray<Uint8Array | string>): unknown[] {
  return entries
    .map((e) => decodeNode(nodeSuite, typeof e === 'string' ? utf8(e) : e))
    .filter((n) => n.kind === 'trust')
    .map((n) => (n.statement.predicate.body as { event: unknown }).event);
}

export interface VerifiedReceipt {
  kind: string;
  entryHash: string;
  origin: string;
  index: number;
  statement: Statement;
  body: Record<string, unknown>;
  /** Key handles whose signature verified with a key the trust registry resolves. */
  signers: string[];
  /** Present when a proof was verified. */
  inclusion: { checkpointSize: number; logKey: string; witnesses: string[] } | null;
}

/**
 * Verifies one entry (the bytes of the receipt, exactly as logged) and, with `proof`, its
 * inclusion. Throws ReceiptError with the code of the first failed check.
 */
export function verifyReceipt(entry: Uint8Array | string, trust: Trust, opts: { proof?: string } = {}): VerifiedReceipt {
  const bytes = typeof entry === 'string' ? utf8(entry) : entry;
  try {
    const node = decodeNode(nodeSuite, bytes);
    const { origin, index } = node.statement.predicate;
    const signers: string[] = [];
    const refused: string[] = [];
    for (const s of node.signatures) {
      const r = trust.registry.resolve(s.keyid, origin, index);
      if (!r.ok) {
        refused.push(`${s.keyid}: ${r.reason}`);
        continue;
      }
      if (!nodeSuite.verifyEd25519(r.key.publicKey, node.pae, s.sig)) throw new ReceiptError('ERR_SIGNATURE', `signature by ${s.keyid} does not verify: the receipt was altered after signing`);
      signers.push(s.keyid);
    }
    if (signers.length === 0) throw new ReceiptError('ERR_UNTRUSTED_SIGNER', `no signature by a key the trust policy reaches for ${origin} at index ${index} (${refused.join('; ')})`);
    let inclusion: VerifiedReceipt['inclusion'] = null;
    if (opts.proof !== undefined) {
      const p = verifyTlogProof(opts.proof, bytes, trust.policy, nodeSuite);
      if (p.checkpoint.origin !== origin) throw new ReceiptError('ERR_TLOG_PROOF_ORIGIN', `the proof's checkpoint is for ${p.checkpoint.origin}, the receipt for ${origin}`);
      if (p.index !== index) throw new ReceiptError('ERR_TLOG_PROOF_INDEX', `the proof is for index ${p.index}, the receipt says ${index}`);
      inclusion = { checkpointSize: p.checkpoint.size, logKey: p.logKey.handle, witnesses: p.witnesses };
    }
    return { kind: node.kind, entryHash: node.entryHash, origin, index, statement: node.statement, body: node.statement.predicate.body as Record<string, unknown>, signers, inclusion };
  } catch (e) {
    rethrow(e);
  }
}

// Deliberately broken kernels, for the mutation test of the conformance runner only. Each patches
// one kernel class of THIS process (the in-process sidecar uses the same module instances) and
// returns the undo. Nothing here exists in production code: no flag turns any of it on.
import { randomBytes } from 'node:crypto';
import type { NodeKind } from '../../kernel/contracts/schemas.js';
import { LimitLedger } from '../../kernel/pep/ledger.js';
import { Pep } from '../../kernel/pep/pep.js';
import { ProofGraphWriter, type AppendedNode } from '../../kernel/proofgraph/graph-writer.js';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import type { KeyEvent } from '../../kernel/trust/events.js';
import { TrustRegistry } from '../../kernel/trust/registry.js';

export interface BrokenKernel {
  name: string;
  /** The requirement the runner must name as failed. */
  requirement: string;
  level: 'L1' | 'L2';
  /**
   * The requirement is only checked with --crash-command, which an in-process sidecar cannot take:
   * runner.test.ts runs these against its real sidecar process (mutants.test.ts skips them).
   */
  needsCrashCommand?: boolean;
  patch(): () => void;
}

type Append = ProofGraphWriter['append'];
type WriterInternals = { lastLamport: number; store: { size: number }; origin: string };

function patchAppend(wrap: (orig: Append) => Append): () => void {
  const orig = ProofGraphWriter.prototype.append;
  ProofGraphWriter.prototype.append = wrap(orig);
  return () => {
    ProofGraphWriter.prototype.append = orig;
  };
}

export const BROKEN_KERNELS: readonly BrokenKernel[] = [
  {
    name: 'a PEP that allows unknown tools',
    requirement: 'L1-PEP-UNKNOWN-TOOL',
    level: 'L1',
    patch() {
      const orig = Pep.prototype.decide;
      Pep.prototype.decide = async function (this: Pep, request: unknown) {
        const o = await orig.call(this, request);
        return o.reasonCode === 'TOOL_NOT_DECLARED' ? { ...o, verdict: 'ALLOW', reasonCode: 'ALLOWED' } : o;
      };
      return () => {
        Pep.prototype.decide = orig;
      };
    },
  },
  {
    name: 'a writer that skips the signature (64 zero bytes) of every third node',
    requirement: 'L1-RECEIPT-SIGNATURE',
    level: 'L1',
    patch() {
      const orig = ProofGraphWriter.open;
      ProofGraphWriter.open = async function (o) {
        const key = o.nodeKey;
        let n = 0;
        // Every third node gets no real signature: 64 zero bytes in its place.
        const unsigned = { ...key, verifier: key.verifier, publicKey: key.publicKey, privateText: key.privateText, sign: (m: Uint8Array) => (++n % 3 === 0 ? new Uint8Array(64) : key.sign(m)) };
        return orig.call(this, { ...o, nodeKey: unsigned });
      };
      return () => {
        ProofGraphWriter.open = orig;
      };
    },
  },
  {
    name: 'a writer that reorders Lamport values after each decision',
    requirement: 'L1-LAMPORT',
    level: 'L1',
    patch: () =>
      patchAppend((orig) =>
        function (this: ProofGraphWriter, kind: NodeKind, body, o) {
          const p = orig.call(this, kind, body, o);
          if (kind === 'decision') (this as unknown as WriterInternals).lastLamport -= 3;
          return p;
        },
      ),
  },
  {
    name: 'a writer that drops DENY decision receipts',
    requirement: 'L1-DENY-RECEIPT',
    level: 'L1',
    patch: () =>
      patchAppend((orig) =>
        function (this: ProofGraphWriter, kind: NodeKind, body, o) {
          if (kind !== 'decision' || body.verdict !== 'DENY') return orig.call(this, kind, body, o);
          const w = this as unknown as WriterInternals;
          // Reported as recorded, never written.
          const fake: AppendedNode = { kind, index: w.store.size, lamport: w.lastLamport + 1, entryHash: `sha256:${randomBytes(32).toString('hex')}`, time: new Date().toISOString(), origin: w.origin };
          return Promise.resolve(fake);
        },
      ),
  },
  {
    name: 'a PEP ledger that ignores budgets',
    requirement: 'L2-BUDGET',
    level: 'L2',
    patch() {
      const orig = LimitLedger.prototype.apply;
      LimitLedger.prototype.apply = function (this: LimitLedger, c) {
        orig.call(this, { ...c, budgets: [] });
      };
      return () => {
        LimitLedger.prototype.apply = orig;
      };
    },
  },
  {
    // Revocation is enforced by the offline verifier (kernel/trust/registry.ts), the one helmctl
    // verify and the runner run: so this patch breaks the runner's own verifier (this process), not
    // the sidecar, which only records the event. It accepts a KEY_REVOKE and never folds it in.
    name: 'a verifier that ignores KEY_REVOKE',
    requirement: 'L2-TRUST-REVOCATION',
    level: 'L2',
    needsCrashCommand: true,
    patch() {
      const orig = TrustRegistry.prototype.apply;
      TrustRegistry.prototype.apply = function (this: TrustRegistry, envelope: unknown, where: string) {
        let predicate: KeyEvent | undefined;
        try {
          predicate = (JSON.parse(Buffer.from(String((envelope as { payload?: unknown }).payload ?? ''), 'base64').toString()) as { predicate?: KeyEvent }).predicate;
        } catch {
          predicate = undefined; // not an event this patch concerns: the real apply judges it
        }
        return predicate?.event === 'KEY_REVOKE' ? predicate : orig.call(this, envelope, where);
      };
      return () => {
        TrustRegistry.prototype.apply = orig;
      };
    },
  },
  {
    // The counterpart, to show the two trust checks apart: the new key of a KEY_ROTATE is accepted
    // but the old one never retired (it stays valid after the rotation index unless revoked).
    name: 'a verifier that never retires the old key of a KEY_ROTATE',
    requirement: 'L2-TRUST-ROTATION',
    level: 'L2',
    needsCrashCommand: true,
    patch() {
      const orig = TrustRegistry.prototype.apply;
      TrustRegistry.prototype.apply = function (this: TrustRegistry, envelope: unknown, where: string) {
        const ev = orig.call(this, envelope, where);
        const records = (this as unknown as { records: Map<string, { rotatedAt: number | null }> }).records;
        const old = ev.event === 'KEY_ROTATE' ? records.get(`${ev.origin}\n${parseVerifierKey(ev.key).handle}`) : undefined;
        if (old) old.rotatedAt = null;
        return ev;
      };
      return () => {
        TrustRegistry.prototype.apply = orig;
      };
    },
  },
];

// The PEP's vocabulary: what callers hand it, what it records and what it answers. The wire
// shapes (decision body extensions, approval body) are in kernel/contracts/schemas.ts; the
// normative prose is docs/spec/pep.md.
import type { HashRef } from '../contracts/node.js';
import type { JsonObject, Surface } from '../guardian/bundle-types.js';
import type { Consumption } from '../guardian/limits.js';
import type { ReasonCode, Verdict } from '../guardian/reason-codes.js';
import type { AppendedNode } from '../proofgraph/graph-writer.js';

/** One proposed tool call, as a surface (OpenAI, MCP, REST, CLI) hands it to the PEP. */
export interface PepRequest {
  callId: string;
  surface: Surface;
  principal: { id: string; roles?: string[]; attributes?: JsonObject };
  tool: string;
  args: JsonObject;
  connector?: string | null;
  sandbox?: string | null;
  context?: JsonObject;
  /** A retried call with the same key (per principal) is the same call: allowed at most once. */
  idempotencyKey?: string;
}

export const BASIS_KINDS = ['approved', 'approval-pending', 'approval-timeout', 'approval-rejected', 'duplicate', 'request', 'overload'] as const;
export type BasisKind = (typeof BASIS_KINDS)[number];

/**
 * Why the recorded verdict is not the evaluation's own (or what it refers to beyond the input):
 * replay checks the basis instead of expecting the evaluation's verdict. Present only when the
 * evaluation allowed or escalated the call.
 */
export interface Basis {
  kind: BasisKind;
  /** The approval ceremony (challenge nonce) the decision belongs to. */
  nonce?: string;
  /** approved: the ESCALATE decision; duplicate: the decision that already used the key. */
  decision?: HashRef;
  /** approved: the approval nodes that made the quorum. */
  approvals?: HashRef[];
}

/** What an ESCALATE records: the requirement, the challenge nonce and the PEP-clock window. */
export interface EscalationRecord {
  approval: string;
  approvers: string[];
  quorum: number;
  timelockSeconds: number;
  holdSeconds: number;
  timeoutSeconds: number;
  nonce: string;
  /** Approvals are refused before this instant (evaluation time + timelock). */
  notBefore: string;
  /** Without quorum (and hold) by this instant the call is denied APPROVAL_TIMEOUT. */
  expiresAt: string;
}

/** The decision node body: the Guardian's fields plus the PEP's optional ones. */
export interface DecisionRecord {
  callId: string;
  tool: string;
  verdict: Verdict;
  reasonCode: ReasonCode;
  ruleIds: string[];
  policyDigest: HashRef | null;
  inputDigest: HashRef;
  engine: string;
  consumed?: Consumption;
  escalation?: EscalationRecord;
  retryAfterMs?: number;
  sandbox?: string;
  basis?: Basis;
}

/** What an approver needs to sign an approval (docs/spec/pep.md §5). */
export interface Challenge {
  callId: string;
  decision: HashRef;
  policyDigest: HashRef;
  nonce: string;
  approval: string;
  approvers: string[];
  quorum: number;
  notBefore: string;
  expiresAt: string;
}

export interface PepOutcome {
  readonly callId: string;
  readonly verdict: Verdict;
  readonly reasonCode: ReasonCode;
  readonly ruleIds: readonly string[];
  readonly policyDigest: HashRef | null;
  readonly inputDigest: HashRef;
  readonly detail: string;
  /**
   * True once the decision node is durable. False: nothing durable records the decision, the
   * verdict is DENY RECEIPT_UNAVAILABLE whatever the evaluation said, and the sidecar answers 503.
   */
  readonly recorded: boolean;
  readonly intent: AppendedNode | null;
  readonly decision: AppendedNode | null;
  readonly basis?: Basis;
  /** TEMPORAL_THROTTLE, or an approved call still in its hold: when to retry. */
  readonly retryAfterMs?: number;
  /** ALLOW and ESCALATE: the sandbox profile the executor must apply. */
  readonly sandbox?: string;
  /** ESCALATE: what approvers sign (present once the decision is recorded). */
  readonly challenge?: Challenge;
}

export type EffectStatus = 'executed' | 'failed' | 'blocked';

export interface EffectReport {
  status: EffectStatus;
  /** The executor confirmed the effect happened (or did not). */
  confirmed?: boolean;
  durationUs?: number;
  error?: string;
}

export interface ResultReport {
  status: 'ok' | 'error';
  /** The tool's output, checked against the tool's pinned output schema. */
  output: unknown;
  /** A sandboxed call: what the module consumed (recorded in the RESULT node). */
  compute?: ComputeRecord;
  /** status error: the registered code that ended the call (a sandbox limit, a guest fault). */
  reasonCode?: ReasonCode;
}

/** The RESULT node's record of a sandboxed run. Hashes are `sha256:<hex>`. */
export interface ComputeRecord {
  moduleSha256: HashRef;
  gas: number;
  wallMs: number;
  peakMemoryPages: number;
  outputBytes: number;
  /** Digest of the guest's raw stdout (replay compares it). */
  outputDigest: HashRef;
}

export type RecordRefusalCode =
  | 'ERR_IDEMPOTENCY_DUPLICATE'
  | 'ERR_PEP_UNKNOWN_DECISION'
  | 'ERR_PEP_UNKNOWN_EFFECT'
  | 'ERR_PEP_NOT_ALLOWED'
  | 'ERR_PEP_MALFORMED'
  | 'ERR_PEP_UNRECORDED';

export type EffectOutcome = { readonly recorded: true; readonly node: AppendedNode } | { readonly recorded: false; readonly code: RecordRefusalCode; readonly message: string };

export type ResultOutcome =
  | {
      readonly recorded: true;
      readonly node: AppendedNode;
      readonly status: 'ok' | 'error' | 'rejected';
      readonly outputDigest: HashRef;
      /** Set when the output drifted from the pinned schema: the output must not reach the model. */
      readonly reasonCode?: 'ERR_CONNECTOR_CONTRACT_DRIFT';
      readonly detail?: string;
    }
  | { readonly recorded: false; readonly code: RecordRefusalCode; readonly message: string };

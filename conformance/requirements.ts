// The conformance levels: every requirement of docs/conformance.md, with the check that proves it.
// A requirement with `notYet` has no check: the feature (or a black-box way to observe it) does
// not exist yet, and the report says so instead of pretending.
export type Level = 'L1' | 'L2' | 'L3';
export const LEVELS: readonly Level[] = ['L1', 'L2', 'L3'];

/** surface: drives the sidecar's surfaces; evidence: reads the exported pack afterwards. */
export type Phase = 'surface' | 'evidence';

export interface Requirement {
  id: string;
  level: Level;
  title: string;
  phase: Phase;
  notYet?: string;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { id: 'L1-PEP-ALLOW', level: 'L1', phase: 'surface', title: 'A declared, granted call with valid arguments is allowed, executed once and answered with its receipts' },
  { id: 'L1-PEP-UNKNOWN-TOOL', level: 'L1', phase: 'surface', title: 'A call of a tool the bundle does not declare is denied TOOL_NOT_DECLARED and never reaches the agent or the tool' },
  { id: 'L1-PEP-UNKNOWN-FIELD', level: 'L1', phase: 'surface', title: 'An argument the schema does not declare is denied ERR_TOOL_ARGS_UNKNOWN_FIELD' },
  { id: 'L1-PEP-SCHEMA', level: 'L1', phase: 'surface', title: 'Wrong types and missing required arguments are denied (ERR_TOOL_ARGS_TYPE_MISMATCH, ERR_TOOL_ARGS_MISSING_REQUIRED)' },
  { id: 'L1-PEP-DUPLICATE-KEY', level: 'L1', phase: 'surface', title: 'Arguments with a duplicate key are denied INPUT_DUPLICATE_KEY on the OpenAI and MCP surfaces' },
  { id: 'L1-JCS', level: 'L1', phase: 'surface', title: 'What runs is what was decided: an allowed call reaches the agent as the RFC 8785 canonical form of the judged value' },
  { id: 'L1-DENY-RECEIPT', level: 'L1', phase: 'evidence', title: 'Every DENY a surface answered has its signed DECISION receipt in the pack, with the same call id, verdict and reason code' },
  { id: 'L1-RECEIPT-SIGNATURE', level: 'L1', phase: 'evidence', title: 'Every node carries a valid Ed25519 signature by a node key the trust policy vouches for' },
  { id: 'L1-LAMPORT', level: 'L1', phase: 'evidence', title: 'Lamport values increase along each log and exceed those of every parent' },
  { id: 'L1-PROOFGRAPH', level: 'L1', phase: 'evidence', title: 'ProofGraph integrity: prev chain, indexes, parents, Merkle roots and signed checkpoints agree' },
  { id: 'L1-OFFLINE-VERIFY', level: 'L1', phase: 'evidence', title: 'The exported pack verifies offline against the trust policy alone, and a copy with one verdict flipped is rejected' },
  { id: 'L2-BUDGET', level: 'L2', phase: 'surface', title: 'A calls budget allows exactly its remaining calls, then denies BUDGET_EXCEEDED without executing' },
  { id: 'L2-RATE-LIMIT', level: 'L2', phase: 'surface', title: 'A token bucket without a token denies TEMPORAL_THROTTLE with a retry delay' },
  { id: 'L2-APPROVAL', level: 'L2', phase: 'surface', title: 'Approval ceremony: ESCALATE with a challenge, a wrong key refused, a signed approval accepted once, the retried call allowed exactly once' },
  { id: 'L2-IDEMPOTENCY', level: 'L2', phase: 'surface', title: 'A second call with a used idempotency key is denied ERR_IDEMPOTENCY_DUPLICATE and not executed' },
  { id: 'L2-OUTPUT-DRIFT', level: 'L2', phase: 'surface', title: 'A tool output that breaks the pinned output schema is withheld, ERR_CONNECTOR_CONTRACT_DRIFT' },
  { id: 'L2-PACK-DETERMINISM', level: 'L2', phase: 'evidence', title: 'Two exports of the same log are byte-identical' },
  { id: 'L2-REPLAY', level: 'L2', phase: 'evidence', title: 'Replaying every decision of the pack reproduces it: zero divergence' },
  { id: 'L2-TRUST-ROOT', level: 'L2', phase: 'evidence', title: 'Node keys are trusted only through root-signed trust events: under another root the pack is rejected' },
  { id: 'L2-TRUST-ROTATION', level: 'L2', phase: 'evidence', title: 'Key rotation by log position: after a root-signed KEY_ROTATE and a restart with the new node key, the pack spanning both keys verifies and a node signed by the retired key after the rotation is refused (run with --crash-command)' },
  { id: 'L2-TRUST-REVOCATION', level: 'L2', phase: 'evidence', title: 'Key revocation by log position: after a root-signed KEY_REVOKE of the retired node key recorded at the restart, the pack verifies, a trust node holds the revocation and a node signed by the revoked key from its index is refused as revoked (run with --crash-command)' },
  { id: 'L2-SANDBOX-LIMITS', level: 'L2', phase: 'surface', title: 'A sandboxed tool runs within its compute profile; exhausted gas, output, memory and wall time each end the call with its own code and a signed RESULT' },
  { id: 'L3-BUNDLE-TRUST', level: 'L3', phase: 'surface', title: 'A bundle signed by an untrusted or a revoked signer is rejected and the bundle in force stays' },
  { id: 'L3-BUNDLE-COMPOSITION', level: 'L3', phase: 'surface', title: 'A bundle composed from the base and a PolicyOverlay (helmctl bundle compose), signed and swapped in, is enforced as composed: the overlay\'s DENY rule and its ALLOW requirement (layer 1) narrow the base, calls both layers permit are allowed' },
  { id: 'L3-MERKLE-PROOFS', level: 'L3', phase: 'evidence', title: 'Inclusion proofs of decisions and a consistency proof between checkpoints verify against the signed checkpoints' },
  { id: 'L3-CRASH-DURABILITY', level: 'L3', phase: 'evidence', title: 'Every answered decision survives a SIGKILL of the sidecar (run with --crash-command)' },
  { id: 'L3-STREAMING', level: 'L3', phase: 'surface', title: 'Streamed answers are governed: a refused call never leaves the proxy, an allowed one is released canonical, the summary names both' },
  { id: 'L3-MCP-ERAS', level: 'L3', phase: 'surface', title: 'Both MCP protocol eras (2026-07-28 and 2025 Streamable HTTP, and legacy HTTP+SSE) list only granted tools and govern calls' },
];

export function requirementsFor(level: Level): Requirement[] {
  const max = LEVELS.indexOf(level);
  return REQUIREMENTS.filter((r) => LEVELS.indexOf(r.level) <= max);
}

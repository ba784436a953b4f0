// Until the keys are certified, every proposed call is denied IDENTITY_UNCERTIFIED with a signed
// local receipt (an intent and a decision node in this sidecar's own log, signed by the not yet
// certified node key; the certification, published from index 0, makes them verifiable later).
// The guardian is not consulted, so nothing can be allowed under an uncertified key.
import { toHex } from '../../kernel/crypto/bytes.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import { ENGINE } from '../../kernel/guardian/evaluate.js';
import type { DecideOptions, Pep, PepOutcome } from '../../kernel/pep/index.js';
import { readRequest } from '../../kernel/pep/request.js';
import type { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';

const DETAIL = "the sidecar's signing keys are not yet certified by the operator; every call is denied until they are (see /readyz)";

function denyUncertified(writer: ProofGraphWriter, suite: CryptoSuite, request: unknown): Promise<PepOutcome> {
  return denyBeforeGuardian(writer, suite, request, 'IDENTITY_UNCERTIFIED', DETAIL);
}

/** Denies with a signed local receipt (intent + decision) without consulting the guardian. */
export async function denyBeforeGuardian(writer: ProofGraphWriter, suite: CryptoSuite, request: unknown, reasonCode: 'IDENTITY_UNCERTIFIED' | 'RECEIPT_BACKLOG', detail: string): Promise<PepOutcome> {
  const req = readRequest(request, suite, 'rest');
  const inputDigest = `sha256:${toHex(suite.sha256(new Uint8Array(0)))}` as const;
  const base = { callId: req.intent.callId, verdict: 'DENY' as const, ruleIds: [], policyDigest: null, inputDigest };
  let intent = null;
  try {
    intent = await writer.append('intent', { ...req.intent });
    const decision = await writer.append('decision', { callId: req.intent.callId, tool: req.intent.tool, verdict: 'DENY', reasonCode, ruleIds: [], policyDigest: null, inputDigest, engine: ENGINE }, { parents: [{ hash: intent.entryHash }] });
    return { ...base, reasonCode, detail, recorded: true, intent, decision };
  } catch (e) {
    return { ...base, reasonCode: 'RECEIPT_UNAVAILABLE', detail: `recording failed: ${(e as Error)?.message ?? String(e)} (the decision would have been DENY ${reasonCode})`, recorded: false, intent, decision: null };
  }
}

/** Puts the gate in front of pep.decide: uncertified calls never reach the guardian. */
export function gateUntilCertified(pep: Pep, writer: ProofGraphWriter, suite: CryptoSuite, certified: () => boolean): void {
  const decide = pep.decide.bind(pep);
  // Instrumentation wraps decide afterwards, so metrics and approvals see these denials too.
  pep.decide = (request: unknown, options?: DecideOptions): Promise<PepOutcome> => (certified() ? decide(request, options) : denyUncertified(writer, suite, request));
}

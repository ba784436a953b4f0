// The one registry of reason codes a Guardian verdict may carry. docs/spec/reason-codes.json is
// generated from this table (a test checks it byte for byte), and a test scans kernel/, sidecar/,
// operator/ and cli/ for literal codes that are not here. Codes never change meaning once
// published: a new meaning gets a new code.

export type Verdict = 'ALLOW' | 'DENY' | 'ESCALATE';
export const VERDICTS: readonly Verdict[] = ['ALLOW', 'DENY', 'ESCALATE'];

export type ReasonCategory = 'allow' | 'policy' | 'bundle' | 'input' | 'surface' | 'resource' | 'approval' | 'pdp' | 'execution' | 'security';

export interface ReasonCodeEntry {
  /** The verdict this code accompanies; a code is never shared between verdicts. */
  readonly verdict: Verdict;
  readonly category: ReasonCategory;
  /** 'upstream': the HELM Go vocabulary; 'helm-oss': added here. */
  readonly origin: 'upstream' | 'helm-oss';
  /** Which component emits it today; 'reserved' codes are registered for later stages. */
  readonly emitter: 'guardian' | 'executor' | 'approvals' | 'surface' | 'reserved';
  readonly summary: string;
}

function e(verdict: Verdict, category: ReasonCategory, origin: ReasonCodeEntry['origin'], emitter: ReasonCodeEntry['emitter'], summary: string): ReasonCodeEntry {
  return { verdict, category, origin, emitter, summary };
}

export const REASON_CODES = {
  ALLOWED: e('ALLOW', 'allow', 'helm-oss', 'guardian', 'An ALLOW rule matched and no check denied or escalated the call.'),

  POLICY_VIOLATION: e('DENY', 'policy', 'upstream', 'guardian', 'A DENY rule matched the call (default code of DENY rules).'),
  NO_POLICY_DEFINED: e('DENY', 'policy', 'upstream', 'guardian', 'No rule selects this tool for this call: deny by default.'),
  MISSING_REQUIREMENT: e('DENY', 'policy', 'upstream', 'guardian', 'ALLOW rules select this tool but the requirement expression of each was false.'),
  PRG_EVALUATION_ERROR: e('DENY', 'policy', 'upstream', 'guardian', 'A rule expression failed to evaluate or did not yield a bool; the call is denied (fail closed).'),
  TOOL_NOT_DECLARED: e('DENY', 'policy', 'helm-oss', 'guardian', 'The tool is not declared in the policy bundle.'),
  GUARDIAN_ERROR: e('DENY', 'policy', 'helm-oss', 'guardian', 'The evaluator hit an unexpected internal error; the call is denied (fail closed).'),
  POLICY_DIGEST_MISMATCH: e('DENY', 'policy', 'helm-oss', 'guardian', 'The input pins a bundle hash other than the bundle in force.'),

  BUNDLE_MISSING: e('DENY', 'bundle', 'helm-oss', 'guardian', 'No policy bundle is loaded: every call is denied.'),
  BUNDLE_INVALID: e('DENY', 'bundle', 'helm-oss', 'guardian', 'The policy bundle does not parse, fails its schema or fails lint.'),
  BUNDLE_UNSIGNED: e('DENY', 'bundle', 'helm-oss', 'guardian', 'The policy bundle has no detached signature.'),
  SIGNATURE_INVALID: e('DENY', 'bundle', 'helm-oss', 'guardian', 'The bundle signature object is malformed or its Ed25519 signature does not verify.'),
  SIGNER_REVOKED: e('DENY', 'bundle', 'helm-oss', 'guardian', 'The bundle was signed by a key on the revocation list.'),
  SIGNER_UNTRUSTED: e('DENY', 'bundle', 'helm-oss', 'guardian', 'The bundle was signed by a key that is not a trust root.'),
  HASH_MISMATCH: e('DENY', 'bundle', 'helm-oss', 'guardian', 'The signature names a contentHash other than the hash of the bundle.'),

  ENVELOPE_INVALID: e('DENY', 'input', 'upstream', 'guardian', 'The decision input is malformed or cannot be canonicalized (e.g. an integer beyond 2^53-1).'),
  SCHEMA_VIOLATION: e('DENY', 'input', 'upstream', 'guardian', 'The tool arguments violate a value constraint of the argument schema (enum, range, pattern, length...).'),
  ERR_TOOL_ARGS_UNKNOWN_FIELD: e('DENY', 'input', 'upstream', 'guardian', 'The tool arguments contain a field the argument schema does not declare (at any depth).'),
  ERR_TOOL_ARGS_MISSING_REQUIRED: e('DENY', 'input', 'upstream', 'guardian', 'A required tool argument is missing.'),
  DECIMAL_PRECISION_EXCEEDED: e('DENY', 'input', 'helm-oss', 'guardian', 'A number in the decision input has more than 15 significant digits or 15 digits after the point, so it cannot be compared exactly.'),
  ERR_TOOL_ARGS_TYPE_MISMATCH: e('DENY', 'input', 'upstream', 'guardian', 'A tool argument has the wrong JSON type.'),

  DOMAIN_SCOPE_VIOLATION: e('DENY', 'surface', 'helm-oss', 'guardian', "The tool's domain is not granted to the principal."),
  CAPABILITY_VIOLATION: e('DENY', 'surface', 'helm-oss', 'guardian', "No capability profile granted to the principal permits the tool's side-effect class."),
  CONNECTOR_NOT_ALLOWED: e('DENY', 'surface', 'helm-oss', 'guardian', 'The call is routed through a connector that is not allowlisted for the tool.'),
  DATA_EGRESS_BLOCKED: e('DENY', 'surface', 'upstream', 'guardian', 'A host or URL argument is outside the destination allowlist.'),
  PATH_UNSAFE: e('DENY', 'surface', 'helm-oss', 'guardian', 'A path argument is not an absolute path that normalises unambiguously (NUL, control or format characters, backslash, percent-encoding, look-alike separators, or .. above /).'),
  PATH_OUTSIDE_SCOPE: e('DENY', 'surface', 'helm-oss', 'guardian', 'A path argument, after normalisation, is not under any directory the tool allows (compared segment by segment).'),
  SANDBOX_VIOLATION: e('DENY', 'surface', 'upstream', 'guardian', 'The executor does not offer the sandbox profile the tool class requires.'),

  BUDGET_EXCEEDED: e('DENY', 'resource', 'upstream', 'guardian', 'The call would exceed a calls or cost-units budget for its window.'),
  BUDGET_ERROR: e('DENY', 'resource', 'upstream', 'guardian', 'Budget or rate-limit state is missing or inconsistent (fail closed).'),
  TEMPORAL_THROTTLE: e('DENY', 'resource', 'upstream', 'guardian', 'A token-bucket rate limit has no token for this call; retry after the reported delay.'),
  TEMPORAL_INTERVENTION: e('DENY', 'resource', 'upstream', 'reserved', 'A time-based intervention (freeze window) blocks the call.'),

  APPROVAL_REQUIRED: e('ESCALATE', 'approval', 'upstream', 'guardian', 'An ESCALATE rule matched: the call needs an approval ceremony (default code of ESCALATE rules).'),
  APPROVAL_TIMEOUT: e('DENY', 'approval', 'upstream', 'approvals', 'The approval window expired without quorum.'),
  APPROVAL_REJECTED: e('DENY', 'approval', 'helm-oss', 'approvals', 'An approver rejected the escalated call.'),
  APPROVAL_GRANTED: e('ALLOW', 'approval', 'helm-oss', 'approvals', 'The escalated call reached its approval quorum and hold; the retried call is allowed exactly once.'),

  PDP_DENY: e('DENY', 'pdp', 'upstream', 'reserved', 'An external policy decision point denied the call.'),
  PDP_ERROR: e('DENY', 'pdp', 'upstream', 'reserved', 'An external policy decision point failed (fail closed).'),

  ERR_CONNECTOR_CONTRACT_DRIFT: e('DENY', 'execution', 'upstream', 'guardian', "A tool result does not match the tool's pinned output schema."),
  ERR_COMPUTE_GAS_EXHAUSTED: e('DENY', 'execution', 'upstream', 'executor', 'The sandboxed execution ran out of its gas allowance.'),
  ERR_COMPUTE_TIME_EXHAUSTED: e('DENY', 'execution', 'upstream', 'executor', 'The sandboxed execution ran out of its wall-clock allowance.'),
  ERR_COMPUTE_MEMORY_EXHAUSTED: e('DENY', 'execution', 'upstream', 'executor', 'The sandboxed execution ran out of its memory allowance.'),
  ERR_COMPUTE_OUTPUT_EXHAUSTED: e('DENY', 'execution', 'helm-oss', 'executor', 'The sandboxed module wrote more than its output allowance to stdout.'),
  ERR_COMPUTE_MODULE_MISMATCH: e('DENY', 'execution', 'helm-oss', 'executor', 'The WebAssembly module bytes do not hash to the sha256 pinned for the tool.'),
  ERR_COMPUTE_INSTANTIATION_FAILED: e('DENY', 'execution', 'helm-oss', 'executor', 'The WebAssembly module does not validate, imports something other than WASI functions, or cannot be metered or instantiated.'),
  ERR_COMPUTE_ENGINE_FAILURE: e('DENY', 'execution', 'helm-oss', 'executor', 'The sandbox engine crashed, its worker died, or its report was malformed (fail closed).'),
  ERR_COMPUTE_CAPABILITY_DENIED: e('DENY', 'execution', 'helm-oss', 'executor', 'The sandboxed module used a capability its profile does not grant (file, clock, randomness), or asked for sockets, which are never granted.'),
  ERR_COMPUTE_GUEST_FAULT: e('DENY', 'execution', 'helm-oss', 'executor', 'The sandboxed module trapped or exited with a non-zero status.'),
  ERR_COMPUTE_REQUEST_INVALID: e('DENY', 'execution', 'helm-oss', 'executor', 'The sandbox request is malformed: module pin, limits, grants or input.'),
  ERR_IDEMPOTENCY_DUPLICATE: e('DENY', 'execution', 'helm-oss', 'guardian', 'A call with the same idempotency key was already allowed (or the key is in use with other arguments).'),
  RECEIPT_UNAVAILABLE: e('DENY', 'resource', 'helm-oss', 'guardian', 'The decision could not be recorded durably in the ProofGraph: the call is denied without a receipt (the sidecar answers 503).'),

  VERIFICATION_FAILURE: e('DENY', 'security', 'upstream', 'reserved', 'A signature or proof presented with the call does not verify.'),
  PROVENANCE_FAILURE: e('DENY', 'security', 'upstream', 'reserved', 'The provenance of an input could not be established.'),
  TENANT_ISOLATION: e('DENY', 'security', 'upstream', 'reserved', 'The call crosses a tenant boundary.'),
  CONTEXT_MISMATCH: e('DENY', 'security', 'upstream', 'reserved', 'The call context does not match the session it claims.'),
  INSUFFICIENT_PRIVILEGE: e('DENY', 'security', 'upstream', 'reserved', 'The principal lacks the privilege tier the call needs.'),
  SYSTEM_FROZEN: e('DENY', 'security', 'upstream', 'reserved', 'The system is frozen by an operator: every effect is denied.'),
  IDENTITY_UNCERTIFIED: e('DENY', 'security', 'helm-oss', 'guardian', "The sidecar's signing keys are not yet certified by the operator (identity certified): every call is denied, with a receipt signed by the uncertified key, until the certification is recorded."),
  RECEIPT_BACKLOG: e('DENY', 'resource', 'helm-oss', 'guardian', 'More receipt bytes than the high-water mark are not yet cosigned by the fleet collector (bucket or collector unreachable): the call is denied, with a local durable receipt, until shipping catches up (docs/fleet.md).'),

  // Refusals a surface makes before the call is judged (kernel/guardian/refusal.ts).
  INPUT_DUPLICATE_KEY: e('DENY', 'input', 'helm-oss', 'surface', 'The arguments (or request) name the same key twice in one object: executors disagree on which one counts, so the call is refused.'),
  INPUT_INVALID_UNICODE: e('DENY', 'input', 'helm-oss', 'surface', 'The arguments (or request) contain a lone surrogate (escaped like \\ud800 or raw) or bytes that are not UTF-8.'),
  INPUT_NUMBER_RANGE: e('DENY', 'input', 'helm-oss', 'surface', 'The arguments (or request) contain a number outside I-JSON (RFC 7493): an integer beyond 2^53-1, or one that overflows or underflows a double.'),
  INPUT_TOO_DEEP: e('DENY', 'input', 'helm-oss', 'surface', 'The arguments (or request) nest objects and arrays deeper than the surface limit.'),
  INPUT_TOO_LARGE: e('DENY', 'input', 'helm-oss', 'surface', 'The arguments (or request) exceed the surface size limit.'),
  TOOL_CALL_ID_REUSED: e('DENY', 'surface', 'helm-oss', 'surface', 'The provider proposed a tool call with an id an earlier call of this principal already used; the id links the result to its decision, so the repeat is refused.'),

  // Agent-to-agent calls (docs/spec/a2a.md): the A2A surface of the sidecar and kernel/a2a.
  A2A_AGENT_NOT_ALLOWED: e('DENY', 'surface', 'helm-oss', 'guardian', 'No A2A grant lets the principal call this remote agent (or the bundle declares no such agent).'),
  A2A_SKILL_NOT_ALLOWED: e('DENY', 'surface', 'helm-oss', 'guardian', 'The A2A call names no skill, a skill the agent card does not declare, or one outside the grant or the delegated scope.'),
  A2A_METHOD_NOT_ALLOWED: e('DENY', 'surface', 'helm-oss', 'guardian', 'The A2A JSON-RPC method is not one the grant allows.'),
  A2A_MESSAGE_TOO_LARGE: e('DENY', 'input', 'helm-oss', 'guardian', 'The A2A message exceeds the bundle limit on bytes or parts.'),
  A2A_CARD_UNTRUSTED: e('DENY', 'security', 'helm-oss', 'guardian', 'The remote agent card is unsigned, malformed, or no signature verifies under a card key the bundle trusts for that agent.'),
  A2A_CARD_KEY_REVOKED: e('DENY', 'security', 'helm-oss', 'guardian', 'The remote agent card is signed only by a revoked card key.'),
  A2A_CALLER_UNKNOWN: e('DENY', 'security', 'helm-oss', 'guardian', 'The inbound A2A request is unsigned, or signed by a key that is not (or no longer) an accepted caller.'),
  A2A_REQUEST_SIGNATURE_INVALID: e('DENY', 'security', 'helm-oss', 'guardian', 'The inbound A2A request signature is malformed, addressed to another agent, or does not verify over method, path, body digest and auth.'),
  A2A_REQUEST_STALE: e('DENY', 'security', 'helm-oss', 'guardian', 'The inbound A2A request was signed outside the allowed clock skew.'),
  A2A_REQUEST_REPLAYED: e('DENY', 'security', 'helm-oss', 'guardian', 'The inbound A2A request reuses a nonce already accepted: a signed request is accepted once.'),
  A2A_DELEGATION_INVALID: e('DENY', 'security', 'helm-oss', 'guardian', 'A delegation token (or a link of its chain) is malformed, not signed by a trusted unrevoked issuer, not addressed along the chain, or too deep.'),
  A2A_DELEGATION_EXPIRED: e('DENY', 'security', 'helm-oss', 'guardian', 'A delegation token (or a link of its chain) is expired or not yet valid.'),
  A2A_DELEGATION_EXCEEDS_GRANT: e('DENY', 'policy', 'helm-oss', 'guardian', 'A delegation asks for more skills, tools, budget or lifetime than the delegator holds (its grant, or the token it acts under).'),
  A2A_DELEGATION_REQUIRED: e('DENY', 'policy', 'helm-oss', 'guardian', 'The caller must present a delegation token for this agent and presented none.'),
  A2A_DELEGATION_BUDGET_EXHAUSTED: e('DENY', 'resource', 'helm-oss', 'guardian', 'The calls budget of the delegation token is used up.'),
  A2A_TOOL_NOT_DELEGATED: e('DENY', 'policy', 'helm-oss', 'guardian', 'A tool call made for a delegated A2A task names a tool outside the delegated tools (the token within the caller grant).'),
  A2A_TASK_UNKNOWN: e('DENY', 'policy', 'helm-oss', 'guardian', 'A tool call names a delegated A2A task this sidecar holds no binding for, or a GetTask / CancelTask names a task the same peer did not create through this sidecar.'),
  // The MCP gateway (sidecar/mcp, docs/mcp-gateway.md): refusals of a message before or instead of a decision.
  MCP_DEFINITION_DRIFT: e('DENY', 'security', 'helm-oss', 'surface', "A pinned MCP tool's upstream definition no longer hashes to the bundle's definitionHash (tool poisoning): the tool is withheld and its calls are refused."),
  MCP_REQUEST_UNATTRIBUTED: e('DENY', 'surface', 'helm-oss', 'surface', 'An upstream sent a server-to-client request (sampling, elicitation) that no single governed call of that upstream can have caused: it is refused, never forwarded to a client.'),
  MCP_MESSAGE_INVALID: e('DENY', 'input', 'helm-oss', 'surface', 'The MCP message is not a valid JSON-RPC 2.0 message (or not valid JSON): refused before any decision.'),
  MCP_METHOD_UNKNOWN: e('DENY', 'input', 'helm-oss', 'surface', 'The MCP method is not one the gateway relays: refused before any decision.'),
  MCP_REQUEST_ID_REUSED: e('DENY', 'input', 'helm-oss', 'surface', 'A client request reuses the id of a request still in flight in the same MCP session.'),
  MCP_RESPONSE_UNSOLICITED: e('DENY', 'input', 'helm-oss', 'surface', 'A client answered a server-to-client request (sampling, elicitation) that the gateway never sent it, or already got an answer to.'),
  MCP_INPUT_STATE_UNKNOWN: e('DENY', 'input', 'helm-oss', 'surface', 'A 2026-07-28 tools/call retry carries a requestState that names no suspended call of the gateway (unknown, already used, expired) or one of another tool or other arguments: nothing is resumed.'),
  MCP_SESSION_UNKNOWN: e('DENY', 'input', 'helm-oss', 'surface', 'The Mcp-Session-Id names no open session of this gateway (expired, closed or never issued); the client starts a new session with initialize.'),
} as const satisfies Record<string, ReasonCodeEntry>;

export type ReasonCode = keyof typeof REASON_CODES;

export const REASON_CODE_PATTERN = /^[A-Z][A-Z0-9_]{1,63}$/;

export function isReasonCode(code: unknown): code is ReasonCode {
  return typeof code === 'string' && Object.hasOwn(REASON_CODES, code);
}

/** Reason code a rule of this verdict carries when the bundle names none. */
export const DEFAULT_RULE_REASON: Record<Verdict, ReasonCode> = {
  ALLOW: 'ALLOWED',
  DENY: 'POLICY_VIOLATION',
  ESCALATE: 'APPROVAL_REQUIRED',
};

/** The registry as published in docs/spec/reason-codes.json (sorted by code). */
export function reasonCodesDocument(): { version: 1; codes: Array<{ code: string } & ReasonCodeEntry> } {
  const codes = Object.keys(REASON_CODES)
    .sort()
    .map((code) => ({ code, ...(REASON_CODES as Record<string, ReasonCodeEntry>)[code]! }));
  return { version: 1, codes };
}

/** docs/spec/reason-codes.md, generated from the same table. */
export function reasonCodesMarkdown(): string {
  const rows = reasonCodesDocument().codes.map((c) => `| \`${c.code}\` | ${c.verdict} | ${c.category} | ${c.origin} | ${c.emitter} | ${c.summary} |`);
  return [
    '# Reason codes',
    '',
    'Generated from `kernel/guardian/reason-codes.ts` (the machine-readable copy is `reason-codes.json`);',
    'a test checks both files match it. Every verdict carries exactly one of these codes; a code',
    'accompanies one verdict only. `emitter` says which component produces the code today:',
    '`reserved` codes are registered for later stages and the upstream vocabulary.',
    '',
    '| Code | Verdict | Category | Origin | Emitter | Meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

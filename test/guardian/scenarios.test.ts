// The scenario catalogue: every case runs through the real evaluator with a signed, verified
// bundle and asserts verdict AND reason code, and that the decision maps onto a valid decision
// node body.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { bodySchemas } from '../../kernel/contracts/schemas.js';
import {
  composeBundles,
  decisionBody,
  evaluate,
  loadPolicy,
  signBundle,
  type CompiledBundle,
  type Decision,
  type DecisionInputDraft,
  type GuardianPolicy,
  type PolicyBundleDoc,
  type PolicyOverlayDoc,
} from '../../kernel/guardian/index.js';
import { bundleSigner, call, compiled, exampleDoc, freshState, otherSigner, signedPolicy, suite, SUPPORT, T, trust } from './helpers.js';

const validateBody = new Ajv2020({ strict: true }).compile(bodySchemas.decision);

const doc = exampleDoc();
const bundle = compiled(doc);
const policy = signedPolicy(doc);

/** The example plus rules whose expressions fail at run time. */
function withRules(extra: PolicyBundleDoc['rules']): PolicyBundleDoc {
  const d = exampleDoc();
  d.rules.push(...extra);
  return d;
}
const errDoc = withRules([
  { id: 'note-body-required', match: { tools: ['tickets.update'] }, when: 'args.note.body.size() > 0', verdict: 'ALLOW' },
  { id: 'deny-flagged', match: { tools: ['crm.lookup_customer'] }, when: 'context.flagged', verdict: 'DENY' },
  { id: 'not-a-bool', match: { tools: ['ops.purge_cache'] }, when: "args.prefix == '/static/x' ? true : args.prefix", verdict: 'ALLOW' },
]);
const errBundle = compiled(errDoc);
const errPolicy = signedPolicy(errDoc);

const overlay = (o: Partial<PolicyOverlayDoc>): PolicyOverlayDoc => ({ apiVersion: 'helm-policy-bundle/v1', kind: 'PolicyOverlay', metadata: { name: 'tenant-overlay' }, ...o });
function composed(...overlays: PolicyOverlayDoc[]): { policy: GuardianPolicy; bundle: CompiledBundle } {
  const r = composeBundles(doc, overlays, suite);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { policy: signedPolicy(r.bundle), bundle: compiled(r.bundle) };
}
const denyContractors = composed(
  overlay({ rules: [{ id: 'no-contractor-crm', match: { tools: ['crm.*'] }, when: "'contractor' in principal.roles", verdict: 'DENY', reason: 'POLICY_VIOLATION' }] }),
);
const euOnly = composed(overlay({ rules: [{ id: 'eu-only-tickets', match: { tools: ['tickets.update'] }, when: "has(context.region) && context.region == 'eu'", verdict: 'ALLOW' }] }));
const reviewEnterprise = composed(
  overlay({
    approvals: { 'data-steward': { approvers: [bundleSigner.verifier.vkey], quorum: 1, timeoutSeconds: 600 } },
    rules: [{ id: 'review-vip-lookup', match: { tools: ['crm.lookup_customer'] }, when: "has(args.email) && args.email.endsWith('@vip.example')", verdict: 'ESCALATE', approval: 'data-steward' }],
  }),
);
const noCrmConnector = composed(overlay({ connectors: { 'helpdesk-mcp': {}, mailer: {}, 'payments-api': {} } }));
const tighterBudget = composed(overlay({ budgets: [{ id: 'support-calls-hourly', scope: 'principal', windowSeconds: 3600, maxCalls: 10 }] }));
const sandboxWrites = composed(overlay({ sandbox: { classes: { write: 'no-network' } } }));

const noAllowDoc = exampleDoc();
noAllowDoc.rules = noAllowDoc.rules.filter((r) => r.id !== 'allow-crm-read');
const noAllow = { policy: signedPolicy(noAllowDoc), bundle: compiled(noAllowDoc) };

const signedBy = (d: unknown, sig: unknown, t = trust): GuardianPolicy => loadPolicy({ bundle: d, signature: sig }, t, suite);
const goodSig = signBundle(doc, bundleSigner, suite);
const flipped = { ...goodSig, signature: goodSig.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
const tampered = exampleDoc();
tampered.metadata.version = 'tampered';
const lintFails = withRules([{ id: 'broken', when: 'args.x +', verdict: 'DENY' }]);

const C = (tool: string, args: Record<string, unknown>, over: Parameters<typeof call>[3] = {}) => call(bundle, tool, args, over);
const lookup = (over: Parameters<typeof call>[3] = {}) => C('crm.lookup_customer', { customerId: 'cus_12345678' }, over);
const mail = (body: string, over: Parameters<typeof call>[3] = {}) => C('mail.send', { to: [{ host: 'mail.example-customer.com', user: 'ann' }], subject: 'Re: ticket', body }, over);
const fetch = (url: string, over: Parameters<typeof call>[3] = {}) => C('kb.fetch_article', { url }, over);
const refund = (amountCents: number, over: Parameters<typeof call>[3] = {}) => C('billing.refund', { paymentId: 'pay_1', amountCents }, over);
const ticket = (args: Record<string, unknown>, over: Parameters<typeof call>[3] = {}) => C('tickets.update', args, over);
const AUDITOR = { id: 'agent:audit-1', roles: ['auditor'] };
const JUNIOR = { id: 'agent:jr-1', roles: ['junior'] };
const OPS = { id: 'agent:ops-bot', roles: [] };
const stateWith = (tool: string, principal: string, patch: (s: ReturnType<typeof freshState>) => void, time = T) => {
  const s = freshState(bundle, principal, tool, time);
  patch(s);
  return s;
};
const withDigest = (b: CompiledBundle, input: DecisionInputDraft): DecisionInputDraft => ({ ...input, policyDigest: b.contentHash, state: freshState(b, input.principal.id, input.tool, input.time) });

type Case = [name: string, policy: GuardianPolicy, input: unknown, verdict: Decision['verdict'], reason: string, ruleIds?: string[]];

const cases: Case[] = [
  // -- allow and the rules
  ['allow: support agent looks up a customer', policy, lookup(), 'ALLOW', 'ALLOWED', ['allow-crm-read']],
  ['allow: ticket note without status change', policy, ticket({ ticketId: 7, note: { body: 'called back' } }), 'ALLOW', 'ALLOWED', ['allow-ticket-update']],
  ['deny by default: no ALLOW rule covers the tool', noAllow.policy, withDigest(noAllow.bundle, lookup()), 'DENY', 'NO_POLICY_DEFINED', []],
  ['deny: unknown tool', policy, C('crm.delete_customer', {}), 'DENY', 'TOOL_NOT_DECLARED'],
  ['deny: unknown top-level argument (no additionalProperties in the schema)', policy, lookup({ args: { customerId: 'cus_12345678', includeSsn: true } }), 'DENY', 'ERR_TOOL_ARGS_UNKNOWN_FIELD'],
  ['deny: unknown field in a nested object', policy, ticket({ ticketId: 7, note: { body: 'x', cc: 'boss@example.com' } }), 'DENY', 'ERR_TOOL_ARGS_UNKNOWN_FIELD'],
  ['deny: unknown field inside array items', policy, C('mail.send', { to: [{ host: 'mail.example-customer.com', user: 'ann', bcc: 'x' }], subject: 's', body: 'b' }), 'DENY', 'ERR_TOOL_ARGS_UNKNOWN_FIELD'],
  ['deny: missing required argument', policy, ticket({ status: 'pending' }), 'DENY', 'ERR_TOOL_ARGS_MISSING_REQUIRED'],
  ['deny: missing required nested field', policy, ticket({ ticketId: 7, note: { internal: true } }), 'DENY', 'ERR_TOOL_ARGS_MISSING_REQUIRED'],
  ['deny: type mismatch', policy, ticket({ ticketId: '7' }), 'DENY', 'ERR_TOOL_ARGS_TYPE_MISMATCH'],
  ['deny: value constraint (enum)', policy, ticket({ ticketId: 7, status: 'closed' }), 'DENY', 'SCHEMA_VIOLATION'],
  ['deny: value constraint (pattern)', policy, lookup({ args: { customerId: 'not-an-id' } }), 'DENY', 'SCHEMA_VIOLATION'],
  ['deny: CEL requirement false (solved without a note)', policy, ticket({ ticketId: 7, status: 'solved' }), 'DENY', 'MISSING_REQUIREMENT', ['allow-ticket-update']],
  ['deny: CEL DENY rule with its own reason code', policy, mail('your password: hunter2'), 'DENY', 'DATA_EGRESS_BLOCKED', ['deny-mail-secrets']],
  ['deny: CEL DENY rule on context (frozen tenant)', policy, refund(500, { context: { tenantStatus: 'frozen' } }), 'DENY', 'POLICY_VIOLATION', ['deny-refund-frozen-tenant']],
  ['deny: CEL requirement on the injected clock (outside business hours)', policy, mail('hello', { time: '2026-11-22T22:00:00.000Z' }), 'DENY', 'MISSING_REQUIREMENT', ['allow-mail-business-hours']],
  ['allow: mail in business hours', policy, mail('hello'), 'ALLOW', 'ALLOWED', ['allow-mail-business-hours']],
  ['deny: CEL evaluation error (missing key) is never skipped', errPolicy, withDigest(errBundle, ticket({ ticketId: 7 })), 'DENY', 'PRG_EVALUATION_ERROR', ['note-body-required']],
  ['deny: CEL evaluation error in a DENY rule does not fall through to ALLOW', errPolicy, withDigest(errBundle, lookup()), 'DENY', 'PRG_EVALUATION_ERROR', ['deny-flagged']],
  ['deny: expression yields a non-bool at run time', errPolicy, withDigest(errBundle, C('ops.purge_cache', { prefix: '/static/y' }, { principal: OPS })), 'DENY', 'PRG_EVALUATION_ERROR', ['not-a-bool']],
  ['allow: the same erroring bundle allows when the expressions evaluate', errPolicy, withDigest(errBundle, lookup({ context: { flagged: false } })), 'ALLOW', 'ALLOWED', ['allow-crm-read']],
  ['escalate: refund above 100.00 needs a manager', policy, refund(20000), 'ESCALATE', 'APPROVAL_REQUIRED', ['escalate-large-refund']],
  ['allow: small refund', policy, refund(5000), 'ALLOW', 'ALLOWED', ['allow-small-refund']],
  ['deny: refund too large to approve (escalation cannot widen)', policy, refund(60000), 'DENY', 'MISSING_REQUIREMENT', ['allow-small-refund']],
  ['escalate: budget running low (rule reads budget)', policy, ticket({ ticketId: 7 }, { state: stateWith('tickets.update', SUPPORT.id, (s) => (s.budgets['support-cost-daily']!.cost = 195)) }), 'ESCALATE', 'APPROVAL_REQUIRED', ['escalate-when-budget-low']],

  // -- bounded surface
  ['domain scope: auditor has no kb domain', policy, fetch('https://docs.example.com/a', { principal: AUDITOR }), 'DENY', 'DOMAIN_SCOPE_VIOLATION'],
  ['domain scope: principal without grants', policy, lookup({ principal: { id: 'agent:stranger', roles: ['visitor'] } }), 'DENY', 'DOMAIN_SCOPE_VIOLATION'],
  ['domain scope: ops bot granted by id in its domain', policy, C('ops.purge_cache', { prefix: '/static/img' }, { principal: OPS }), 'ALLOW', 'ALLOWED', ['allow-ops-purge']],
  ['domain scope: ops bot outside its domain', policy, lookup({ principal: OPS }), 'DENY', 'DOMAIN_SCOPE_VIOLATION'],
  ['capability read-only: auditor cannot write', policy, ticket({ ticketId: 7 }, { principal: AUDITOR }), 'DENY', 'CAPABILITY_VIOLATION'],
  ['capability read-only: auditor can read', policy, lookup({ principal: AUDITOR }), 'ALLOW', 'ALLOWED'],
  ['capability write-limited: junior can write', policy, ticket({ ticketId: 7 }, { principal: JUNIOR }), 'ALLOW', 'ALLOWED'],
  ['capability write-limited: junior cannot send external mail', policy, mail('hi', { principal: JUNIOR }), 'DENY', 'CAPABILITY_VIOLATION'],
  ['capability side-effect-class: support-external allows external', policy, fetch('https://docs.example.com/a'), 'ALLOW', 'ALLOWED', ['allow-kb']],
  ['capability tool list: ops profile names only purge', policy, C('ops.purge_cache', { prefix: '/static/' }, { principal: { id: 'agent:ops-bot', roles: ['auditor'] } }), 'ALLOW', 'ALLOWED'],
  ['capability tool list: ops profile refuses a tool it does not name', policy, C('ops.restart_service', { service: 'api' }, { principal: OPS }), 'DENY', 'CAPABILITY_VIOLATION'],
  ['connector: wrong connector', policy, lookup({ connector: 'mailer' }), 'DENY', 'CONNECTOR_NOT_ALLOWED'],
  ['connector: tool needs a connector, none named', policy, lookup({ connector: null }), 'DENY', 'CONNECTOR_NOT_ALLOWED'],
  ['connector: connector-less tool routed through one', policy, C('ops.purge_cache', { prefix: '/static/' }, { principal: OPS, connector: 'crm-api' }), 'DENY', 'CONNECTOR_NOT_ALLOWED'],
  ['destination: allowlisted URL', policy, fetch('https://docs.example.com/guide'), 'ALLOW', 'ALLOWED'],
  ['destination: wildcard subdomain', policy, fetch('https://eu.partner-docs.example/x'), 'ALLOW', 'ALLOWED'],
  ['destination: host not in the list', policy, fetch('https://evil.example.net/x'), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: wildcard does not match the apex', policy, fetch('https://partner-docs.example/x'), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: scheme not allowed', policy, fetch('http://docs.example.com/guide'), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: credentials trick', policy, fetch('https://docs.example.com@evil.example.net/'), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: non-default port', policy, fetch('https://docs.example.com:8443/'), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: suffix trick', policy, fetch('https://docs.example.com.evil.net/'), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: host argument in array items', policy, C('mail.send', { to: [{ host: 'mail.example-customer.com', user: 'a' }, { host: 'evil.example.net', user: 'b' }], subject: 's', body: 'b' }), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['destination: host argument not in canonical form', policy, C('mail.send', { to: [{ host: 'mail.example-customer.com/x', user: 'a' }], subject: 's', body: 'b' }), 'DENY', 'DATA_EGRESS_BLOCKED'],
  ['sandbox: tool requires its profile, executor offers none', policy, fetch('https://docs.example.com/a', { sandbox: null }), 'DENY', 'SANDBOX_VIOLATION'],
  ['sandbox: wrong profile', policy, fetch('https://docs.example.com/a', { sandbox: 'no-network' }), 'DENY', 'SANDBOX_VIOLATION'],
  ['sandbox: class mapping (destructive) applies without a tool flag', policy, C('ops.purge_cache', { prefix: '/static/' }, { principal: OPS, sandbox: null }), 'DENY', 'SANDBOX_VIOLATION'],

  // -- budgets and rate limits (snapshot in, consumption out)
  ['budget: calls exhausted', policy, lookup({ state: stateWith('crm.lookup_customer', SUPPORT.id, (s) => (s.budgets['support-calls-hourly']!.calls = 500)) }), 'DENY', 'BUDGET_EXCEEDED'],
  ['budget: cost units exhausted', policy, ticket({ ticketId: 7 }, { state: stateWith('tickets.update', SUPPORT.id, (s) => (s.budgets['support-cost-daily']!.cost = 199)) }), 'DENY', 'BUDGET_EXCEEDED'],
  ['budget: a past window no longer counts', policy, lookup({ state: stateWith('crm.lookup_customer', SUPPORT.id, (s) => Object.assign(s.budgets['support-calls-hourly']!, { calls: 500, windowStart: '2026-11-22T09:00:00.000Z' })) }), 'ALLOW', 'ALLOWED'],
  ['budget: missing state fails closed', policy, lookup({ state: { budgets: {}, rates: {} } }), 'DENY', 'BUDGET_ERROR'],
  ['budget: state of another principal', policy, lookup({ state: stateWith('crm.lookup_customer', 'agent:other', () => undefined) }), 'DENY', 'BUDGET_ERROR'],
  ['rate limit: empty bucket', policy, mail('hi', { state: stateWith('mail.send', SUPPORT.id, (s) => (s.rates['mail-burst']!.tokens = 0)) }), 'DENY', 'TEMPORAL_THROTTLE'],
  ['rate limit: bucket refilled since', policy, mail('hi', { state: stateWith('mail.send', SUPPORT.id, (s) => Object.assign(s.rates['mail-burst']!, { tokens: 0, updatedAt: '2026-11-22T10:13:59.000Z' })) }), 'ALLOW', 'ALLOWED'],

  // -- the input itself
  ['input: decimal beyond 15 significant digits', policy, ticket({ ticketId: 0.1 + 0.2 }), 'DENY', 'DECIMAL_PRECISION_EXCEEDED'],
  ['input: integer beyond 2^53 cannot be canonicalized', policy, ticket({ ticketId: 2 ** 60 }), 'DENY', 'ENVELOPE_INVALID'],
  ['input: exact decimal where the schema wants an integer', policy, ticket({ ticketId: 7.5 }), 'DENY', 'ERR_TOOL_ARGS_TYPE_MISMATCH'],
  ['input: missing clock reading', policy, { ...lookup(), time: undefined }, 'DENY', 'ENVELOPE_INVALID'],
  ['input: not an object', policy, 'crm.lookup_customer', 'DENY', 'ENVELOPE_INVALID'],
  ['input: unknown top-level field', policy, { ...lookup(), admin: true }, 'DENY', 'ENVELOPE_INVALID'],
  ['input: pins another bundle', policy, lookup({ policyDigest: `sha256:${'0'.repeat(64)}` }), 'DENY', 'POLICY_DIGEST_MISMATCH'],

  // -- bundle trust: every call is denied with the bundle's code
  ['bundle missing', signedBy(undefined, undefined), lookup(), 'DENY', 'BUNDLE_MISSING'],
  ['bundle unsigned', signedBy(doc, undefined), lookup(), 'DENY', 'BUNDLE_UNSIGNED'],
  ['bundle signature does not verify', signedBy(doc, flipped), lookup(), 'DENY', 'SIGNATURE_INVALID'],
  ['bundle signature object malformed', signedBy(doc, { ...goodSig, extra: 1 }), lookup(), 'DENY', 'SIGNATURE_INVALID'],
  ['bundle signer revoked', signedBy(doc, goodSig, { roots: [bundleSigner.verifier], revoked: [bundleSigner.verifier.handle] }), lookup(), 'DENY', 'SIGNER_REVOKED'],
  ['bundle signer not a trust root', signedBy(doc, signBundle(doc, otherSigner, suite)), lookup(), 'DENY', 'SIGNER_UNTRUSTED'],
  ['bundle changed after signing', signedBy(tampered, goodSig), lookup(), 'DENY', 'HASH_MISMATCH'],
  ['bundle signed but fails lint', signedBy(lintFails, signBundle(lintFails, bundleSigner, suite)), lookup(), 'DENY', 'BUNDLE_INVALID'],

  // -- composition
  ['compose: overlay DENY wins over base ALLOW', denyContractors.policy, withDigest(denyContractors.bundle, lookup({ principal: { id: 'agent:c-1', roles: ['support', 'contractor'] } })), 'DENY', 'POLICY_VIOLATION', ['no-contractor-crm']],
  ['compose: base ALLOW still holds where the overlay is silent', denyContractors.policy, withDigest(denyContractors.bundle, lookup()), 'ALLOW', 'ALLOWED'],
  ['compose: overlay ALLOW is an extra requirement (unmet)', euOnly.policy, withDigest(euOnly.bundle, ticket({ ticketId: 7 })), 'DENY', 'MISSING_REQUIREMENT', ['eu-only-tickets']],
  ['compose: overlay ALLOW requirement met', euOnly.policy, withDigest(euOnly.bundle, ticket({ ticketId: 7 }, { context: { region: 'eu' } })), 'ALLOW', 'ALLOWED', ['allow-ticket-update', 'eu-only-tickets']],
  ['compose: overlay ESCALATE beats base ALLOW', reviewEnterprise.policy, withDigest(reviewEnterprise.bundle, lookup({ args: { email: 'ceo@vip.example' } })), 'ESCALATE', 'APPROVAL_REQUIRED', ['review-vip-lookup']],
  ['compose: overlay removed a connector from the allowlist', noCrmConnector.policy, withDigest(noCrmConnector.bundle, lookup()), 'DENY', 'CONNECTOR_NOT_ALLOWED'],
  ['compose: overlay lowered a budget', tighterBudget.policy, { ...withDigest(tighterBudget.bundle, lookup()), state: (() => { const s = freshState(tighterBudget.bundle, SUPPORT.id, 'crm.lookup_customer', T); s.budgets['support-calls-hourly']!.calls = 10; return s; })() }, 'DENY', 'BUDGET_EXCEEDED'],
  ['compose: overlay added a sandbox class mapping', sandboxWrites.policy, withDigest(sandboxWrites.bundle, ticket({ ticketId: 7 })), 'DENY', 'SANDBOX_VIOLATION'],
];

describe('Guardian scenario catalogue', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c[0])).size).toBe(cases.length);
  });

  // Rows have a fixed arity so jest never passes its `done` callback for a missing ruleIds.
  it.each(cases.map((c) => [c[0], c] as const))('%s', (_name, [, pol, input, verdict, reason, ruleIds]) => {
    const d = evaluate(pol, input);
    expect({ verdict: d.verdict, reasonCode: d.reasonCode }).toEqual({ verdict, reasonCode: reason });
    if (ruleIds) expect(d.ruleIds).toEqual(ruleIds);
    expect(d.engine).toBe('helm-guardian/0.1.0');
    expect(d.inputDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    if (pol.status === 'ready') expect(d.policyDigest).toBe(pol.bundle.contentHash);
    // Only an ALLOW carries a consumption; only an ESCALATE carries a ceremony.
    expect(d.consumed !== undefined).toBe(verdict === 'ALLOW');
    expect(d.escalation !== undefined).toBe(verdict === 'ESCALATE');
    expect(validateBody(decisionBody(d, 'call-1', 'some.tool'))).toBe(true);
  });
});

describe('decision details', () => {
  it('an ALLOW reports what it consumes without touching the snapshot', () => {
    const input = mail('hi');
    const before = JSON.stringify(input);
    const d = evaluate(policy, input);
    expect(JSON.stringify(input)).toBe(before);
    expect(d.consumed).toEqual({
      budgets: [
        { id: 'support-calls-hourly', key: '["principal","agent:sup-1"]', windowStart: '2026-11-22T10:00:00.000Z', calls: 1, cost: 5 },
        { id: 'support-cost-daily', key: '["principal","agent:sup-1"]', windowStart: '2026-11-22T00:00:00.000Z', calls: 1, cost: 5 },
      ],
      rates: [{ id: 'mail-burst', key: '["principal-tool","agent:sup-1","mail.send"]', tokens: 1, before: { tokens: 5, updatedAt: T }, after: { tokens: 4, updatedAt: T } }],
    });
  });

  it('a throttled call says when to retry', () => {
    const d = evaluate(policy, mail('hi', { state: stateWith('mail.send', SUPPORT.id, (s) => Object.assign(s.rates['mail-burst']!, { tokens: 0, updatedAt: '2026-11-22T10:14:30.000Z' })) }));
    expect(d).toMatchObject({ verdict: 'DENY', reasonCode: 'TEMPORAL_THROTTLE', retryAfterMs: 30000 });
  });

  it('an ESCALATE names the ceremony: approver handles, quorum, timelock, hold, timeout', () => {
    const d = evaluate(policy, refund(20000));
    expect(d.escalation).toEqual({ approval: 'manager', approvers: ['example-approver-alice+a88e01e2', 'example-approver-bob+789b5097'], quorum: 1, timelockSeconds: 0, holdSeconds: 60, timeoutSeconds: 86400 });
  });

  it('an ALLOW names the sandbox profile the executor must apply', () => {
    expect(evaluate(policy, fetch('https://docs.example.com/a')).sandbox).toBe('egress-only');
  });

  it('a bundle-less policy still digests the input and records no policy digest', () => {
    const d = evaluate(signedBy(undefined, undefined), lookup());
    expect(d.policyDigest).toBeNull();
    expect(validateBody(decisionBody(d, 'c', 't'))).toBe(true);
  });
});

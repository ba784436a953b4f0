// The policy bundle a sidecar under test runs: one domain of tools the conformance principal may
// call, one it lacks (confused deputy), one whose destructive tool its profile does not permit
// (excessive agency), a budget, a rate limit, an approval, a destination allowlist, a pinned
// output schema and a pinned tool definition. Every requirement and threat vector targets it.
import type { PolicyBundleDoc, PolicyOverlayDoc } from '../kernel/guardian/index.js';
import { SPIN_MODULE } from './spin-module.js';
import { pinnedDefinitionHash, PRINCIPAL_ROLE } from './tools.js';

export const BUNDLE_NAME = 'helm-conformance';
export const BUDGET_ID = 'conf-metered';
export const BUDGET_MAX_CALLS = 2;
export const RATE_ID = 'conf-throttle';
export const ESCALATE_ABOVE_CENTS = 100;

/** The sandboxed tools' module (examples/sandbox/csv2json.wasm), copied into the kit's bundle directory. */
export const SANDBOX_MODULE = 'csv2json.wasm';

export function conformanceBundle(approverVkey: string, moduleSha256: string, spinSha256: string): PolicyBundleDoc {
  const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra });
  const args = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}) });
  return {
    apiVersion: 'helm-policy-bundle/v1',
    kind: 'PolicyBundle',
    metadata: { name: BUNDLE_NAME, version: '1.0.0', description: 'What helmctl conformance expects a sidecar to enforce (docs/conformance.md).' },
    domains: {
      conf: { description: 'Tools the conformance principal may call' },
      ops: { description: 'Granted, but with a profile that excludes destructive tools' },
      restricted: { description: 'Never granted to the conformance principal' },
    },
    profiles: { 'conf-agent': { description: 'read, write and external effects', sideEffects: ['read', 'write', 'external'] } },
    grants: [{ id: 'conformance-agent', principals: { roles: [PRINCIPAL_ROLE] }, domains: ['conf', 'ops'], profile: 'conf-agent' }],
    destinations: { 'conf-docs': ['docs.example.com'] },
    tools: {
      conf__echo: { domain: 'conf', sideEffect: 'read', args: args({ text: str({ maxLength: 200 }) }, ['text']) },
      conf__metered: { domain: 'conf', sideEffect: 'read', args: args({ n: { type: 'integer' } }, ['n']) },
      conf__throttled: { domain: 'conf', sideEffect: 'read', args: args({ n: { type: 'integer' } }, ['n']) },
      conf__refund: { domain: 'conf', sideEffect: 'write', args: args({ amountCents: { type: 'integer', minimum: 1 } }, ['amountCents']) },
      conf__profile: {
        domain: 'conf',
        sideEffect: 'read',
        args: args({ mode: { enum: ['clean', 'leak'] } }, ['mode']),
        output: { type: 'object', properties: { id: str(), name: str() }, required: ['id', 'name'], additionalProperties: false },
      },
      conf__pinned: { domain: 'conf', sideEffect: 'read', definitionHash: pinnedDefinitionHash(), args: args({ q: str({ maxLength: 200 }) }, ['q']) },
      conf__fetch: { domain: 'conf', sideEffect: 'external', args: args({ url: str() }, ['url']), destinations: [{ arg: '/url', kind: 'url', allow: ['conf-docs'] }] },
      conf__shell: { domain: 'conf', sideEffect: 'write', args: args({ host: str({ pattern: '^[A-Za-z0-9.-]{1,253}$' }) }, ['host']) },
      conf__query: { domain: 'conf', sideEffect: 'read', args: args({ table: { enum: ['orders', 'customers'] }, filter: str({ pattern: '^[A-Za-z0-9_]{0,64}$' }) }, ['table']) },
      conf__secrets: { domain: 'restricted', sideEffect: 'read', args: args({}) },
      conf__wipe: { domain: 'ops', sideEffect: 'destructive', args: args({}) },
      // Sandboxed tools (csv2json under four compute profiles, a runaway module under a fifth): run
      // by the sidecar's built-in sandbox.
      ...Object.fromEntries(
        (['conf-compute', 'conf-compute-gas', 'conf-compute-output', 'conf-compute-memory', 'conf-compute-time'] as const).map((profile, i) => [
          ['conf__csv', 'conf__csv_gas', 'conf__csv_output', 'conf__csv_memory', 'conf__spin'][i],
          {
            domain: 'conf',
            sideEffect: 'read',
            sandbox: profile,
            args: args({ csv: str({ maxLength: 100_000 }) }, ['csv']),
            output: { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' } } },
            wasm: profile === 'conf-compute-time' ? { module: SPIN_MODULE, sha256: spinSha256, stdin: { arg: 'csv' }, stdout: 'json' } : { module: SANDBOX_MODULE, sha256: moduleSha256, stdin: { arg: 'csv' }, stdout: 'json' },
          },
        ]),
      ),
    },
    sandbox: {
      profiles: {
        'conf-compute': { description: 'enough for a small CSV', network: 'none', filesystem: 'none', compute: { gas: 50_000_000, wallMs: 5000, memoryPages: 64, outputBytes: 65_536 } },
        'conf-compute-gas': { description: 'too little gas for any CSV', network: 'none', filesystem: 'none', compute: { gas: 1000, wallMs: 5000, memoryPages: 64, outputBytes: 65_536 } },
        'conf-compute-output': { description: 'too little output for any CSV', network: 'none', filesystem: 'none', compute: { gas: 50_000_000, wallMs: 5000, memoryPages: 64, outputBytes: 8 } },
        // csv2json declares 2 pages of initial memory: a 1-page ceiling refuses it before it runs.
        // (A CSV needing memory.grow past 2 pages is over 60 KB: more than a receipt's arguments can hold.)
        'conf-compute-memory': { description: 'one page, less than csv2json starts with', network: 'none', filesystem: 'none', compute: { gas: 50_000_000, wallMs: 5000, memoryPages: 1, outputBytes: 65_536 } },
        // The runaway module: its gas (10^12 instructions) outlasts 200 ms by orders of magnitude, so the wall clock stops it.
        'conf-compute-time': { description: '200 ms of wall time for a guest that never ends', network: 'none', filesystem: 'none', compute: { gas: 1_000_000_000_000, wallMs: 200, memoryPages: 64, outputBytes: 65_536 } },
      },
    },
    rules: [
      { id: 'allow-conf', match: { domains: ['conf', 'ops', 'restricted'] }, verdict: 'ALLOW' },
      { id: 'escalate-refund', match: { tools: ['conf__refund'] }, when: `args.amountCents > ${ESCALATE_ABOVE_CENTS}`, verdict: 'ESCALATE', approval: 'manager' },
    ],
    budgets: [{ id: BUDGET_ID, scope: 'principal-tool', windowSeconds: 315_360_000, maxCalls: BUDGET_MAX_CALLS, match: { tools: ['conf__metered'] } }],
    rateLimits: [{ id: RATE_ID, scope: 'principal-tool', match: { tools: ['conf__throttled'] }, capacity: 1, refillTokens: 1, refillIntervalMs: 3_600_000 }],
    approvals: { manager: { description: 'The conformance approver', approvers: [approverVkey], quorum: 1, timelockSeconds: 0, holdSeconds: 0, timeoutSeconds: 3600 } },
  } as unknown as PolicyBundleDoc;
}

/** The longest conf__echo text the overlay's requirement (layer 1) lets through. */
export const OVERLAY_ECHO_MAX = 24;

/**
 * L3-BUNDLE-COMPOSITION: an overlay that narrows the conformance bundle (policy-bundle.md §7): a
 * DENY rule for conf__query on the customers table, and an ALLOW rule that becomes a layer-1
 * requirement on conf__echo (short texts only).
 */
export function conformanceOverlay(): PolicyOverlayDoc {
  return {
    apiVersion: 'helm-policy-bundle/v1',
    kind: 'PolicyOverlay',
    metadata: { name: `${BUNDLE_NAME}-overlay`, version: '1.0.0', description: 'Narrows the conformance bundle (docs/conformance.md, L3-BUNDLE-COMPOSITION).' },
    rules: [
      { id: 'overlay-deny-customers', match: { tools: ['conf__query'] }, when: "args.table == 'customers'", verdict: 'DENY' },
      { id: 'overlay-short-echo', match: { tools: ['conf__echo'] }, when: `size(args.text) <= ${OVERLAY_ECHO_MAX}`, verdict: 'ALLOW' },
    ],
  } as unknown as PolicyOverlayDoc;
}

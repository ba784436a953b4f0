// Governance parsing against the sidecar's own formatters (sidecar/openai/summary.ts, explain.ts,
// sidecar/mcp/refusal.ts): the inputs are CallDecisions and refusals, the expectations follow from
// them, not from the parser. The same cases are written to test/sdk/vectors/governance.json for
// the other SDKs (HELM_WRITE_SPEC=1 regenerates it; otherwise the file must match byte for byte).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { explainAll } from '../../../sidecar/openai/explain.js';
import type { CallDecision } from '../../../sidecar/openai/gate.js';
import { helmHeaders, summary } from '../../../sidecar/openai/summary.js';
import { refusalData, rpcCode, type Refusal } from '../../../sidecar/mcp/refusal.js';
import { mcpErrorGovernance, mcpResultGovernance, mcpToolGovernance, parseHelmContent, readGovernance, type HelmNotice } from '../../../sdk/ts/src/index.js';
import { repoRoot } from '../../support/shared.js';

const h = (c: string) => `sha256:${c.repeat(64)}` as `sha256:${string}`;
const challenge = { callId: 'c-3', decision: h('d'), policyDigest: h('e'), nonce: 'jgg1gfP9j8oWRNC1vSyxUw', approval: 'manager', approvers: ['helm/alice+3a924a52'], quorum: 1, notBefore: '2026-11-22T01:50:14.950Z', expiresAt: '2026-11-23T01:50:14.950Z' };
const base = { recorded: true, intentId: h('0'), lamport: 7, detail: 'rule says so' };
const allow: CallDecision = { ...base, toolCallId: 'call_1', callId: 'c-1', tool: 'crm.lookup_customer', verdict: 'ALLOW', reasonCode: 'ALLOWED', receiptId: h('a') };
const deny: CallDecision = { ...base, toolCallId: 'call 2/ü😀\ue000', callId: 'c-2', tool: 'shell."exec"\u200b\u{e0001}𝄞', verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED', receiptId: h('b'), retryAfterMs: 1500 };
const refused: CallDecision = { ...base, toolCallId: 'call_1', callId: 'c-4', tool: 'crm.lookup_customer', verdict: 'DENY', reasonCode: 'TOOL_CALL_ID_REUSED', receiptId: h('f') };
const escalate: CallDecision = { ...base, toolCallId: 'call_3', callId: 'c-3', tool: 'billing.refund', verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', receiptId: h('c'), challenge };
const bare: CallDecision = { ...base, toolCallId: null, callId: 'c-5', tool: 'mail.send', verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', receiptId: null };
const removed: CallDecision = { ...base, toolCallId: null, callId: 'c-6', tool: 'files.delete', verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED', receiptId: h('9') };
const many: CallDecision[] = Array.from({ length: 33 }, (_, i) => ({ ...allow, toolCallId: `call_${i}`, callId: `c-${i}` }));

const deniedRefusal: Refusal = { kind: 'denied', verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED', message: 'x denied', receipts: { callId: 'm-1', intent: h('1'), decision: h('2') } };
const pendingRefusal: Refusal = { kind: 'approval-pending', verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', message: 'x needs approval', receipts: { callId: 'm-2', intent: h('3'), decision: h('4') }, challenge };

const expectCall = (d: CallDecision, delivered: boolean) => ({ toolCallId: d.toolCallId, tool: d.tool, verdict: d.verdict, reasonCode: d.reasonCode, receiptId: d.receiptId, delivered, approvalNonce: d.challenge?.nonce ?? null });

/** The cross-language cases: inputs as the sidecar writes them, and what every SDK must read. */
const cases = {
  completion: {
    headers: helmHeaders([allow, deny, escalate], [removed]),
    body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [], helm: summary([allow, deny, escalate], [removed], new Set([allow])) },
    expect: {
      // The strictest decision: DENY outranks ESCALATE.
      verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED', receiptId: deny.receiptId, approvalId: null, truncated: false,
      calls: [expectCall(allow, true), expectCall(deny, false), expectCall(escalate, false)],
      toolsRemoved: [{ tool: 'files.delete', verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED' }],
    },
  },
  headersOnly: {
    headers: helmHeaders(many),
    expect: { verdict: 'ALLOW', reasonCode: 'ALLOWED', truncated: true, callIds: many.slice(0, 32).map((d) => d.toolCallId) },
  },
  notices: {
    content: `Here is what happened.\n${explainAll([deny, refused, escalate, bare])}`,
    expect: [
      { tool: deny.tool, toolCallId: deny.toolCallId, verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED', kind: 'blocked', receiptId: deny.receiptId, approvalId: null, decision: null },
      { tool: refused.tool, toolCallId: 'call_1', verdict: 'DENY', reasonCode: 'TOOL_CALL_ID_REUSED', kind: 'refused', receiptId: refused.receiptId, approvalId: null, decision: null },
      { tool: escalate.tool, toolCallId: 'call_3', verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', kind: 'approval', receiptId: escalate.receiptId, approvalId: challenge.nonce, decision: challenge.decision },
      { tool: bare.tool, toolCallId: null, verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', kind: 'approval', receiptId: null, approvalId: null, decision: null },
    ],
  },
  mcp: {
    result: { content: [{ type: 'text', text: 'ok' }], _meta: { other: 1, 'helm.mindburn.org/receipt': { verdict: 'ALLOW', reasonCode: 'ALLOWED', callId: 'm-0', intent: h('5'), decision: h('6'), effect: h('7'), result: h('8') } } },
    resultExpect: { verdict: 'ALLOW', reasonCode: 'ALLOWED', receipt: h('8') },
    denied: { code: rpcCode(deniedRefusal), message: deniedRefusal.message, data: refusalData(deniedRefusal) },
    deniedExpect: { verdict: 'DENY', reasonCode: 'TOOL_NOT_GRANTED', receipt: h('2'), kind: 'denied', approvalNonce: null },
    pending: { code: rpcCode(pendingRefusal), message: pendingRefusal.message, data: refusalData(pendingRefusal) },
    pendingExpect: { verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', receipt: h('4'), kind: 'approval-pending', approvalNonce: challenge.nonce },
    otherError: { code: -32602, message: 'Invalid params' },
    tool: { name: 'crm__lookup', inputSchema: { type: 'object' }, _meta: { 'helm.mindburn.org/governance': { upstream: 'crm', upstreamTool: 'lookup', domain: 'crm', sideEffect: 'read', approval: null, pinned: true, definitionHash: h('9'), conditions: [] } } },
  },
};

const FILE = join(repoRoot, 'test', 'sdk', 'vectors', 'governance.json');

describe('TS SDK: governance parsing', () => {
  it('the shared governance vectors are what the sidecar formatters produce now', () => {
    const text = `${JSON.stringify(cases, null, 2)}\n`;
    if (process.env.HELM_WRITE_SPEC === '1') writeFileSync(FILE, text);
    expect(readFileSync(FILE, 'utf8')).toBe(text);
  });

  it('reads headers and the helm body field of a completion', () => {
    const c = cases.completion;
    const g = readGovernance(new Headers(c.headers), c.body);
    const { calls, ...top } = c.expect;
    expect({ verdict: g.verdict, reasonCode: g.reasonCode, receiptId: g.receiptId, approvalId: g.approvalId, truncated: g.truncated, toolsRemoved: g.toolsRemoved }).toEqual(top);
    expect(g.calls.map((x) => ({ toolCallId: x.toolCallId, tool: x.tool, verdict: x.verdict, reasonCode: x.reasonCode, receiptId: x.receiptId, delivered: x.delivered, approvalNonce: x.approval?.nonce ?? null }))).toEqual(calls);
    // Headers alone: the same verdicts per call, ids URI-decoded.
    expect(readGovernance(c.headers).calls.map((x) => [x.toolCallId, x.verdict, x.reasonCode])).toEqual(c.expect.calls.map((x) => [x.toolCallId, x.verdict, x.reasonCode]));
  });

  it('marks header lists cut at 32 entries as truncated', () => {
    const g = readGovernance(cases.headersOnly.headers);
    expect([g.verdict, g.reasonCode, g.truncated, g.calls.map((x) => x.toolCallId)]).toEqual([cases.headersOnly.expect.verdict, cases.headersOnly.expect.reasonCode, true, cases.headersOnly.expect.callIds]);
  });

  it('reads [HELM] lines, unescaping quoted and invisible characters in names', () => {
    const got = parseHelmContent(cases.notices.content).map(({ text: _t, ...rest }: HelmNotice) => rest);
    expect(got).toEqual(cases.notices.expect);
  });

  it('reads MCP _meta receipts, refusals and tool governance', () => {
    const m = cases.mcp;
    expect(mcpResultGovernance(m.result)).toMatchObject(m.resultExpect);
    const d = mcpErrorGovernance(m.denied)!;
    expect({ verdict: d.verdict, reasonCode: d.reasonCode, receipt: d.receipt, kind: d.refusal!.kind, approvalNonce: d.refusal!.challenge?.nonce ?? null }).toEqual(m.deniedExpect);
    const p = mcpErrorGovernance(m.pending)!;
    expect({ verdict: p.verdict, reasonCode: p.reasonCode, receipt: p.receipt, kind: p.refusal!.kind, approvalNonce: p.refusal!.challenge?.nonce ?? null }).toEqual(m.pendingExpect);
    expect(mcpErrorGovernance(m.otherError)).toBeNull();
    expect(mcpToolGovernance(m.tool)).toMatchObject({ upstream: 'crm', sideEffect: 'read', pinned: true });
    expect(mcpResultGovernance({ content: [] })).toBeNull();
  });

  it('refuses a verdict that is not one of the three', () => {
    expect(() => readGovernance({ 'x-helm-decision': 'MAYBE' })).toThrow(/not ALLOW, DENY or ESCALATE/);
  });
});

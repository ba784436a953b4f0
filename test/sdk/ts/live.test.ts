// The TypeScript SDK against a live `helmctl serve` (test/sdk/live-sidecar.ts): the agent keeps the
// openai client; the SDK reads each answer's governance, verifies its receipts offline against
// the trust policy, and answers the approval the escalated call opened.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ApprovalsClient, governanceOf, governedFetch, loadTrust, parseHelmContent, readApproverKey, verifyReceipt, type Governance } from '../../../sdk/ts/src/index.js';
import { SCRIPT, useLiveSidecar } from '../live-sidecar.js';

describe('TS SDK against a live sidecar', () => {
  const live = useLiveSidecar();

  async function receipt(hash: string, trustEvents: string[]) {
    const hex = hash.replace(/^sha256:/, '');
    const entry = await readFile(join(live().packDir, 'receipts', `${hex}.json`));
    const proof = await readFile(join(live().packDir, 'receipts', `${hex}.tlog-proof`), 'utf8');
    return verifyReceipt(entry, loadTrust(await readFile(live().trustPolicy, 'utf8'), trustEvents), { proof });
  }

  it('reads the governance of an allowed and a denied call, verifies both receipts, and approves an escalated call', async () => {
    const seen: Governance[] = [];
    const client = new OpenAI({ baseURL: live().baseUrl, apiKey: 'agent-own-key', maxRetries: 0, fetch: governedFetch((g) => seen.push(g)) });
    const ask = (prompt: string) => client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: prompt }] }).withResponse();

    const allowed = await ask(SCRIPT.allowed.prompt);
    const a = governanceOf(allowed.response, allowed.data);
    expect([a.verdict, a.reasonCode, a.calls.map((c) => [c.tool, c.verdict, c.delivered])]).toEqual(['ALLOW', 'ALLOWED', [[SCRIPT.allowed.tool, 'ALLOW', true]]]);
    expect(a.receiptId).toMatch(/^sha256:[0-9a-f]{64}$/);

    const denied = await ask(SCRIPT.denied.prompt);
    const d = governanceOf(denied.response, denied.data);
    expect([d.verdict, d.calls.map((c) => [c.tool, c.verdict, c.delivered])]).toEqual(['DENY', [[SCRIPT.denied.tool, 'DENY', false]]]);
    const notice = parseHelmContent(String(denied.data.choices[0]!.message.content));
    expect(notice.map((n) => [n.tool, n.verdict, n.reasonCode, n.receiptId])).toEqual([[SCRIPT.denied.tool, 'DENY', d.reasonCode, d.receiptId]]);
    // The fetch hook saw the same governance as the explicit read.
    expect(seen.map((g) => g.receiptId)).toEqual([a.receiptId, d.receiptId]);

    // A stream: the headers come first, the full `helm` summary in the last chunk.
    const streamed = await client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: SCRIPT.denied.prompt }], stream: true }).withResponse();
    let last: unknown;
    for await (const chunk of streamed.data) if ((chunk as { helm?: unknown }).helm) last = chunk;
    const sg = governanceOf(streamed.response, last);
    expect([sg.verdict, sg.calls.map((c) => [c.tool, c.verdict, c.delivered, c.receiptId === sg.receiptId])]).toEqual(['DENY', [[SCRIPT.denied.tool, 'DENY', false, true]]]);
    // The fetch hook reported the stream from its headers (verdicts, no receipt ids per call).
    expect(seen.slice(2).map((g) => [g.verdict, g.calls.map((c) => [c.verdict, c.receiptId])])).toEqual([['DENY', [['DENY', null]]]]);

    const escalated = await ask(SCRIPT.escalated.prompt);
    const e = governanceOf(escalated.response, escalated.data);
    expect([e.verdict, e.reasonCode]).toEqual(['ESCALATE', 'APPROVAL_REQUIRED']);
    const approvals = new ApprovalsClient(live().adminUrl);
    const pending = await approvals.list();
    expect(pending.map((p) => [p.nonce, p.tool])).toEqual([[e.approvalId, SCRIPT.escalated.tool]]);
    const accepted = await approvals.answer(e.approvalId!, await readApproverKey(live().approverKey));
    expect([accepted.accepted, accepted.approvals, accepted.quorum]).toEqual([true, 1, 1]);
    const retried = await ask(SCRIPT.escalated.prompt);
    const r = governanceOf(retried.response, retried.data);
    expect([r.verdict, r.reasonCode]).toEqual(['ALLOW', 'APPROVAL_GRANTED']);

    expect((await fetch(live().exportUrl, { method: 'POST' })).status).toBe(200);
    const events = (await readFile(join(live().packDir, 'trust-events.jsonl'), 'utf8')).trim().split('\n');
    const verified = await Promise.all([a.receiptId!, d.receiptId!, accepted.receipt, r.receiptId!].map((h) => receipt(h, events)));
    expect(verified.map((v) => [v.kind, v.body.verdict, v.body.reasonCode ?? null, v.inclusion !== null])).toEqual([
      ['decision', 'ALLOW', 'ALLOWED', true],
      ['decision', 'DENY', d.reasonCode, true],
      ['approval', 'approve', null, true],
      ['decision', 'ALLOW', 'APPROVAL_GRANTED', true],
    ]);
    // A receipt from this log does not verify against another log's trust policy.
    await expect(receipt(a.receiptId!, [])).rejects.toMatchObject({ code: 'ERR_UNTRUSTED_SIGNER' });
  }, 60_000);
});

// The approvals API on the admin port: it lists escalations, and only a valid Ed25519 signature
// by an approver the escalating bundle lists changes anything. Every refusal leaves the log as it
// was; an accepted approval is an approval node, and the retried call is then allowed once.
import { readFile, writeFile } from 'node:fs/promises';
import { approve } from '../../cli/commands/approve.js';
import { toBase64 } from '../../kernel/crypto/bytes.js';
import { signApproval, type ApprovalSubmission } from '../../kernel/pep/index.js';
import type { PendingApproval } from '../../sidecar/approvals/pending.js';
import { approvers, mallory } from '../pep/support.js';
import { body, call, decisions, Pod, type Running } from './support.js';

// Tool-call ids are single use: the model's retry of the same call carries a new one.
const refund = (id = 'call_refund') => () => ({ toolCalls: [call(id, 'billing.refund', { paymentId: 'pay_1', amountCents: 25000 })] });

async function escalate(pod: Pod, r: Running): Promise<PendingApproval> {
  pod.script(refund());
  await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'refund it' }] });
  const list = (await (await r.admin('/v1/approvals')).json()) as { pending: PendingApproval[] };
  expect(list.pending).toHaveLength(1);
  return list.pending[0]!;
}

const post = (r: Running, payload: unknown, type = 'application/json') =>
  r.admin('/v1/approvals', { method: 'POST', headers: { 'content-type': type }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });

describe('approvals API', () => {
  let pod: Pod;
  beforeEach(async () => {
    pod = await Pod.create();
  });
  afterEach(async () => {
    await pod.cleanup();
  });

  it('lists the escalation with what approvers sign', async () => {
    const r = await pod.start();
    const p = await escalate(pod, r);
    expect(p).toMatchObject({ callId: 'call_refund', tool: 'billing.refund', principal: 'agent:sup-1', approval: 'manager', quorum: 1, approvals: [] });
    expect(p.approvers).toEqual([approvers.alice.verifier.handle, approvers.bob.verifier.handle, approvers.carol.verifier.handle]);
    const node = (await pod.nodes()).find((n) => n.entryHash === p.decision)!;
    expect(body(node)).toMatchObject({ verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', escalation: { nonce: p.nonce } });
    expect(await (await r.admin(`/v1/approvals/${p.nonce}`)).json()).toEqual(p);
    expect((await r.admin('/v1/approvals/unknown-nonce-0000')).status).toBe(404);
  });

  it('does not list an expired ceremony as pending when the clock is set back (the PEP clock never goes back)', async () => {
    let now = Date.parse('2026-11-21T10:15:00.000Z');
    const r = await pod.start({ clock: () => now });
    const p = await escalate(pod, r);
    now = Date.parse(p.expiresAt) + 3600_000; // an hour past the ceremony's expiry
    // A decision at that time: the PEP has now used it.
    pod.script(() => ({ toolCalls: [call('call_late', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'look it up' }] });
    now = Date.parse(p.expiresAt) - 600_000; // the node clock is set back, inside the window again
    const list = (await (await r.admin('/v1/approvals')).json()) as { pending: PendingApproval[] };
    expect(list.pending).toEqual([]);
    expect((await r.admin(`/v1/approvals/${p.nonce}`)).status).toBe(404);
  });

  it('refuses unsigned, malformed and wrong-key submissions without recording anything', async () => {
    const r = await pod.start();
    const p = await escalate(pod, r);
    const target = { decision: p.decision, policyDigest: p.policyDigest, nonce: p.nonce };
    const good = signApproval(target, approvers.alice);
    const size = (await pod.nodes()).length;

    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['not JSON content', post(r, good, 'text/plain'), 415, 'ERR_APPROVAL_MALFORMED'],
      ['broken JSON', post(r, '{"decision":'), 400, 'ERR_APPROVAL_MALFORMED'],
      ['no signature at all', post(r, { ...good, signature: undefined }), 400, 'ERR_APPROVAL_MALFORMED'],
      ['an all-zero signature', post(r, { ...good, signature: toBase64(new Uint8Array(64)) }), 403, 'ERR_APPROVAL_BAD_SIGNATURE'],
      ["alice's handle, mallory's signature", post(r, { ...signApproval(target, mallory), approver: approvers.alice.verifier.handle }), 403, 'ERR_APPROVAL_BAD_SIGNATURE'],
      ['a key the bundle does not list', post(r, signApproval(target, mallory)), 403, 'ERR_APPROVAL_WRONG_KEY'],
      ["alice's signature over another answer", post(r, { ...signApproval(target, approvers.alice, 'reject'), verdict: 'approve' } satisfies ApprovalSubmission), 403, 'ERR_APPROVAL_BAD_SIGNATURE'],
      ['another nonce', post(r, signApproval({ ...target, nonce: 'A'.repeat(22) }, approvers.alice)), 404, 'ERR_APPROVAL_UNKNOWN_NONCE'],
      ['an extra field', post(r, { ...good, admin: true }), 400, 'ERR_APPROVAL_MALFORMED'],
    ];
    for (const [what, res, status, code] of cases) {
      const got = await res;
      expect([what, got.status, ((await got.json()) as { code: string }).code]).toEqual([what, status, code]);
    }
    expect((await pod.nodes()).length).toBe(size);
    const m = await (await r.admin('/metrics')).text();
    expect(m).toMatch(/^helm_approval_submissions_total\{result="ERR_APPROVAL_BAD_SIGNATURE"\} 3$/m);
    expect(m).toMatch(/^helm_approvals_pending 1$/m);
  });

  it('a valid signature is recorded as an approval node and lets the retried call through once', async () => {
    const r = await pod.start();
    const p = await escalate(pod, r);
    const res = await post(r, signApproval({ decision: p.decision, policyDigest: p.policyDigest, nonce: p.nonce }, approvers.bob));
    expect(res.status).toBe(201);
    const accepted = (await res.json()) as { receipt: string; approvals: number; quorum: number };
    expect(accepted).toMatchObject({ accepted: true, approvals: 1, quorum: 1 });
    const approval = (await pod.nodes()).find((n) => n.entryHash === accepted.receipt)!;
    expect(approval.kind).toBe('approval');
    expect(body(approval)).toMatchObject({ approver: approvers.bob.verifier.handle, verdict: 'approve', decision: p.decision });

    // A second answer by the same approver is a replay.
    const again = await post(r, signApproval({ decision: p.decision, policyDigest: p.policyDigest, nonce: p.nonce }, approvers.bob));
    expect(again.status).toBe(409);

    pod.script(refund('call_refund_retry'));
    const c = await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'refund it (approved)' }] });
    expect(c.choices[0]!.message.tool_calls?.map((t) => (t.type === 'function' ? t.function.name : t.id))).toEqual(['billing.refund']);
    expect(decisions(await pod.nodes()).filter((d) => d[1] === 'billing.refund').map((d) => d.slice(2))).toEqual([
      ['ESCALATE', 'APPROVAL_REQUIRED'],
      ['ALLOW', 'APPROVAL_GRANTED'],
    ]);
    expect(((await (await r.admin('/v1/approvals')).json()) as { pending: unknown[] }).pending).toEqual([]);
  });

  it('after a restart an escalation with an approval not yet used lists that approval, as before the restart', async () => {
    const a = await pod.start();
    const p = await escalate(pod, a);
    const res = await post(a, signApproval({ decision: p.decision, policyDigest: p.policyDigest, nonce: p.nonce }, approvers.carol));
    expect(res.status).toBe(201);
    const before = (await (await a.admin('/v1/approvals')).json()) as { pending: PendingApproval[] };
    expect(before.pending[0]!.approvals).toEqual([{ approver: approvers.carol.verifier.handle, verdict: 'approve', receipt: ((await res.json()) as { receipt: string }).receipt }]);
    await a.sidecar.stop();
    const b = await pod.start();
    expect(await (await b.admin('/v1/approvals')).json()).toEqual(before);
  });

  it('helmctl approve signs the challenge GET /v1/approvals/{nonce} returns, and the API accepts its output', async () => {
    const r = await pod.start();
    const p = await escalate(pod, r);
    await writeFile(pod.path('challenge.json'), await (await r.admin(`/v1/approvals/${p.nonce}`)).text());
    await writeFile(pod.path('keys/carol.key'), `${approvers.carol.privateText}\n`, { mode: 0o600 });
    const io = { stdout: { write: () => true }, stderr: { write: () => true } };
    expect(await approve.run(['--key', pod.path('keys/carol.key'), '--challenge', pod.path('challenge.json'), '--out', pod.path('approval.json')], io)).toBe(0);
    const res = await post(r, await readFile(pod.path('approval.json'), 'utf8'));
    expect(res.status).toBe(201);
  });

  it('after a restart the pending escalation is still listed (folded from the log) and can be approved', async () => {
    const a = await pod.start();
    const p = await escalate(pod, a);
    await a.sidecar.stop();
    const b = await pod.start();
    const list = (await (await b.admin('/v1/approvals')).json()) as { pending: PendingApproval[] };
    expect(list.pending).toEqual([p]);
    const res = await post(b, signApproval({ decision: p.decision, policyDigest: p.policyDigest, nonce: p.nonce }, approvers.alice));
    expect(res.status).toBe(201);
  });
});

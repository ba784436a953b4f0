// The shared live harness: a real helmctl serve whose scripted model proposes an allowed, a denied
// and an escalating call on cue, and an export that writes receipts with their inclusion proofs.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCRIPT, useLiveSidecar } from './live-sidecar.js';

describe('live sidecar harness', () => {
  const live = useLiveSidecar();

  const ask = async (prompt: string) =>
    fetch(`${live().baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer agent' },
      body: JSON.stringify({ model: 'scripted-model', messages: [{ role: 'user', content: prompt }] }),
    });

  it('answers each prompt of the contract with the verdict it names, and exports every receipt', async () => {
    const verdicts: Array<string | null> = [];
    for (const s of [SCRIPT.allowed, SCRIPT.denied, SCRIPT.escalated]) verdicts.push((await ask(s.prompt)).headers.get('x-helm-decision'));
    expect(verdicts).toEqual(['ALLOW', 'DENY', 'ESCALATE']);
    const pending = (await (await fetch(`${live().adminUrl}/v1/approvals`)).json()) as { pending: Array<{ tool: string; approvers: string[] }> };
    expect(pending.pending.map((p) => [p.tool, p.approvers.includes(live().approverHandle)])).toEqual([[SCRIPT.escalated.tool, true]]);

    const res = await fetch(live().exportUrl, { method: 'POST' });
    expect(res.status).toBe(200);
    const { receipts } = (await res.json()) as { receipts: number };
    const files = await readdir(join(live().packDir, 'receipts'));
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(receipts);
    expect(files.filter((f) => f.endsWith('.tlog-proof'))).toHaveLength(receipts);
    expect((await readFile(join(live().packDir, 'trust-events.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
    expect((await readFile(join(live().packDir, 'pack.tar.gz'))).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(Object.keys(live().env()).every((k) => k.startsWith('HELM_SDK_'))).toBe(true);
  }, 60_000);
});

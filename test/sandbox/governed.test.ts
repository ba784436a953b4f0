// Sandboxed tools through the real sidecar (GuardianSidecar from flags, the MCP gateway's built-in
// sandbox upstream, REST /mcp/v1/execute): decided by the PEP, run only after a durable ALLOW, and
// each limit, denial and failure ended by a signed RESULT with its own ERR_COMPUTE_* code.
import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { main as helmctl } from '../../cli/helmctl.js';
import type { DecodedNode } from '../../kernel/contracts/node.js';
import { body, keys, Pod, type Running } from '../sidecar/support.js';
import { chainOf } from '../sidecar/mcp/support.js';
import { sandboxFixture, writeModules } from './governed-fixture.js';

let pod: Pod;
let running: Running;

beforeAll(async () => {
  pod = await Pod.create();
  const f = await sandboxFixture();
  await pod.writeBundle(f.doc);
  await writeModules(pod.path('bundle'), f.files);
  running = await pod.start({ flags: ['--sandbox-workers', '2'], env: { HELM_TOOL_ROUTES: JSON.stringify({ csv2json: { sandbox: 'base' } }) } });
}, 60_000);

afterAll(async () => {
  await pod?.cleanup();
});

async function execute(tool: string, args: Record<string, unknown>, callId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${running.sidecar.governedUrl}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args, callId }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function chain(callId: string) {
  const c = await chainOf({ logDir: pod.logDir, node: keys.node }, callId);
  const b = (n: DecodedNode | undefined) => (n ? body(n) : undefined);
  return { decision: b(c.decision)!, effect: b(c.effect), result: b(c.result) };
}

const CSV = 'name,qty\nbolt,4\n"nut, hex",10\n';

describe('sandboxed tools through the sidecar', () => {
  it('lists the bundle wasm tools under the built-in sandbox upstream', async () => {
    const res = await fetch(`${running.sidecar.governedUrl}/mcp/v1/capabilities`);
    const caps = (await res.json()) as { tools: Array<{ name: string; governance: { upstream: string; sandbox: { profile: string } } }> };
    const csv = caps.tools.find((t) => t.name === 'csv2json');
    expect(csv?.governance.upstream).toBe('sandbox');
    expect(csv?.governance.sandbox.profile).toBe('base');
  });

  it('csv2json: an ALLOW with the profile in the decision, then EFFECT and a RESULT recording gas, wall time, memory and the output digest', async () => {
    const r = await execute('csv2json', { text: CSV }, 'sb-csv-1');
    expect(r.status).toBe(200);
    const result = r.body.result as { content: Array<{ text: string }> };
    const text = result.content[0]!.text;
    expect(JSON.parse(text)).toEqual([{ name: 'bolt', qty: '4' }, { name: 'nut, hex', qty: '10' }]);
    const c = await chain('sb-csv-1');
    expect(c.decision).toMatchObject({ verdict: 'ALLOW', sandbox: 'base' });
    expect(c.effect).toMatchObject({ status: 'executed', confirmed: true });
    const compute = c.result!.compute as Record<string, number | string>;
    expect(c.result!.status).toBe('ok');
    expect(compute.outputDigest).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
    expect(compute.gas).toBeGreaterThan(0);
    expect(compute.peakMemoryPages).toBeGreaterThanOrEqual(2);
    expect(compute.outputBytes).toBe(Buffer.byteLength(text));
    expect(typeof compute.wallMs).toBe('number');
  });

  it('determinism: the same module and input give the same output digest and the same gas twice', async () => {
    await execute('csv2json', { text: CSV }, 'sb-det-1');
    await execute('csv2json', { text: CSV }, 'sb-det-2');
    const a = (await chain('sb-det-1')).result!.compute as Record<string, unknown>;
    const b = (await chain('sb-det-2')).result!.compute as Record<string, unknown>;
    expect([b.outputDigest, b.gas]).toEqual([a.outputDigest, a.gas]);
  });

  it.each([
    ['loop', 'ERR_COMPUTE_GAS_EXHAUSTED'],
    ['bomb', 'ERR_COMPUTE_MEMORY_EXHAUSTED'],
    ['huge', 'ERR_COMPUTE_OUTPUT_EXHAUSTED'],
    ['cat', 'ERR_COMPUTE_CAPABILITY_DENIED'],
    ['clock', 'ERR_COMPUTE_CAPABILITY_DENIED'],
    ['random', 'ERR_COMPUTE_CAPABILITY_DENIED'],
  ])('%s ends with a receipted DENY %s after the guest ran', async (tool, code) => {
    const r = await execute(tool, {}, `sb-${tool}`);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ verdict: 'DENY', reasonCode: code });
    const c = await chain(`sb-${tool}`);
    expect(c.decision.verdict).toBe('ALLOW');
    expect(c.effect).toMatchObject({ status: 'failed' });
    expect(c.result).toMatchObject({ status: 'error', reasonCode: code });
    expect((r.body.receipts as Record<string, string>).result).toBeDefined();
  });

  it('the gas limit stops the infinite loop exactly at its allowance; the memory bomb at its page ceiling', async () => {
    expect(((await chain('sb-loop')).result!.compute as Record<string, number>).gas).toBe(1_000_000);
    expect(((await chain('sb-bomb')).result!.compute as Record<string, number>).peakMemoryPages).toBeLessThanOrEqual(4);
    expect(((await chain('sb-huge')).result!.compute as Record<string, number>).outputBytes).toBeLessThanOrEqual(4096);
  });

  it('a module whose bytes differ from the pin is refused before it runs: receipted DENY ERR_COMPUTE_MODULE_MISMATCH', async () => {
    const r = await execute('impostor', { text: 'x' }, 'sb-impostor');
    expect(r.body).toMatchObject({ verdict: 'DENY', reasonCode: 'ERR_COMPUTE_MODULE_MISMATCH' });
    const c = await chain('sb-impostor');
    expect(c.effect).toMatchObject({ status: 'blocked' });
    expect(c.result).toMatchObject({ status: 'error', reasonCode: 'ERR_COMPUTE_MODULE_MISMATCH', compute: { gas: 0 } });
  });

  it('a module that fails to instantiate gives a receipted DENY ERR_COMPUTE_INSTANTIATION_FAILED', async () => {
    const r = await execute('hostimport', {}, 'sb-hostimport');
    expect(r.body).toMatchObject({ verdict: 'DENY', reasonCode: 'ERR_COMPUTE_INSTANTIATION_FAILED' });
    expect((await chain('sb-hostimport')).result).toMatchObject({ status: 'error', reasonCode: 'ERR_COMPUTE_INSTANTIATION_FAILED' });
  });

  it('a runaway guest is killed at its wall time while a concurrent allowed call is served first', async () => {
    const order: string[] = [];
    const spin = execute('spin', {}, 'sb-spin').then((r) => (order.push('spin'), r));
    const upper = execute('upper', { text: 'served meanwhile' }, 'sb-upper').then((r) => (order.push('upper'), r));
    const [s, u] = await Promise.all([spin, upper]);
    expect(order).toEqual(['upper', 'spin']);
    expect((u.body.result as { content: Array<{ text: string }> }).content[0]!.text).toBe('SERVED MEANWHILE');
    expect(s.body).toMatchObject({ verdict: 'DENY', reasonCode: 'ERR_COMPUTE_TIME_EXHAUSTED' });
    expect((await chain('sb-spin')).result).toMatchObject({ status: 'error', reasonCode: 'ERR_COMPUTE_TIME_EXHAUSTED' });
    // The pool replaced the killed Worker: the next call runs.
    expect((await execute('upper', { text: 'after' }, 'sb-after')).status).toBe(200);
  });

  it('an OpenAI-proxy agent: the proxy allows the tool call (routed to the profile), the REST execute with its tool_call id continues that one decision', async () => {
    pod.script(() => ({ toolCalls: [{ id: 'call_sb_proxy', name: 'csv2json', arguments: JSON.stringify({ text: CSV }) }] }));
    const completion = await running.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'convert' }] });
    expect(completion.choices[0]!.message.tool_calls?.map((t) => t.id)).toEqual(['call_sb_proxy']);
    const r = await execute('csv2json', { text: CSV }, 'call_sb_proxy');
    expect(r.status).toBe(200);
    const c = await chainOf({ logDir: pod.logDir, node: keys.node }, 'call_sb_proxy'); // exactly one decision
    expect(body(c.intent).surface).toBe('openai');
    expect((r.body.receipts as Record<string, string>).decision).toBe(c.decision.entryHash);
    expect(body(c.result!).status).toBe('ok');
    // Executing it a second time is not a second run of that decision: it is decided anew.
    const again = await execute('csv2json', { text: CSV }, 'call_sb_proxy');
    expect((again.body.receipts as Record<string, string>).decision).not.toBe(c.decision.entryHash);
  });

  it('a denied call never runs: arguments outside the schema are a receipted DENY without an effect', async () => {
    const r = await execute('upper', { text: 'x', extra: 1 }, 'sb-bad-args');
    expect(r.body).toMatchObject({ verdict: 'DENY' });
    const c = await chain('sb-bad-args');
    expect(c.effect).toBeUndefined();
  });

  it('the pack with all these receipts verifies offline', async () => {
    const v = await pod.exportAndVerify();
    expect(v.code).toBe(0);
  });

  it('helmctl replay --modules re-runs the recorded sandboxed calls: identical with the pinned modules, diverged when a module changed', async () => {
    await running.sidecar.writer.checkpoint();
    const pack = pod.path('replay.tar.gz');
    const run = async (...argv: string[]) => {
      let out = '';
      const io = { stdout: { write: (t: string) => void (out += t) }, stderr: { write: (t: string) => void (out += t) } };
      return { code: await helmctl(argv, io), out };
    };
    expect((await run('export', '--store', pod.path('proofgraph'), '--out', pack, '--key', pod.path('keys/exporter.key'))).code).toBe(0);
    const same = await run('replay', pack, '--json', '--modules', pod.path('bundle'));
    const report = JSON.parse(same.out) as { compute: Array<{ callId: string; status: string; reasons: string[] }> };
    const by = new Map(report.compute.map((c) => [c.callId, c]));
    for (const id of ['sb-csv-1', 'sb-det-1', 'sb-loop', 'sb-bomb', 'sb-huge', 'sb-cat', 'sb-clock', 'sb-random', 'sb-impostor', 'sb-upper']) expect([id, by.get(id)?.status]).toEqual([id, 'identical']);
    expect(by.get('sb-spin')?.status).toBe('skipped');
    expect(same.code).toBe(0);
    // Other bytes under csv2json's name: the pin refuses them, and replay says the call diverged.
    const changed = pod.path('changed-modules');
    await mkdir(changed);
    await copyFile(pod.path('bundle/upper.wasm'), `${changed}/csv2json.wasm`);
    const diff = await run('replay', pack, '--modules', changed);
    expect(diff.code).not.toBe(0);
    expect(diff.out).toMatch(/diverged \S+ sb-csv-1 \(csv2json\): .*ended ok recorded, ERR_COMPUTE_MODULE_MISMATCH replayed/);
  });
});

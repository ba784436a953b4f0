// kernel/sandbox without any engine: admission, settlement and the fail-closed wrapper.
import { createHash } from 'node:crypto';
import { runCompute, type ComputeEngine, type ComputeRequest, type EngineReport } from '../../kernel/sandbox/index.js';
import { LIMITS, NO_GRANTS } from './modules.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const MODULE = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
const base: ComputeRequest = {
  module: { bytes: MODULE, sha256: createHash('sha256').update(MODULE).digest('hex') },
  input: { json: { b: 1, a: [true, null] } },
  limits: LIMITS,
  grants: NO_GRANTS,
};
const exit = (over: Partial<Extract<EngineReport, { kind: 'exit' }>> = {}): EngineReport => ({ kind: 'exit', exitCode: 0, stdout: Buffer.from('out'), gas: 10, wallMs: 1, peakMemoryPages: 1, ...over });
const engineOf = (report: EngineReport | (() => never)): ComputeEngine & { jobs: unknown[] } => {
  const jobs: unknown[] = [];
  return { jobs, execute: async (job) => (jobs.push(job), typeof report === 'function' ? report() : report) };
};

describe('kernel/sandbox admission', () => {
  it('delivers a JSON input as its canonical (RFC 8785) text and prefixes argv with "tool"', async () => {
    const engine = engineOf(exit());
    const out = await runCompute(engine, { ...base, args: ['--x'] }, sha);
    expect(out.ok).toBe(true);
    const job = engine.jobs[0] as { stdin: Uint8Array; args: string[] };
    expect(Buffer.from(job.stdin).toString()).toBe('{"a":[true,null],"b":1}');
    expect(job.args).toEqual(['tool', '--x']);
  });

  it('refuses a module whose bytes do not hash to the pin, without calling the engine', async () => {
    const engine = engineOf(exit());
    const out = await runCompute(engine, { ...base, module: { bytes: MODULE, sha256: 'ab'.repeat(32) } }, sha);
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_MODULE_MISMATCH' });
    expect(engine.jobs).toHaveLength(0);
  });

  it.each([
    [{ limits: { ...LIMITS, gas: 0 } }, 'ERR_COMPUTE_REQUEST_INVALID', /limits\.gas/],
    [{ limits: { ...LIMITS, wallMs: 1.5 } }, 'ERR_COMPUTE_REQUEST_INVALID', /limits\.wallMs/],
    [{ limits: { ...LIMITS, memoryPages: 70_000 } }, 'ERR_COMPUTE_REQUEST_INVALID', /limits\.memoryPages/],
    [{ grants: { ...NO_GRANTS, network: true } }, 'ERR_COMPUTE_CAPABILITY_DENIED', /never granted/],
    [{ grants: { ...NO_GRANTS, gpu: true } }, 'ERR_COMPUTE_REQUEST_INVALID', /grants\.gpu/],
    [{ grants: { ...NO_GRANTS, preopens: [{ guestPath: '/d', hostPath: '/tmp' }] } }, 'ERR_COMPUTE_REQUEST_INVALID', /mode/],
    [{ grants: { ...NO_GRANTS, preopens: [{ guestPath: '/d/../etc', hostPath: '/tmp', mode: 'ro' }] } }, 'ERR_COMPUTE_REQUEST_INVALID', /guestPath/],
    [{ grants: { ...NO_GRANTS, env: { 'A=B': 'x' } } }, 'ERR_COMPUTE_REQUEST_INVALID', /grants\.env/],
    [{ input: { json: { n: 1n } } }, 'ERR_COMPUTE_REQUEST_INVALID', /input\.json/],
  ])('refuses a malformed request %#', async (over, code, message) => {
    const engine = engineOf(exit());
    const out = await runCompute(engine, { ...base, ...(over as object) } as ComputeRequest, sha);
    expect(out).toMatchObject({ ok: false, reasonCode: code });
    expect(!out.ok && out.message).toMatch(message);
    expect(engine.jobs).toHaveLength(0);
  });
});

describe('kernel/sandbox settlement (fail closed)', () => {
  it('an engine that throws gives ERR_COMPUTE_ENGINE_FAILURE, not an exception', async () => {
    const out = await runCompute(engineOf(() => { throw new Error('boom'); }), base, sha);
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE' });
  });

  it('a malformed report gives ERR_COMPUTE_ENGINE_FAILURE', async () => {
    for (const report of [null, { kind: 'exit' }, { kind: 'stopped', stop: 'cosmic-ray', gas: 1, wallMs: 1, peakMemoryPages: 1, outputBytes: 0 }, exit({ gas: Number.NaN })]) {
      const out = await runCompute(engineOf(report as EngineReport), base, sha);
      expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE' });
    }
  });

  it('an engine that let a limit slip is not believed: the limit code wins over its success', async () => {
    expect(await runCompute(engineOf(exit({ gas: LIMITS.gas + 1 })), base, sha)).toMatchObject({ reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    expect(await runCompute(engineOf(exit({ peakMemoryPages: LIMITS.memoryPages + 1 })), base, sha)).toMatchObject({ reasonCode: 'ERR_COMPUTE_MEMORY_EXHAUSTED' });
    expect(await runCompute(engineOf(exit({ stdout: new Uint8Array(LIMITS.outputBytes + 1) })), base, sha)).toMatchObject({ reasonCode: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
  });

  it('maps every stop to its code and keeps the usage', async () => {
    const stops = { gas: 'ERR_COMPUTE_GAS_EXHAUSTED', time: 'ERR_COMPUTE_TIME_EXHAUSTED', memory: 'ERR_COMPUTE_MEMORY_EXHAUSTED', output: 'ERR_COMPUTE_OUTPUT_EXHAUSTED', capability: 'ERR_COMPUTE_CAPABILITY_DENIED', guest: 'ERR_COMPUTE_GUEST_FAULT' } as const;
    for (const [stop, code] of Object.entries(stops)) {
      const report = { kind: 'stopped', stop, detail: 'x', gas: 7, wallMs: 2, peakMemoryPages: 3, outputBytes: 4 } as EngineReport;
      expect(await runCompute(engineOf(report), base, sha)).toEqual({ ok: false, reasonCode: code, message: expect.any(String), usage: { gas: 7, wallMs: 2, peakMemoryPages: 3, outputBytes: 4 } });
    }
  });

  it('a success carries the sha256 of its output', async () => {
    const out = await runCompute(engineOf(exit()), base, sha);
    expect(out).toMatchObject({ ok: true, outputDigest: createHash('sha256').update('out').digest('hex'), usage: { gas: 10, outputBytes: 3 } });
  });
});

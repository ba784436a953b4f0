// The WASI engine end to end: real modules (wat2wasm), each limit ending with its own code.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { Sandbox } from '../../sandbox/index.js';
import * as M from './modules.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
let sandbox: Sandbox;
let wasm: Record<string, Uint8Array>;

beforeAll(async () => {
  sandbox = new Sandbox({ size: 2 });
  wasm = {};
  for (const [name, src] of Object.entries(M)) if (typeof src === 'string') wasm[name] = await M.wat2wasm(src);
});
afterAll(() => sandbox.close());

describe('sandbox engine: a well-behaved tool', () => {
  it('runs the upper-case transform on a JSON input and reports usage and the output digest', async () => {
    const out = await sandbox.run(M.request(wasm.UPPERCASE!, { input: { json: { msg: 'hello', n: 1 } } }));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(text(out.output)).toBe('{"MSG":"HELLO","N":1}');
    expect(out.outputDigest).toBe(M.sha256(out.output));
    expect(out.usage.gas).toBeGreaterThan(21);
    expect(out.usage.outputBytes).toBe(21);
    expect(out.usage.peakMemoryPages).toBe(1);
  });

  it('is deterministic: same module and input give the same output and the same gas, and gas grows with the input', async () => {
    const input = { bytes: Buffer.from('the quick brown fox '.repeat(50)) };
    const a = await sandbox.run(M.request(wasm.UPPERCASE!, { input }));
    const b = await sandbox.run(M.request(wasm.UPPERCASE!, { input }));
    const c = await sandbox.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('the quick brown fox '.repeat(100)) } }));
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected three successes');
    expect(b.outputDigest).toBe(a.outputDigest);
    expect(b.usage.gas).toBe(a.usage.gas);
    expect(c.usage.gas).toBeGreaterThan(a.usage.gas * 1.5);
  });

  it('compiles a module once and instantiates it from the cache afterwards', async () => {
    const s = new Sandbox({ size: 1 });
    try {
      await s.run(M.request(wasm.UPPERCASE!));
      await s.run(M.request(wasm.UPPERCASE!));
      expect(s.engine.stats()).toMatchObject({ compiles: 1, cacheHits: 1 });
      // Another engine, another Worker: the same gas (the count is in the module, not the host).
      const input = { bytes: Buffer.from('determinism across engines') };
      const [a, b] = [await s.run(M.request(wasm.UPPERCASE!, { input })), await sandbox.run(M.request(wasm.UPPERCASE!, { input }))];
      expect(a.ok && b.ok && a.usage.gas === b.usage.gas && a.outputDigest === b.outputDigest).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('sandbox engine: each limit ends the call with its own code', () => {
  it('gas: an infinite loop stops at exactly its gas limit, long before its wall time', async () => {
    const out = await sandbox.run(M.request(wasm.INFINITE_LOOP!, { limits: { ...M.LIMITS, gas: 50_000, wallMs: 60_000 } }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED', usage: { gas: 50_000 } });
  });

  it('time: a runaway guest is killed at its wall time while a concurrent call is served', async () => {
    const order: string[] = [];
    const runaway = sandbox.run(M.request(wasm.INFINITE_LOOP!, { limits: { ...M.LIMITS, gas: Number.MAX_SAFE_INTEGER, wallMs: 1500 } })).then((o) => {
      order.push('runaway');
      return o;
    });
    const other = sandbox.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('still served') } })).then((o) => {
      order.push('other');
      return o;
    });
    const [r, o] = await Promise.all([runaway, other]);
    expect(r).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_TIME_EXHAUSTED' });
    expect(o.ok ? 'ok' : o.reasonCode + ': ' + o.message).toBe('ok');
    expect(o.ok && text(o.output)).toBe('STILL SERVED');
    expect(order).toEqual(['other', 'runaway']);
    // The pool replaced the killed Worker: the next call works.
    const after = await sandbox.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('after') } }));
    expect(after.ok && text(after.output)).toBe('AFTER');
  });

  it('memory: a memory bomb stops at its page ceiling', async () => {
    const out = await sandbox.run(M.request(wasm.MEMORY_BOMB!, { limits: { ...M.LIMITS, memoryPages: 8 } }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_MEMORY_EXHAUSTED', usage: { peakMemoryPages: 8 } });
  });

  it('memory: a module whose initial memory exceeds the ceiling never runs', async () => {
    const out = await sandbox.run(M.request(wasm.BIG_START!, { limits: { ...M.LIMITS, memoryPages: 16 } }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_MEMORY_EXHAUSTED' });
  });

  it('output: a huge output stops at its byte limit', async () => {
    const out = await sandbox.run(M.request(wasm.HUGE_OUTPUT!, { limits: { ...M.LIMITS, outputBytes: 10_000 } }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_OUTPUT_EXHAUSTED', usage: { outputBytes: 8192 } });
  });
});

describe('sandbox engine: deny by default', () => {
  it('the clock traps without a grant and works with one', async () => {
    const denied = await sandbox.run(M.request(wasm.READ_CLOCK!));
    expect(denied).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    expect(!denied.ok && denied.message).toMatch(/clock/);
    const granted = await sandbox.run(M.request(wasm.READ_CLOCK!, { grants: { ...M.NO_GRANTS, clock: true } }));
    expect(granted.ok).toBe(true);
    if (granted.ok) expect(Buffer.from(granted.output).readBigUInt64LE(0)).toBeGreaterThan(1_600_000_000_000_000_000n);
  });

  it('randomness traps without a grant and works with one', async () => {
    const denied = await sandbox.run(M.request(wasm.READ_RANDOM!));
    expect(denied).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    const granted = await sandbox.run(M.request(wasm.READ_RANDOM!, { grants: { ...M.NO_GRANTS, random: true } }));
    expect(granted.ok && granted.output.length).toBe(16);
  });

  it('sockets are never offered: a socket call traps, and a socket grant is refused', async () => {
    expect(await sandbox.run(M.request(wasm.SEND_SOCKET!))).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    const grants = { ...M.NO_GRANTS, sockets: true } as unknown as typeof M.NO_GRANTS;
    expect(await sandbox.run(M.request(wasm.SEND_SOCKET!, { grants }))).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
  });

  it('opening a file with no directory granted traps', async () => {
    const out = await sandbox.run(M.request(wasm.CAT_FILE!));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    expect(!out.ok && out.message).toMatch(/path_open/);
  });

  it('a read-only directory can be read but not written; a read-write one can be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-sandbox-'));
    writeFileSync(join(dir, 'in.txt'), 'granted content');
    const ro = { ...M.NO_GRANTS, preopens: [{ guestPath: '/data', hostPath: dir, mode: 'ro' as const }] };
    const rw = { ...M.NO_GRANTS, preopens: [{ guestPath: '/data', hostPath: dir, mode: 'rw' as const }] };
    const read = await sandbox.run(M.request(wasm.CAT_FILE!, { grants: ro }));
    expect(read.ok && text(read.output)).toBe('granted content');
    const denied = await sandbox.run(M.request(wasm.WRITE_FILE!, { grants: ro }));
    expect(denied).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    expect(existsSync(join(dir, 'out.txt'))).toBe(false);
    const written = await sandbox.run(M.request(wasm.WRITE_FILE!, { grants: rw }));
    expect(written.ok).toBe(true);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('written');
  });

  it('a path escaping the granted directory traps, and a missing file is an ordinary error for the guest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'helm-sandbox-'));
    mkdirSync(join(root, 'granted'));
    writeFileSync(join(root, 'secret.txt'), 'not granted');
    const grants = { ...M.NO_GRANTS, preopens: [{ guestPath: '/data', hostPath: join(root, 'granted'), mode: 'rw' as const }] };
    const escape = await sandbox.run(M.request(await M.wat2wasm(M.catFile('../secret.txt')), { grants }));
    expect(escape).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    const missing = await sandbox.run(M.request(await M.wat2wasm(M.catFile('nope.txt')), { grants }));
    expect(missing).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT' });
    expect(!missing.ok && missing.message).toMatch(/exit status 144/); // 100 + ENOENT (44)
  });

  it('a guest cannot hold more than 64 files open, and what it left open is closed after the call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-sandbox-'));
    writeFileSync(join(dir, 'in.txt'), 'x');
    const grants = { ...M.NO_GRANTS, preopens: [{ guestPath: '/data', hostPath: dir, mode: 'ro' as const }] };
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const out = await sandbox.run(M.request(wasm.OPEN_MANY!, { grants }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_CAPABILITY_DENIED' });
    expect(!out.ok && out.message).toMatch(/64 open files/);
    expect(openFds()).toBeLessThanOrEqual(before + 2);
  });

  it('only the granted environment variables are visible (none by default)', async () => {
    const env = await sandbox.run(M.request(await M.wat2wasm(M.PRINT_ENV), { grants: { ...M.NO_GRANTS, env: { MODE: 'strict' } } }));
    expect(env.ok && text(env.output)).toBe('MODE=strict\0');
    const none = await sandbox.run(M.request(await M.wat2wasm(M.PRINT_ENV)));
    expect(none.ok && text(none.output)).toBe('');
  });
});

describe('sandbox engine: fail closed', () => {
  it('a module whose bytes differ from the pinned hash is refused before it runs', async () => {
    const req = M.request(wasm.UPPERCASE!);
    const out = await sandbox.run({ ...req, module: { bytes: wasm.TRAP!, sha256: req.module.sha256 } });
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_MODULE_MISMATCH' });
  });

  it('a module that imports a host function, or is not WebAssembly, fails to instantiate with a code', async () => {
    expect(await sandbox.run(M.request(wasm.IMPORTS_ENV!))).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_INSTANTIATION_FAILED' });
    expect(await sandbox.run(M.request(Buffer.from('not wasm at all')))).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_INSTANTIATION_FAILED' });
    const truncated = wasm.UPPERCASE!.subarray(0, wasm.UPPERCASE!.length - 5);
    expect(await sandbox.run(M.request(truncated))).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_INSTANTIATION_FAILED' });
  });

  it('a granted directory that does not exist on the host is an engine failure, and the Worker survives', async () => {
    const grants = { ...M.NO_GRANTS, preopens: [{ guestPath: '/data', hostPath: '/nonexistent/helm-sandbox', mode: 'ro' as const }] };
    const out = await sandbox.run(M.request(wasm.CAT_FILE!, { grants }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE' });
    const next = await sandbox.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('fine') } }));
    expect(next.ok && text(next.output)).toBe('FINE');
  });

  it('a guest trap and a non-zero exit are guest faults', async () => {
    expect(await sandbox.run(M.request(wasm.TRAP!))).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT' });
    const exit = await sandbox.run(M.request(wasm.EXIT_3!));
    expect(exit).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT' });
    expect(!exit.ok && exit.message).toMatch(/exit status 3/);
  });

  it('a host call given memory outside the guest gets EFAULT, not a host exception', async () => {
    const out = await sandbox.run(M.request(wasm.WRITE_OUT_OF_BOUNDS!));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT' });
    expect(!out.ok && out.message).toMatch(/exit status 21/);
  });

  it('unbounded recursion ends as a guest fault and the Worker survives', async () => {
    const out = await sandbox.run(M.request(wasm.DEEP_RECURSION!, { limits: { ...M.LIMITS, gas: 1e12 } }));
    expect(out).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT' });
    const next = await sandbox.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('alive') } }));
    expect(next.ok && text(next.output)).toBe('ALIVE');
  });

  it('closing the sandbox refuses a waiting call with a code instead of leaving it pending', async () => {
    const s = new Sandbox({ size: 1 });
    const slow = s.run(M.request(wasm.INFINITE_LOOP!, { limits: { ...M.LIMITS, gas: Number.MAX_SAFE_INTEGER, wallMs: 30_000 } }));
    const waiting = s.run(M.request(wasm.UPPERCASE!));
    await new Promise((r) => setTimeout(r, 100));
    await s.close();
    expect(await waiting).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE' });
    expect(await slow).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE' });
  });

  it('a Worker that dies while idle is dropped from the pool, so the next call does not wait on it', async () => {
    const workers: Worker[] = [];
    const s = new Sandbox({ size: 1, onWorker: (w) => workers.push(w) });
    try {
      expect((await s.run(M.request(wasm.UPPERCASE!))).ok).toBe(true);
      await workers[0]!.terminate();
      const next = await s.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('ok') }, limits: { ...M.LIMITS, wallMs: 20_000 } }));
      expect(next.ok && text(next.output)).toBe('OK');
      expect(workers.length).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('a Worker that dies mid-call gives ERR_COMPUTE_ENGINE_FAILURE, and the next call gets a fresh Worker', async () => {
    const workers: Worker[] = [];
    const s = new Sandbox({ size: 1, onWorker: (w) => workers.push(w) });
    try {
      const pending = s.run(M.request(wasm.INFINITE_LOOP!, { limits: { ...M.LIMITS, gas: Number.MAX_SAFE_INTEGER, wallMs: 30_000 } }));
      while (workers.length === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      await workers[0]!.terminate();
      expect(await pending).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE' });
      const next = await s.run(M.request(wasm.UPPERCASE!, { input: { bytes: Buffer.from('ok') } }));
      expect(next.ok && text(next.output)).toBe('OK');
      expect(workers.length).toBe(2);
    } finally {
      await s.close();
    }
  });
});

// The WASI sandbox (docs/sandbox.md): a sandboxed transform against the same transform in plain
// JS; instantiation cold (new engine: Worker start, meter, compile) against cached; and calls/s
// at concurrency 4. Timings are reported, never asserted. Run directly: npx tsx bench/sandbox.ts
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import wabt from 'wabt';
import type { ComputeRequest } from '../kernel/sandbox/index.js';
import { Sandbox } from '../sandbox/index.js';
import { meterModule } from '../sandbox/meter.js';
import { Wasm } from '../sandbox/wasm-api.js';
import { UPPERCASE } from '../sandbox/tools/wat.js';
import { round, summarize } from './stats.js';

export interface SandboxBenchOptions {
  /** Timed calls per side of the transform comparison. */
  iterations?: number;
  /** Fresh engines for the cold-start measurement. */
  coldStarts?: number;
  /** Calls in the c=4 throughput run. */
  concurrentCalls?: number;
  /** Bytes of input per call. */
  inputBytes?: number;
}

function upperJs(input: Uint8Array): Uint8Array {
  const out = Uint8Array.from(input);
  for (let i = 0; i < out.length; i++) if (out[i]! >= 97 && out[i]! <= 122) out[i]! -= 32;
  return out;
}

export async function benchSandbox(opts: SandboxBenchOptions = {}) {
  const iterations = opts.iterations ?? 500;
  const coldStarts = opts.coldStarts ?? 5;
  const concurrentCalls = opts.concurrentCalls ?? 1000;
  const inputBytes = opts.inputBytes ?? 16 * 1024;
  const w = await wabt();
  const parsed = w.parseWat('uppercase.wat', UPPERCASE);
  const bytes = Uint8Array.from(parsed.toBinary({}).buffer);
  parsed.destroy();
  const input = Buffer.alloc(inputBytes, 'the quick brown fox jumps over the lazy dog. ');
  const request: ComputeRequest = {
    module: { bytes, sha256: createHash('sha256').update(bytes).digest('hex') },
    input: { bytes: input },
    limits: { gas: 100_000_000, wallMs: 10_000, memoryPages: 16, outputBytes: inputBytes },
    grants: { preopens: [], env: {}, clock: false, random: false },
  };

  // Cold: a fresh engine per call (Worker start + meter + compile + instantiate + run).
  const cold: number[] = [];
  const compileOnly: number[] = [];
  for (let i = 0; i < coldStarts; i++) {
    let t = performance.now();
    await Wasm.compile(meterModule(bytes).bytes);
    compileOnly.push((performance.now() - t) * 1e6);
    const s = new Sandbox({ size: 1 });
    t = performance.now();
    const out = await s.run(request);
    cold.push((performance.now() - t) * 1e6);
    await s.close();
    if (!out.ok) throw new Error(`bench: ${out.reasonCode} ${out.message}`);
  }

  // Cached: the same engine; sandboxed and plain JS interleaved so noise hits both alike.
  const sandbox = new Sandbox({ size: 4 });
  let gas = 0;
  try {
    await sandbox.run(request);
    const sandboxed: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < iterations; i++) {
      let t = performance.now();
      const out = await sandbox.run(request);
      sandboxed.push((performance.now() - t) * 1e6);
      if (!out.ok) throw new Error(`bench: ${out.reasonCode}`);
      gas = out.usage.gas;
      t = performance.now();
      upperJs(input);
      plain.push((performance.now() - t) * 1e6);
    }

    // Throughput at c=4.
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next++ < concurrentCalls) {
        const out = await sandbox.run(request);
        if (!out.ok) throw new Error(`bench: ${out.reasonCode}`);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const s = summarize(sandboxed);
    const p = summarize(plain);
    return {
      inputBytes,
      gasPerCall: gas,
      transform: { sandboxed: { p50Us: round(s.p50Us), p99Us: round(s.p99Us) }, plainJs: { p50Us: round(p.p50Us), p99Us: round(p.p99Us) }, overheadP50Us: round(s.p50Us - p.p50Us) },
      instantiation: { coldFirstCallP50Ms: round(summarize(cold).p50Us / 1000), meterAndCompileP50Ms: round(summarize(compileOnly).p50Us / 1000), cachedCallP50Ms: round(s.p50Us / 1000) },
      concurrency4: { calls: concurrentCalls, callsPerSecond: round(concurrentCalls / seconds, 0) },
      engine: sandbox.engine.stats(),
    };
  } finally {
    await sandbox.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchSandbox(), null, 2));
}

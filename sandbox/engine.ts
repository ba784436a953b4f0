// The WASI engine behind kernel/sandbox's ComputeEngine: meter + compile once per module (cached
// by its pinned sha256), then instantiate per call in a pooled Worker. See docs/sandbox.md.
import { performance } from 'node:perf_hooks';
import type { ComputeEngine, ComputeJob, EngineReport } from '../kernel/sandbox/types.js';
import { meterModule } from './meter.js';
import { Wasm, type WasmModule } from './wasm-api.js';
import { WorkerPool, type PoolOptions } from './pool.js';

/** The WASI preview1 functions a module may import (any other import refuses the module). */
export const WASI_FUNCTIONS = new Set([
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get', 'fd_advise',
  'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights', 'fd_filestat_get',
  'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite',
  'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory',
  'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open', 'path_readlink', 'path_remove_directory',
  'path_rename', 'path_symlink', 'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
]);

interface Compiled {
  module: WasmModule;
  initialPages: number;
}

export interface EngineOptions extends PoolOptions {
  /** Compiled modules kept (least recently used dropped first); default 32. */
  cacheEntries?: number;
}

export interface EngineStats {
  compiles: number;
  cacheHits: number;
  workers: number;
}

async function compile(bytes: Uint8Array): Promise<Compiled | string> {
  let metered;
  try {
    metered = meterModule(bytes);
  } catch (e) {
    return (e as Error).message;
  }
  let module: WasmModule;
  try {
    module = await Wasm.compile(metered.bytes);
  } catch (e) {
    return `module: does not validate (${(e as Error).message})`;
  }
  for (const i of Wasm.Module.imports(module)) {
    if (i.module !== 'wasi_snapshot_preview1' || i.kind !== 'function' || !WASI_FUNCTIONS.has(i.name)) {
      return `module: imports ${i.module}.${i.name} (${i.kind}); only WASI preview1 functions are offered`;
    }
  }
  const exports = new Map(Wasm.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get('_start') !== 'function' || exports.get('memory') !== 'memory') return 'module: a WASI command exports memory and _start';
  return { module, initialPages: metered.initialPages };
}

export class WasiEngine implements ComputeEngine {
  private readonly pool: WorkerPool;
  private readonly cache = new Map<string, Promise<Compiled | string>>();
  private readonly cacheEntries: number;
  private compiles = 0;
  private cacheHits = 0;

  constructor(options: EngineOptions = {}) {
    this.pool = new WorkerPool(options);
    this.cacheEntries = Math.max(1, options.cacheEntries ?? 32);
  }

  /** Meters and compiles once per sha256 (the kernel checked the bytes against it). */
  private compiled(sha256: string, bytes: Uint8Array): Promise<Compiled | string> {
    const hit = this.cache.get(sha256);
    if (hit) {
      this.cacheHits++;
      this.cache.delete(sha256);
      this.cache.set(sha256, hit);
      return hit;
    }
    this.compiles++;
    const p = compile(bytes);
    this.cache.set(sha256, p);
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    return p;
  }

  async execute(job: ComputeJob): Promise<EngineReport> {
    const compiled = await this.compiled(job.moduleSha256, job.moduleBytes);
    if (typeof compiled === 'string') return { kind: 'refused', refusal: 'instantiation', detail: compiled };
    if (compiled.initialPages > job.limits.memoryPages) {
      return { kind: 'stopped', stop: 'memory', detail: `the module starts with ${compiled.initialPages} pages`, gas: 0, wallMs: 0, peakMemoryPages: 0, outputBytes: 0 };
    }
    const t0 = performance.now();
    const r = await this.pool.run(
      { module: compiled.module, stdin: job.stdin, args: job.args, limits: job.limits, grants: job.grants },
      job.limits.wallMs,
    );
    const wallMs = Math.round((performance.now() - t0) * 1000) / 1000;
    switch (r.kind) {
      case 'exit': return { kind: 'exit', exitCode: r.exitCode, stdout: r.stdout, gas: r.gas, wallMs, peakMemoryPages: r.peakMemoryPages };
      case 'stopped': return { kind: 'stopped', stop: r.stop, detail: r.detail, gas: r.gas, wallMs, peakMemoryPages: r.peakMemoryPages, outputBytes: r.outputBytes };
      case 'refused': return r;
      // A killed guest's counters died with its Worker: gas, memory and output are not observable.
      case 'timeout': return { kind: 'stopped', stop: 'time', detail: 'killed', gas: 0, wallMs, peakMemoryPages: 0, outputBytes: 0 };
      case 'died': return { kind: 'refused', refusal: 'engine', detail: r.detail };
    }
  }

  stats(): EngineStats {
    return { compiles: this.compiles, cacheHits: this.cacheHits, workers: this.pool.workers };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

// The code that runs inside each sandbox Worker. It is shipped as source text (see
// workerSource()), so it must be self-contained: no imports, nothing from the enclosing module.
//
// It implements the WASI preview1 calls itself and denies by default: stdin is the input, stdout
// a bounded buffer, stderr a small one; args and env are only what the job grants; the clock and
// randomness trap unless granted; sockets and poll_oneoff always trap. Only when directories are
// preopened does it delegate the filesystem calls to node:wasi, behind a read-only guard.

import type { WasmApi, WasmInstance, WasmMemory, WasmModule } from './wasm-api.js';

/** What the parent posts for one call. */
export interface WorkerJob {
  readonly module: WasmModule;
  readonly stdin: Uint8Array;
  readonly args: readonly string[];
  readonly limits: { gas: number; memoryPages: number; outputBytes: number };
  readonly grants: { preopens: ReadonlyArray<{ guestPath: string; hostPath: string; mode: 'ro' | 'rw' }>; env: Readonly<Record<string, string>>; clock: boolean; random: boolean };
}

export type WorkerResult =
  | { kind: 'exit'; exitCode: number; stdout: Uint8Array; gas: number; peakMemoryPages: number }
  | { kind: 'stopped'; stop: 'gas' | 'memory' | 'output' | 'capability' | 'guest'; detail: string; gas: number; peakMemoryPages: number; outputBytes: number }
  | { kind: 'refused'; refusal: 'instantiation' | 'engine'; detail: string };

// Shipped as text: coverage counters inserted here would reference variables the Worker lacks.
/* istanbul ignore next */
export function workerMain(): void {
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  const nodeCrypto = require('node:crypto') as typeof import('node:crypto');
  const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const ERRNO = { SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, SPIPE: 70, NOTCAPABLE: 76 };
  /** WASI's IOV_MAX: a larger vector is refused before the host walks it. */
  const IOV_MAX = 1024;
  // fd_datasync, fdstat_set_flags, fd_sync, fd_write, fd_allocate, create_directory, create_file,
  // link_target, rename_source/target, filestat_set_size/times, fd_filestat_set_size/times,
  // symlink, remove_directory, unlink_file.
  const WRITE_RIGHTS = [0, 3, 4, 6, 8, 9, 10, 12, 16, 17, 19, 20, 22, 23, 24, 25, 26].reduce((m, bit) => m | (1n << BigInt(bit)), 0n);
  /** Calls that change the filesystem, and which argument positions are directory/file fds. */
  const MUTATING: Record<string, number[]> = {
    path_create_directory: [0], path_filestat_set_times: [0], path_link: [0, 3], path_remove_directory: [0],
    path_rename: [0, 3], path_symlink: [2], path_unlink_file: [0], fd_write: [0], fd_pwrite: [0], fd_allocate: [0],
    fd_filestat_set_size: [0], fd_filestat_set_times: [0], fd_datasync: [0], fd_sync: [0], fd_fdstat_set_flags: [0],
  };
  const FS_CALLS = [
    'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
    'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread', 'fd_prestat_get', 'fd_prestat_dir_name',
    'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory',
    'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open', 'path_readlink', 'path_remove_directory',
    'path_rename', 'path_symlink', 'path_unlink_file',
  ];

  /** Set by run() when node:wasi serves the filesystem: hands it the guest's memory. */
  let nodeFsInit: ((m: WasmMemory) => void) | undefined;
  /** Run after each call whatever happened: close the host fds the call opened. */
  const cleanups: Array<() => void> = [];
  /** Files a guest may hold open at once: fds are a host-wide resource. */
  const MAX_OPEN_FILES = 64;

  class Exit {
    constructor(readonly code: number) {}
  }
  class Stop {
    constructor(readonly stop: 'output' | 'capability' | 'guest', readonly detail: string) {}
  }

  function run(job: WorkerJob): WorkerResult {
    const enc = new TextEncoder();
    let memory: WasmMemory | undefined;
    const view = () => new DataView(memory!.buffer);
    const u8 = () => new Uint8Array(memory!.buffer);
    const deny = (what: string): never => {
      throw new Stop('capability', what);
    };
    const out: Uint8Array[] = [];
    let outLen = 0;
    let errText = '';
    let stdinPos = 0;
    const argv = job.args.map((a) => enc.encode(`${a}\0`));
    const envv = Object.entries(job.grants.env).map(([k, v]) => enc.encode(`${k}=${v}\0`));

    /** True when [ptr, ptr + len) lies inside the guest's memory. */
    const inside = (ptr: number, len: number) => ptr >= 0 && len >= 0 && ptr + len <= memory!.buffer.byteLength;
    const iovecs = (iovs: number, n: number): Array<[number, number]> | null => {
      if (n > IOV_MAX || !inside(iovs, n * 8)) return null;
      const v = view();
      const list: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) list.push([v.getUint32(iovs + i * 8, true), v.getUint32(iovs + i * 8 + 4, true)]);
      return list.every(([ptr, len]) => inside(ptr, len)) ? list : null;
    };
    const strings = (items: Uint8Array[], ptrs: number, buf: number) => {
      const v = view();
      const m = u8();
      for (const [i, s] of items.entries()) {
        v.setUint32(ptrs + i * 4, buf, true);
        m.set(s, buf);
        buf += s.length;
      }
      return ERRNO.SUCCESS;
    };
    const sizes = (items: Uint8Array[], count: number, size: number) => {
      view().setUint32(count, items.length, true);
      view().setUint32(size, items.reduce((n, s) => n + s.length, 0), true);
      return ERRNO.SUCCESS;
    };

    // The filesystem, only if a directory is granted: node:wasi behind the read-only guard.
    const preopens = job.grants.preopens;
    let nodeFs: Record<string, (...a: any[]) => number> | null = null;
    const readOnly = new Set<number>();
    const guestFds = new Set<number>();
    const roName = new Map<number, string>();
    if (preopens.length > 0) {
      const { WASI } = require('node:wasi') as typeof import('node:wasi');
      const devNull = fs.openSync('/dev/null', 'r+');
      cleanups.push(() => fs.closeSync(devNull));
      const wasi = new WASI({
        version: 'preview1', args: [], env: {}, returnOnExit: true, stdin: devNull, stdout: devNull, stderr: devNull,
        preopens: Object.fromEntries(preopens.map((p) => [p.guestPath, p.hostPath])),
      });
      const imports = wasi.wasiImport as Record<string, (...a: any[]) => number>;
      nodeFs = imports;
      // Files the guest left open are closed by us, not left to the garbage collector.
      cleanups.push(() => {
        for (const fd of guestFds) imports.fd_close!(fd);
      });
      preopens.forEach((p, i) => {
        if (p.mode === 'ro') {
          readOnly.add(3 + i);
          roName.set(3 + i, p.guestPath);
        }
      });
      nodeFsInit = (m) => wasi.initialize({ exports: { memory: m } } as never);
    }

    const fsCall = (name: string) => (...a: any[]): number => {
      if (!nodeFs) {
        if (name.startsWith('path_')) deny(`the filesystem (${name}): no directory is granted`);
        return ERRNO.BADF; // no such fd: how wasi-libc learns there are no preopens
      }
      if (name !== 'path_symlink' && typeof a[0] === 'number' && a[0] <= 2) return ERRNO.BADF;
      for (const i of MUTATING[name] ?? []) {
        if (readOnly.has(a[i])) deny(`a write (${name}) under the read-only directory ${roName.get(a[i]) ?? ''}`);
      }
      let fromReadOnly = false;
      if (name === 'path_open' && readOnly.has(a[0])) {
        fromReadOnly = true;
        const oflags = a[4] as number;
        const fdflags = a[7] as number;
        if (oflags & (1 | 4 | 8)) deny(`creating or truncating a file under the read-only directory ${roName.get(a[0])}`);
        if (fdflags & (1 | 2 | 16)) deny(`opening for append or sync under the read-only directory ${roName.get(a[0])}`);
        a[5] = BigInt(a[5]) & ~WRITE_RIGHTS;
        a[6] = BigInt(a[6]) & ~WRITE_RIGHTS;
      }
      if (name === 'path_open' && guestFds.size >= MAX_OPEN_FILES) deny(`more than ${MAX_OPEN_FILES} open files`);
      const errno = nodeFs[name]!(...a);
      if (errno === ERRNO.SUCCESS && name === 'path_open') guestFds.add(view().getUint32(a[8], true));
      if (errno === ERRNO.SUCCESS && name === 'fd_close') guestFds.delete(a[0]);
      if (errno === ERRNO.NOTCAPABLE) deny(`${name} outside what the granted directories allow`);
      if (errno === ERRNO.SUCCESS && name === 'path_open' && fromReadOnly) {
        const fd = view().getUint32(a[8], true);
        readOnly.add(fd);
        roName.set(fd, roName.get(a[0]) ?? '');
      }
      if (errno === ERRNO.SUCCESS && name === 'fd_close') {
        readOnly.delete(a[0]);
        roName.delete(a[0]);
      }
      return errno;
    };

    const table: Record<string, (...a: any[]) => number> = {};
    for (const name of FS_CALLS) table[name] = fsCall(name);
    Object.assign(table, {
      args_get: (ptrs: number, buf: number) => strings(argv, ptrs, buf),
      args_sizes_get: (count: number, size: number) => sizes(argv, count, size),
      environ_get: (ptrs: number, buf: number) => strings(envv, ptrs, buf),
      environ_sizes_get: (count: number, size: number) => sizes(envv, count, size),
      clock_time_get: (id: number, _precision: bigint, at: number) => {
        if (!job.grants.clock) deny('the clock (clock_time_get)');
        const now = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
        view().setBigUint64(at, now, true);
        return ERRNO.SUCCESS;
      },
      clock_res_get: (_id: number, at: number) => {
        if (!job.grants.clock) deny('the clock (clock_res_get)');
        view().setBigUint64(at, 1000n, true);
        return ERRNO.SUCCESS;
      },
      random_get: (buf: number, len: number) => {
        if (!job.grants.random) deny('randomness (random_get)');
        if (!inside(buf, len)) return ERRNO.FAULT;
        for (let o = 0; o < len; o += 65536) nodeCrypto.getRandomValues(u8().subarray(buf + o, buf + Math.min(len, o + 65536)));
        return ERRNO.SUCCESS;
      },
      fd_write: (fd: number, iovs: number, n: number, written: number) => {
        if (fd !== 1 && fd !== 2) return fsCall('fd_write')(fd, iovs, n, written);
        const list = iovecs(iovs, n);
        if (!list || !inside(written, 4)) return ERRNO.FAULT;
        let total = 0;
        for (const [ptr, len] of list) {
          const chunk = u8().slice(ptr, ptr + len);
          total += len;
          if (fd === 2) {
            if (errText.length < 2048) errText += new TextDecoder().decode(chunk).slice(0, 2048 - errText.length);
            continue;
          }
          if (outLen + len > job.limits.outputBytes) throw new Stop('output', `${outLen + len} bytes`);
          out.push(chunk);
          outLen += len;
        }
        view().setUint32(written, total, true);
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, n: number, read: number) => {
        if (fd !== 0) return fsCall('fd_read')(fd, iovs, n, read);
        const list = iovecs(iovs, n);
        if (!list || !inside(read, 4)) return ERRNO.FAULT;
        let total = 0;
        for (const [ptr, len] of list) {
          const chunk = job.stdin.subarray(stdinPos, stdinPos + len);
          u8().set(chunk, ptr);
          stdinPos += chunk.length;
          total += chunk.length;
          if (chunk.length < len) break;
        }
        view().setUint32(read, total, true);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_get: (fd: number, at: number) => {
        if (fd > 2) return fsCall('fd_fdstat_get')(fd, at);
        const v = view();
        v.setUint8(at, 2); // character device
        v.setUint16(at + 2, 0, true);
        v.setBigUint64(at + 8, fd === 0 ? 2n : 64n, true); // fd_read or fd_write
        v.setBigUint64(at + 16, 0n, true);
        return ERRNO.SUCCESS;
      },
      fd_filestat_get: (fd: number, at: number) => {
        if (fd > 2) return fsCall('fd_filestat_get')(fd, at);
        u8().fill(0, at, at + 64);
        view().setUint8(at + 16, 2);
        return ERRNO.SUCCESS;
      },
      fd_close: (fd: number) => (fd <= 2 ? ERRNO.SUCCESS : fsCall('fd_close')(fd)),
      fd_seek: (fd: number, ...rest: unknown[]) => (fd <= 2 ? ERRNO.SPIPE : fsCall('fd_seek')(fd, ...rest)),
      fd_renumber: () => deny('fd_renumber'),
      proc_exit: (code: number) => {
        throw new Exit(code);
      },
      proc_raise: (sig: number) => {
        throw new Stop('guest', `proc_raise(${sig})`);
      },
      sched_yield: () => ERRNO.SUCCESS,
      poll_oneoff: () => deny('poll_oneoff (waiting on the clock or on files)'),
      sock_accept: () => deny('sockets (sock_accept)'),
      sock_recv: () => deny('sockets (sock_recv)'),
      sock_send: () => deny('sockets (sock_send)'),
      sock_shutdown: () => deny('sockets (sock_shutdown)'),
    });

    let instance: WasmInstance;
    try {
      instance = new Wasm.Instance(job.module, { wasi_snapshot_preview1: table });
    } catch (e) {
      return { kind: 'refused', refusal: 'instantiation', detail: (e as Error).message };
    }
    const ex = instance.exports as Record<string, any>;
    if (!(ex.memory instanceof Wasm.Memory) || typeof ex._start !== 'function') {
      return { kind: 'refused', refusal: 'instantiation', detail: 'a WASI command exports memory and _start' };
    }
    memory = ex.memory as WasmMemory;
    nodeFsInit?.(memory);
    ex.__helm_gas.value = BigInt(job.limits.gas);
    ex.__helm_mem_limit.value = job.limits.memoryPages;
    const pages = () => memory!.buffer.byteLength / 65536;
    const gasUsed = () => job.limits.gas - Number(ex.__helm_gas.value as bigint);
    const stopped = (stop: 'gas' | 'memory' | 'output' | 'capability' | 'guest', detail: string): WorkerResult => ({
      kind: 'stopped', stop, detail, gas: stop === 'gas' ? job.limits.gas : gasUsed(), peakMemoryPages: pages(), outputBytes: outLen,
    });
    let exitCode = 0;
    try {
      ex._start();
    } catch (e) {
      if (e instanceof Exit) exitCode = e.code;
      else if (e instanceof Stop) return stopped(e.stop, e.detail);
      else {
        const flag = ex.__helm_flag.value as number;
        if (flag === 1) return stopped('gas', '');
        if (flag === 2) return stopped('memory', 'memory.grow refused');
        if (e instanceof Wasm.RuntimeError) return stopped('guest', `${e.message}${errText ? `; stderr: ${errText}` : ''}`);
        if (e instanceof RangeError) {
          const why = /call stack/i.test(e.message) ? 'call stack exhausted' : 'a host call pointed outside its memory';
          return stopped('guest', `${why} (${e.message})`);
        }
        return { kind: 'refused', refusal: 'engine', detail: `host error: ${(e as Error)?.message ?? String(e)}` };
      }
    }
    const stdout = new Uint8Array(outLen);
    let o = 0;
    for (const c of out) {
      stdout.set(c, o);
      o += c.length;
    }
    return { kind: 'exit', exitCode, stdout, gas: gasUsed(), peakMemoryPages: pages() };
  }

  parentPort!.on('message', (job: WorkerJob) => {
    nodeFsInit = undefined;
    let result: WorkerResult;
    try {
      result = run(job);
    } catch (e) {
      result = { kind: 'refused', refusal: 'engine', detail: `worker: ${(e as Error)?.message ?? String(e)}` };
    } finally {
      for (const cleanup of cleanups.splice(0)) {
        try {
          cleanup();
        } catch {
          // A failed close must not turn a settled result into a crash.
        }
      }
    }
    parentPort!.postMessage(result, result.kind === 'exit' ? [result.stdout.buffer as ArrayBuffer] : []);
  });
}

/**
 * The Worker's source text (a CommonJS script for `new Worker(src, {eval: true})`). esbuild (under
 * tsx, and the image's bundle, scripts/bundle.ts) wraps named functions in a `__name(fn, "name")`
 * helper and turns `require` into `__require`, which the text does not carry.
 */
export function workerSource(): string {
  return `var __name = function (f) { return f; };\nvar __require = require;\n(${workerMain.toString()})();`;
}

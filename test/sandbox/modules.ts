// Real WebAssembly test modules, written in WAT and assembled with wabt's wat2wasm.
import wabt from 'wabt';
import { createHash } from 'node:crypto';
import { IO, WASI, WRITE } from '../../sandbox/tools/wat.js';
import type { ComputeGrants, ComputeLimits, ComputeRequest } from '../../kernel/sandbox/index.js';

const wabtReady = wabt();

export async function wat2wasm(source: string): Promise<Uint8Array> {
  const w = await wabtReady;
  const m = w.parseWat('test.wat', source, { mutable_globals: true, sat_float_to_int: true, sign_extension: true, bulk_memory: true });
  try {
    return Uint8Array.from(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export const NO_GRANTS: ComputeGrants = { preopens: [], env: {}, clock: false, random: false };
export const LIMITS: ComputeLimits = { gas: 10_000_000, wallMs: 10_000, memoryPages: 16, outputBytes: 65_536 };

export function request(bytes: Uint8Array, over: Partial<ComputeRequest> & { input?: ComputeRequest['input'] } = {}): ComputeRequest {
  return { module: { bytes, sha256: sha256(bytes) }, input: { bytes: new Uint8Array() }, limits: LIMITS, grants: NO_GRANTS, ...over };
}

export { UPPERCASE } from '../../sandbox/tools/wat.js';

export const INFINITE_LOOP = `(module ${IO} (memory (export "memory") 1)
  (func (export "_start") (loop $forever (br $forever))))`;

/** Grows memory 1 page at a time, forever: only a ceiling stops it. */
export const MEMORY_BOMB = `(module ${IO} (memory (export "memory") 1)
  (func (export "_start") (loop $more (drop (memory.grow (i32.const 1))) (br $more))))`;

/** Writes 4 KiB to stdout, forever. */
export const HUGE_OUTPUT = `(module ${IO} (memory (export "memory") 1) ${WRITE}
  (func (export "_start") (loop $more (call $write (i32.const 1024) (i32.const 4096)) (br $more))))`;

export const READ_CLOCK = `(module ${IO} ${WASI('clock_time_get', 'i32 i64 i32')} (memory (export "memory") 1) ${WRITE}
  (func (export "_start")
    (if (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 64)) (then (call $proc_exit (i32.const 9))))
    (call $write (i32.const 64) (i32.const 8))))`;

export const READ_RANDOM = `(module ${IO} ${WASI('random_get', 'i32 i32')} (memory (export "memory") 1) ${WRITE}
  (func (export "_start")
    (if (call $random_get (i32.const 64) (i32.const 16)) (then (call $proc_exit (i32.const 9))))
    (call $write (i32.const 64) (i32.const 16))))`;

export const SEND_SOCKET = `(module ${IO} ${WASI('sock_send', 'i32 i32 i32 i32 i32')} (memory (export "memory") 1)
  (func (export "_start") (drop (call $sock_send (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))`;

const PATH_OPEN = WASI('path_open', 'i32 i32 i32 i32 i32 i64 i64 i32 i32');

/** Opens `path` under the first preopened directory (fd 3) and copies it to stdout. */
export const catFile = (path: string) => `(module ${IO} ${PATH_OPEN} (memory (export "memory") 1) ${WRITE}
  (data (i32.const 512) "${path}")
  (func (export "_start") (local $err i32) (local $fd i32) (local $n i32)
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 512) (i32.const ${path.length}) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))
    (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 100) (local.get $err)))))
    (local.set $fd (i32.load (i32.const 32)))
    (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (i32.const 4096))
    (drop (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $write (i32.const 1024) (i32.load (i32.const 8)))))`;
export const CAT_FILE = catFile('in.txt');

/** Creates out.txt under fd 3 and writes "written" into it. */
export const WRITE_FILE = `(module ${IO} ${PATH_OPEN} (memory (export "memory") 1)
  (data (i32.const 512) "out.txt") (data (i32.const 600) "written")
  (func (export "_start") (local $err i32)
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 512) (i32.const 7) (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 32)))
    (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 100) (local.get $err)))))
    (i32.store (i32.const 16) (i32.const 600)) (i32.store (i32.const 20) (i32.const 7))
    (drop (call $fd_write (i32.load (i32.const 32)) (i32.const 16) (i32.const 1) (i32.const 24)))))`;

export const EXIT_3 = `(module ${IO} (memory (export "memory") 1) (func (export "_start") (call $proc_exit (i32.const 3))))`;
export const TRAP = `(module ${IO} (memory (export "memory") 1) (func (export "_start") unreachable))`;
export const IMPORTS_ENV = `(module (import "env" "host_call" (func)) (memory (export "memory") 1) (func (export "_start") (call 0)))`;
/** Starts with 32 pages of memory. */
export const BIG_START = `(module ${IO} (memory (export "memory") 32) (func (export "_start")))`;

/** Prints the environment block (NUL-separated) to stdout. */
export const PRINT_ENV = `(module ${IO} ${WASI('environ_sizes_get', 'i32 i32')} ${WASI('environ_get', 'i32 i32')} (memory (export "memory") 1) ${WRITE}
  (func (export "_start")
    (drop (call $environ_sizes_get (i32.const 100) (i32.const 104)))
    (drop (call $environ_get (i32.const 200) (i32.const 1024)))
    (call $write (i32.const 1024) (i32.load (i32.const 104)))))`;

/** Recurses without end: the engine's stack limit, not gas, stops it. */
export const DEEP_RECURSION = `(module ${IO} (memory (export "memory") 1)
  (func $down (param i32) (call $down (i32.add (local.get 0) (i32.const 1))))
  (func (export "_start") (call $down (i32.const 0))))`;

/** Asks fd_write to read an iovec far outside its memory: EFAULT, returned as the exit status. */
export const WRITE_OUT_OF_BOUNDS = `(module ${IO} (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 16) (i32.const 65000)) (i32.store (i32.const 20) (i32.const 100000))
    (call $proc_exit (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))`;

/** Opens in.txt again and again without closing it. */
export const OPEN_MANY = `(module ${IO} ${PATH_OPEN} (memory (export "memory") 1)
  (data (i32.const 512) "in.txt")
  (func (export "_start")
    (loop $again
      (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 512) (i32.const 6) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32))
        (then (call $proc_exit (i32.const 9))))
      (br $again))))`;

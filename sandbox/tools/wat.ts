// WAT sources of small sandboxed tools (assembled with wabt's wat2wasm by the tests and the
// benchmark). WASI commands: stdin in, stdout out, nothing else imported.

export const WASI = (name: string, params: string, result = '(result i32)'): string => `(import "wasi_snapshot_preview1" "${name}" (func $${name} (param ${params}) ${result}))`;
export const IO = [WASI('fd_read', 'i32 i32 i32 i32'), WASI('fd_write', 'i32 i32 i32 i32'), WASI('proc_exit', 'i32', '')].join('\n');

/** Writes memory[ptr..ptr+len) to stdout. */
export const WRITE = `(func $write (param $ptr i32) (param $len i32)
  (i32.store (i32.const 16) (local.get $ptr)) (i32.store (i32.const 20) (local.get $len))
  (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))`;

/** stdin -> stdout with ASCII letters upper-cased, 4 KiB at a time. */
export const UPPERCASE = `(module ${IO}
  (memory (export "memory") 1)
  ${WRITE}
  (func (export "_start") (local $n i32) (local $i i32) (local $c i32)
    (loop $chunks
      (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (i32.const 4096))
      (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $n (i32.load (i32.const 8)))
      (if (i32.eqz (local.get $n)) (then (return)))
      (local.set $i (i32.const 0))
      (block $done (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
          (then (i32.store8 (i32.add (i32.const 1024) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
      (call $write (i32.const 1024) (local.get $n))
      (br $chunks))))`;


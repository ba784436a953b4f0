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


/**
 * csv2json: RFC 4180 CSV on stdin (header row first; quoted fields with "" escapes; LF or CRLF;
 * blank lines skipped) to a JSON array of objects on stdout, every value a string, keys in header
 * order. Exit status 2: a row's width differs from the header's; 3: an unterminated quote; 4: text
 * after a closing quote; 6: more than 256 columns. Memory grows with the input (whole stdin is read
 * first), so the profile's memoryPages bounds the input size.
 */
export const CSV_TO_JSON = `(module ${IO}
  (memory (export "memory") 2)
  (global $olen (mut i32) (i32.const 0))
  (global $end (mut i32) (i32.const 0))
  (global $pos (mut i32) (i32.const 0))
  (global $fs (mut i32) (i32.const 0))
  (global $fe (mut i32) (i32.const 0))
  (global $fq (mut i32) (i32.const 0))
  (global $term (mut i32) (i32.const 0))
  ${WRITE}
  (func $flush
    (if (global.get $olen) (then (call $write (i32.const 8192) (global.get $olen)) (global.set $olen (i32.const 0)))))
  (func $out (param $c i32)
    (i32.store8 (i32.add (i32.const 8192) (global.get $olen)) (local.get $c))
    (global.set $olen (i32.add (global.get $olen) (i32.const 1)))
    (if (i32.eq (global.get $olen) (i32.const 4096)) (then (call $flush))))
  (func $fail (param $code i32) (call $proc_exit (local.get $code)))
  (func $hex (param $d i32) (result i32)
    (select (i32.add (local.get $d) (i32.const 48)) (i32.add (local.get $d) (i32.const 87)) (i32.lt_u (local.get $d) (i32.const 10))))
  ;; A JSON string of the raw field bytes [s, e); q: the field was quoted (so "" stands for ").
  (func $str (param $s i32) (param $e i32) (param $q i32) (local $c i32)
    (call $out (i32.const 34))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
      (local.set $c (i32.load8_u (local.get $s)))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (if (i32.and (local.get $q) (i32.eq (local.get $c) (i32.const 34)))
        (then (local.set $s (i32.add (local.get $s) (i32.const 1)))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
        (then (call $out (i32.const 92)) (call $out (local.get $c)))
        (else (if (i32.lt_u (local.get $c) (i32.const 32))
          (then (call $out (i32.const 92)) (call $out (i32.const 117)) (call $out (i32.const 48)) (call $out (i32.const 48))
                (call $out (call $hex (i32.shr_u (local.get $c) (i32.const 4)))) (call $out (call $hex (i32.and (local.get $c) (i32.const 15)))))
          (else (call $out (local.get $c))))))
      (br $l)))
    (call $out (i32.const 34)))
  ;; Parses one field at $pos into $fs/$fe/$fq; $term: 0 comma, 1 end of row, 2 end of input.
  (func $field (local $c i32)
    (global.set $fq (i32.const 0))
    (if (i32.and (i32.lt_u (global.get $pos) (global.get $end)) (i32.eq (i32.load8_u (global.get $pos)) (i32.const 34)))
      (then
        (global.set $fq (i32.const 1))
        (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
        (global.set $fs (global.get $pos))
        (block $closed (loop $q
          (if (i32.ge_u (global.get $pos) (global.get $end)) (then (call $fail (i32.const 3))))
          (if (i32.eq (i32.load8_u (global.get $pos)) (i32.const 34))
            (then
              (if (i32.and (i32.lt_u (i32.add (global.get $pos) (i32.const 1)) (global.get $end))
                           (i32.eq (i32.load8_u (i32.add (global.get $pos) (i32.const 1))) (i32.const 34)))
                (then (global.set $pos (i32.add (global.get $pos) (i32.const 2))) (br $q)))
              (global.set $fe (global.get $pos))
              (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
              (br $closed)))
          (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
          (br $q))))
      (else
        (global.set $fs (global.get $pos))
        (block $stop (loop $u
          (br_if $stop (i32.ge_u (global.get $pos) (global.get $end)))
          (local.set $c (i32.load8_u (global.get $pos)))
          (br_if $stop (i32.or (i32.eq (local.get $c) (i32.const 44)) (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13)))))
          (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
          (br $u)))
        (global.set $fe (global.get $pos))))
    (if (i32.ge_u (global.get $pos) (global.get $end)) (then (global.set $term (i32.const 2)) (return)))
    (local.set $c (i32.load8_u (global.get $pos)))
    (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
    (if (i32.eq (local.get $c) (i32.const 44)) (then (global.set $term (i32.const 0)) (return)))
    (if (i32.eq (local.get $c) (i32.const 13)) (then
      (if (i32.and (i32.lt_u (global.get $pos) (global.get $end)) (i32.eq (i32.load8_u (global.get $pos)) (i32.const 10)))
        (then (global.set $pos (i32.add (global.get $pos) (i32.const 1)))))
      (global.set $term (i32.const 1)) (return)))
    (if (i32.eq (local.get $c) (i32.const 10)) (then (global.set $term (i32.const 1)) (return)))
    (call $fail (i32.const 4)))
  (func (export "_start") (local $free i32) (local $hc i32) (local $h i32) (local $i i32) (local $rows i32)
    (global.set $end (i32.const 65536))
    (loop $read
      (local.set $free (i32.sub (i32.mul (memory.size) (i32.const 65536)) (global.get $end)))
      (if (i32.lt_u (local.get $free) (i32.const 4096)) (then
        (drop (memory.grow (i32.const 1)))
        (local.set $free (i32.add (local.get $free) (i32.const 65536)))))
      (i32.store (i32.const 0) (global.get $end)) (i32.store (i32.const 4) (local.get $free))
      (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (global.set $end (i32.add (global.get $end) (i32.load (i32.const 8))))
      (br_if $read (i32.load (i32.const 8))))
    (global.set $pos (i32.const 65536))
    (loop $header
      (if (i32.ge_u (local.get $hc) (i32.const 256)) (then (call $fail (i32.const 6))))
      (call $field)
      (local.set $h (i32.add (i32.const 4096) (i32.mul (local.get $hc) (i32.const 12))))
      (i32.store (local.get $h) (global.get $fs))
      (i32.store offset=4 (local.get $h) (global.get $fe))
      (i32.store offset=8 (local.get $h) (global.get $fq))
      (local.set $hc (i32.add (local.get $hc) (i32.const 1)))
      (br_if $header (i32.eqz (global.get $term))))
    (call $out (i32.const 91))
    (block $rows_done (loop $row
      (br_if $rows_done (i32.ge_u (global.get $pos) (global.get $end)))
      (if (i32.or (i32.eq (i32.load8_u (global.get $pos)) (i32.const 10)) (i32.eq (i32.load8_u (global.get $pos)) (i32.const 13)))
        (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (br $row)))
      (if (local.get $rows) (then (call $out (i32.const 44))))
      (call $out (i32.const 123))
      (local.set $i (i32.const 0))
      (loop $col
        (call $field)
        (if (i32.ge_u (local.get $i) (local.get $hc)) (then (call $fail (i32.const 2))))
        (if (local.get $i) (then (call $out (i32.const 44))))
        (local.set $h (i32.add (i32.const 4096) (i32.mul (local.get $i) (i32.const 12))))
        (call $str (i32.load (local.get $h)) (i32.load offset=4 (local.get $h)) (i32.load offset=8 (local.get $h)))
        (call $out (i32.const 58))
        (call $str (global.get $fs) (global.get $fe) (global.get $fq))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $col (i32.eqz (global.get $term))))
      (if (i32.ne (local.get $i) (local.get $hc)) (then (call $fail (i32.const 2))))
      (call $out (i32.const 125))
      (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
      (br $row)))
    (call $out (i32.const 93))
    (call $flush)))`;

// The load-time meter: exact counts, current WebAssembly features, and refusals.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabt from 'wabt';
import { countInstructions, meterModule } from '../../sandbox/meter.js';
import { Wasm } from '../../sandbox/wasm-api.js';
import { repoRoot } from '../support/shared.js';

const FEATURES = { mutable_globals: true, sat_float_to_int: true, sign_extension: true, simd: true, multi_value: true, bulk_memory: true, reference_types: true, tail_call: true, threads: true };
async function wasm(src: string): Promise<Uint8Array> {
  const m = (await wabt()).parseWat('t.wat', src, FEATURES);
  try {
    return Uint8Array.from(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}
function instance(bytes: Uint8Array, gas: number) {
  const i = new Wasm.Instance(new Wasm.Module(bytes), {});
  const ex = i.exports as Record<string, any>;
  if (ex.__helm_gas) ex.__helm_gas.value = BigInt(gas);
  if (ex.__helm_mem_limit) ex.__helm_mem_limit.value = 100;
  return ex;
}

describe('sandbox meter', () => {
  it('charges exactly one unit per executed instruction of a straight-line body', async () => {
    const ex = instance(meterModule(await wasm('(module (func (export "f") (drop (i32.add (i32.const 1) (i32.const 2)))))')).bytes, 100);
    ex.f();
    expect(100 - Number(ex.__helm_gas.value)).toBe(5); // const, const, add, drop, end
  });

  it('charges every loop iteration and traps exactly when the gas runs out', async () => {
    const src = `(module (func (export "count") (param $n i32) (result i32) (local $i i32)
      (block $out (loop $l (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l))) (local.get $i)))`;
    const bytes = meterModule(await wasm(src)).bytes;
    const used = (n: number) => {
      const ex = instance(bytes, 1_000_000);
      expect(ex.count(n)).toBe(n);
      return 1_000_000 - Number(ex.__helm_gas.value);
    };
    const perIteration = used(11) - used(10);
    expect(perIteration).toBeGreaterThan(5);
    expect(used(100) - used(10)).toBe(90 * perIteration);
    const ex = instance(bytes, used(10));
    expect(ex.count(10)).toBe(10);
    const short = instance(bytes, used(10) - 1);
    expect(() => short.count(10)).toThrow();
    expect(short.__helm_flag.value).toBe(1);
  });

  it('handles current features (SIMD, bulk memory, sign extension, saturating truncation, multi-value, reference types, tail calls) with unchanged results', async () => {
    const src = `(module (memory 1) (table $t 2 funcref) (elem declare func $sq)
      (type $pair (func (result i32 i32)))
      (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
      (func $tail (param i32) (result i32) (return_call $sq (local.get 0)))
      (func (export "run") (result i32) (local $a i32) (local $b i32)
        (memory.fill (i32.const 0) (i32.const 7) (i32.const 16))
        (memory.copy (i32.const 32) (i32.const 0) (i32.const 16))
        (table.set $t (i32.const 0) (ref.func $sq))
        (block $p (type $pair) (i32.const 3) (i32.const 4)) (local.set $b) (local.set $a)
        (i32.add
          (i32.add (i32x4.extract_lane 2 (i32x4.add (v128.load (i32.const 32)) (v128.const i32x4 1 1 1 1)))
                   (i32.extend8_s (i32.const 255)))
          (i32.add (i32.trunc_sat_f32_s (f32.const 1e20))
                   (i32.add (call $tail (local.get $a)) (i32.add (local.get $b) (call_indirect (param i32) (result i32) (i32.const 5) (i32.const 0))))))))`;
    const plain = await wasm(src);
    const expected = (new Wasm.Instance(new Wasm.Module(plain), {}).exports as Record<string, any>).run();
    const ex = instance(meterModule(plain).bytes, 10_000);
    expect(ex.run()).toBe(expected);
    expect(10_000 - Number(ex.__helm_gas.value)).toBeGreaterThan(20);
  });

  it('decodes every instruction of an emscripten-built module (re2-wasm), which it then refuses for importing its memory', () => {
    const file = join(repoRoot, 'node_modules', 're2-wasm', 'build', 'wasm', 're2.wasm');
    expect(existsSync(file)).toBe(true);
    const bytes = readFileSync(file);
    expect(countInstructions(bytes)).toBeGreaterThan(100_000);
    expect(() => meterModule(bytes)).toThrow(/imports a memory/);
  });

  it.each([
    ['threads (atomics)', '(module (memory 1 1 shared) (func (drop (i32.atomic.load (i32.const 0)))))', /memor|opcode/],
    ['a start function', '(module (func $s) (start $s))', /start/],
    ['an imported memory', '(module (import "env" "m" (memory 1)))', /imports a memory/],
    ['table.grow (unbounded host memory)', '(module (table $t 1 funcref) (func (drop (table.grow $t (ref.null func) (i32.const 1000000)))))', /table\.grow/],
    ['a reserved export name', '(module (global (export "__helm_gas") i32 (i32.const 0)))', /reserved/],
  ])('refuses %s', async (_name, src, message) => {
    const bytes = await wasm(src);
    expect(() => meterModule(bytes)).toThrow(message);
  });

  it('refuses bytes that are not a WebAssembly binary', () => {
    expect(() => meterModule(Buffer.from('\0asm\x02\0\0\0'))).toThrow(/not a WebAssembly binary/);
  });
});

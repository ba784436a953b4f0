// Load-time instrumentation of a WebAssembly module: gas metering and a memory ceiling.
//
// Gas: every straight-line segment of a function body (up to and including the next control
// instruction: block, loop, if, else, end, br*, return, call*, unreachable) is preceded by
// `i64.const <its instruction count>; call $charge`. Branches only land at segment starts, so the
// count is exact and deterministic: the same module and input use the same gas on any machine.
// $charge traps (flag 1) when the remaining gas, an exported mutable global, would go negative.
// Memory: every `memory.grow` becomes `call $grow`, which traps (flag 2) past the page ceiling,
// another exported global, or when the engine refuses to grow.
// The binary is decoded instruction by instruction; an opcode outside the supported set (MVP,
// sign-extension, saturating truncation, bulk memory, reference types, SIMD, tail calls) refuses
// the module rather than meter it wrongly.

export const GAS_EXPORT = '__helm_gas';
export const MEM_LIMIT_EXPORT = '__helm_mem_limit';
export const FLAG_EXPORT = '__helm_flag';
export const FLAG_GAS = 1;
export const FLAG_MEMORY = 2;

export class MeterError extends Error {
  readonly code = 'ERR_COMPUTE_INSTANTIATION_FAILED';
}

export interface MeteredModule {
  readonly bytes: Uint8Array;
  /** Initial pages of the module's memory (0 if it defines none). */
  readonly initialPages: number;
}

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array, start = 0, readonly end = b.length) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new MeterError('module: truncated');
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      result += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new MeterError('module: bad LEB128');
    }
    return result;
  }
  /** Skips a signed LEB128 of at most maxBytes bytes. */
  skipLeb(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) if ((this.byte() & 0x80) === 0) return;
    throw new MeterError('module: bad LEB128');
  }
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.end) throw new MeterError('module: truncated');
  }
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let x = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) x |= 0x80;
    out.push(x);
  } while (n > 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (;;) {
    const x = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (x & 0x40) === 0) || (v === -1n && (x & 0x40) !== 0);
    out.push(done ? x : x | 0x80);
    if (done) return out;
  }
}

/** Appends without spreading into arguments (a large code section would overflow the stack). */
function append(out: number[], src: ArrayLike<number>): void {
  for (let i = 0; i < src.length; i++) out.push(src[i]!);
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};

const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);
/** Opcodes that end a metered segment. */
const CONTROL = new Set([0x00, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13]);

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) throw new MeterError('module: multiple memories are not supported');
  r.u32();
}

function blocktype(r: Reader): void {
  const t = r.b[r.pos]!;
  if (t === 0x40 || VALTYPES.has(t)) r.pos++;
  else r.skipLeb(5);
}

/** Skips one instruction's immediates (the opcode byte already read). */
function immediates(op: number, r: Reader): void {
  if (op === 0x02 || op === 0x03 || op === 0x04) return blocktype(r);
  if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12) return void r.u32();
  if (op === 0x0e) {
    const n = r.u32();
    for (let i = 0; i <= n; i++) r.u32();
    return;
  }
  if (op === 0x11 || op === 0x13) return void (r.u32(), r.u32());
  if (op === 0x1c) {
    const n = r.u32();
    return r.skip(n);
  }
  if (op >= 0x20 && op <= 0x26) return void r.u32();
  if (op >= 0x28 && op <= 0x3e) return memarg(r);
  if (op === 0x3f || op === 0x40) {
    if (r.byte() !== 0) throw new MeterError('module: multiple memories are not supported');
    return;
  }
  if (op === 0x41) return r.skipLeb(5);
  if (op === 0x42) return r.skipLeb(10);
  if (op === 0x43) return r.skip(4);
  if (op === 0x44) return r.skip(8);
  if (op === 0xd0) return void r.byte();
  if (op === 0xd2) return void r.u32();
  if (op === 0xfc) return prefixedFC(r);
  if (op === 0xfd) return prefixedSimd(r);
  if (op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1) return;
  if (op >= 0x45 && op <= 0xc4) return;
  throw new MeterError(`module: opcode 0x${op.toString(16)} is not supported by the meter (threads, exceptions and GC are refused)`);
}

function prefixedFC(r: Reader): void {
  const sub = r.u32();
  if (sub <= 7) return;
  switch (sub) {
    case 8: r.u32(); r.byte(); return; // memory.init
    case 15: throw new MeterError('module: uses table.grow, which the sandbox does not bound; refused');
    case 9: case 13: case 16: case 17: r.u32(); return;
    case 10: r.byte(); r.byte(); return; // memory.copy
    case 11: r.byte(); return; // memory.fill
    case 12: case 14: r.u32(); r.u32(); return;
  }
  throw new MeterError(`module: opcode 0xfc ${sub} is not supported by the meter`);
}

function prefixedSimd(r: Reader): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) return memarg(r);
  if (sub === 12 || sub === 13) return r.skip(16);
  if (sub >= 21 && sub <= 34) return r.skip(1);
  if (sub >= 84 && sub <= 91) {
    memarg(r);
    return r.skip(1);
  }
  if (sub <= 275) return;
  throw new MeterError(`module: SIMD opcode ${sub} is not supported by the meter`);
}

interface Layout {
  importedFuncs: number;
  importedGlobals: number;
  definedFuncs: number;
  definedGlobals: number;
  typeCount: number;
  initialPages: number;
  hasMemory: boolean;
  exportNames: Set<string>;
}

/** Rewrites one function body: charges before each segment, memory.grow -> call $grow. */
function meterBody(b: Uint8Array, start: number, end: number, charge: number, grow: number): number[] {
  const r = new Reader(b, start, end);
  const out: number[] = [];
  const localGroups = r.u32();
  for (let i = 0; i < localGroups; i++) {
    r.u32();
    r.byte();
  }
  append(out, b.subarray(start, r.pos));
  // Pass 1: instruction boundaries.
  const ops: Array<{ at: number; next: number; op: number }> = [];
  while (r.pos < end) {
    const at = r.pos;
    const op = r.byte();
    immediates(op, r);
    ops.push({ at, next: r.pos, op });
  }
  if (ops.length === 0 || ops[ops.length - 1]!.op !== 0x0b) throw new MeterError('module: function body does not end with end');
  // Pass 2: emit, charging at each segment start.
  let segmentStart = true;
  for (let i = 0; i < ops.length; i++) {
    if (segmentStart && i < ops.length - 1) {
      let n = 0;
      for (let j = i; j < ops.length; j++) {
        n++;
        if (CONTROL.has(ops[j]!.op)) break;
      }
      out.push(0x42, ...sleb(n), 0x10, ...uleb(charge));
    }
    const { at, next, op } = ops[i]!;
    if (op === 0x40) out.push(0x10, ...uleb(grow));
    else append(out, b.subarray(at, next));
    segmentStart = CONTROL.has(op);
  }
  return out;
}

function limitsPages(r: Reader): number {
  const flags = r.byte();
  if (flags & ~0x01) throw new MeterError('module: shared or 64-bit memories are not supported');
  const min = r.u32();
  if (flags & 1) r.u32();
  return min;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

function readLayout(b: Uint8Array, sections: Array<{ id: number; start: number; end: number }>): Layout {
  const l: Layout = { importedFuncs: 0, importedGlobals: 0, definedFuncs: 0, definedGlobals: 0, typeCount: 0, initialPages: 0, hasMemory: false, exportNames: new Set() };
  for (const s of sections) {
    const r = new Reader(b, s.start, s.end);
    if (s.id === 1) l.typeCount = r.u32();
    if (s.id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        r.skip(r.u32());
        r.skip(r.u32());
        const kind = r.byte();
        if (kind === 0) {
          r.u32();
          l.importedFuncs++;
        } else if (kind === 3) {
          r.byte();
          r.byte();
          l.importedGlobals++;
        } else if (kind === 2) throw new MeterError('module: imports a memory; a sandboxed module must define its own');
        else if (kind === 1) {
          r.byte();
          skipLimits(r);
        } else throw new MeterError(`module: import kind ${kind} is not supported`);
      }
    }
    if (s.id === 3) l.definedFuncs = r.u32();
    if (s.id === 5) {
      const n = r.u32();
      if (n > 1) throw new MeterError('module: multiple memories are not supported');
      if (n === 1) {
        l.hasMemory = true;
        l.initialPages = limitsPages(r);
      }
    }
    if (s.id === 6) l.definedGlobals = r.u32();
    if (s.id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const len = r.u32();
        l.exportNames.add(new TextDecoder().decode(b.subarray(r.pos, r.pos + len)));
        r.skip(len);
        r.byte();
        r.u32();
      }
    }
    if (s.id === 8) throw new MeterError('module: has a start function; export _start instead (the meter must set gas first)');
  }
  return l;
}

/** Appends items to a vector section's body (count first), or makes the section. */
function extendVector(b: Uint8Array, s: { start: number; end: number } | undefined, items: number[][]): number[] {
  if (!s) return vec(items);
  const r = new Reader(b, s.start, s.end);
  const n = r.u32();
  return [...uleb(n + items.length), ...b.subarray(r.pos, s.end), ...items.flat()];
}

function splitSections(b: Uint8Array): Array<{ id: number; start: number; end: number; head: number }> {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d || b[4] !== 1 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) {
    throw new MeterError('module: not a WebAssembly binary (version 1)');
  }
  const r = new Reader(b, 8);
  const sections: Array<{ id: number; start: number; end: number; head: number }> = [];
  while (r.pos < b.length) {
    const head = r.pos;
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    sections.push({ id, start, end: start + size, head });
  }
  return sections;
}

/** Decodes every function body with the meter's decoder; returns the instruction count (a check). */
export function countInstructions(b: Uint8Array): number {
  const code = splitSections(b).find((s) => s.id === 10);
  if (!code) return 0;
  const r = new Reader(b, code.start, code.end);
  let count = 0;
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    const body = new Reader(b, r.pos, r.pos + size);
    r.skip(size);
    const groups = body.u32();
    for (let g = 0; g < groups; g++) {
      body.u32();
      body.byte();
    }
    while (body.pos < body.end) {
      immediates(body.byte(), body);
      count++;
    }
  }
  return count;
}

/** Instruments a module: see the header. Throws MeterError for anything it cannot meter exactly. */
export function meterModule(input: Uint8Array): MeteredModule {
  const b = input;
  const sections = splitSections(b);
  const l = readLayout(b, sections);
  for (const n of [GAS_EXPORT, MEM_LIMIT_EXPORT, FLAG_EXPORT]) if (l.exportNames.has(n)) throw new MeterError(`module: exports the reserved name ${n}`);
  const find = (id: number) => sections.find((s) => s.id === id);
  const typeCharge = l.typeCount;
  const typeGrow = l.typeCount + 1;
  const charge = l.importedFuncs + l.definedFuncs;
  const grow = charge + 1;
  const gas = l.importedGlobals + l.definedGlobals;
  const memLimit = gas + 1;
  const flag = gas + 2;
  const code = find(10);
  if (l.definedFuncs > 0 && !code) throw new MeterError('module: functions without a code section');

  const chargeBody = [
    0x00, // no locals
    0x20, 0, 0x23, ...uleb(gas), 0x56, 0x04, 0x40, // if n > gas
    0x41, FLAG_GAS, 0x24, ...uleb(flag), 0x00, 0x0b, // flag = 1; unreachable
    0x23, ...uleb(gas), 0x20, 0, 0x7d, 0x24, ...uleb(gas), 0x0b, // gas -= n
  ];
  // Without a memory there is no memory.grow to replace: the helper is a stub that validates.
  const growBody = !l.hasMemory ? [0x00, 0x00, 0x0b] : [
    0x01, 1, 0x7f, // one i32 local
    0x3f, 0, 0xad, 0x20, 0, 0xad, 0x7c, 0x23, ...uleb(memLimit), 0xad, 0x56, 0x04, 0x40, // if size + delta > limit
    0x41, FLAG_MEMORY, 0x24, ...uleb(flag), 0x00, 0x0b,
    0x20, 0, 0x40, 0, 0x22, 1, 0x41, 0x7f, 0x46, 0x04, 0x40, // if grow(delta) == -1
    0x41, FLAG_MEMORY, 0x24, ...uleb(flag), 0x00, 0x0b,
    0x20, 1, 0x0b,
  ];
  const sized = (body: number[]) => [...uleb(body.length), ...body];

  const out: number[] = [...b.subarray(0, 8)];
  const emitted = new Set<number>();
  const emit = (id: number) => {
    if (emitted.has(id)) return;
    emitted.add(id);
    const s = find(id);
    if (id === 1) append(out, section(1, extendVector(b, s, [[0x60, 1, 0x7e, 0], [0x60, 1, 0x7f, 1, 0x7f]])));
    else if (id === 3) append(out, section(3, extendVector(b, s, [uleb(typeCharge), uleb(typeGrow)])));
    else if (id === 6) append(out, section(6, extendVector(b, s, [[0x7e, 1, 0x42, 0, 0x0b], [0x7f, 1, 0x41, 0, 0x0b], [0x7f, 1, 0x41, 0, 0x0b]])));
    else if (id === 7) {
      append(out, section(7, extendVector(b, s, [[...name(GAS_EXPORT), 3, ...uleb(gas)], [...name(MEM_LIMIT_EXPORT), 3, ...uleb(memLimit)], [...name(FLAG_EXPORT), 3, ...uleb(flag)]])));
    } else if (id === 10) {
      const bodies: number[][] = [];
      if (s) {
        const cr = new Reader(b, s.start, s.end);
        const n = cr.u32();
        for (let i = 0; i < n; i++) {
          const size = cr.u32();
          const start = cr.pos;
          cr.skip(size);
          bodies.push(sized(meterBody(b, start, start + size, charge, grow)));
        }
      }
      bodies.push(sized(chargeBody), sized(growBody));
      append(out, section(10, vec(bodies)));
    } else if (s) append(out, b.subarray(s.head, s.end));
  };
  // Known sections in their required order; the ones we extend are made if missing.
  const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
  const MUST = new Set([1, 3, 6, 7, 10]);
  let next = 0;
  for (const s of sections) {
    if (s.id === 0) {
      append(out, b.subarray(s.head, s.end));
      continue;
    }
    const idx = ORDER.indexOf(s.id);
    if (idx < 0) throw new MeterError(`module: unknown section ${s.id}`);
    for (; next <= idx; next++) if (MUST.has(ORDER[next]!) || ORDER[next] === s.id) emit(ORDER[next]!);
  }
  for (; next < ORDER.length; next++) if (MUST.has(ORDER[next]!)) emit(ORDER[next]!);
  return { bytes: Uint8Array.from(out), initialPages: l.initialPages };
}

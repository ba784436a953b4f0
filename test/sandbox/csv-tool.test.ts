// The realistic tool: csv2json written in WAT, run through the sandbox and checked against a JS
// reference on fixed and on 150 seeded random inputs (quotes, commas, newlines, Unicode, controls).
import { Sandbox } from '../../sandbox/index.js';
import { CSV_TO_JSON } from '../../sandbox/tools/wat.js';
import { LIMITS, request, wat2wasm } from './modules.js';

class CsvError extends Error {
  constructor(readonly status: number) {
    super(`csv error ${status}`);
  }
}

/** The tool's semantics in JS (see sandbox/tools/wat.ts). */
function reference(csv: string): Array<Record<string, string>> {
  let pos = 0;
  const field = (): [string, number] => {
    let v = '';
    if (csv[pos] === '"') {
      pos++;
      for (;;) {
        if (pos >= csv.length) throw new CsvError(3);
        if (csv[pos] === '"') {
          if (csv[pos + 1] === '"') {
            v += '"';
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        v += csv[pos++];
      }
    } else while (pos < csv.length && !',\n\r'.includes(csv[pos]!)) v += csv[pos++];
    if (pos >= csv.length) return [v, 2];
    const c = csv[pos++];
    if (c === ',') return [v, 0];
    if (c === '\r') {
      if (csv[pos] === '\n') pos++;
      return [v, 1];
    }
    if (c === '\n') return [v, 1];
    throw new CsvError(4);
  };
  const headers: string[] = [];
  for (;;) {
    const [v, t] = field();
    headers.push(v);
    if (t !== 0) break;
  }
  const rows: Array<Record<string, string>> = [];
  while (pos < csv.length) {
    if (csv[pos] === '\n' || csv[pos] === '\r') {
      pos++;
      continue;
    }
    const row: Record<string, string> = {};
    let i = 0;
    for (;;) {
      const [v, t] = field();
      if (i >= headers.length) throw new CsvError(2);
      row[headers[i++]!] = v;
      if (t !== 0) break;
    }
    if (i !== headers.length) throw new CsvError(2);
    rows.push(row);
  }
  return rows;
}

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCsv(seed: number): string {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const alphabet = ['a', 'b', 'Z', '0', ' ', ',', '"', '\n', '\r\n', '\\', 'é', '€', '😀', '\t', '\u0001', '{', '}'];
  const value = () => Array.from({ length: Math.floor(r() * 8) }, () => pick(alphabet)).join('');
  const quote = (v: string) => (/[",\n\r]/.test(v) || r() < 0.2 ? `"${v.replaceAll('"', '""')}"` : v);
  const cols = 2 + Math.floor(r() * 4);
  const header = Array.from({ length: cols }, (_, i) => quote(`col${i}${pick(['', ' x', ',y', '"q"'])}`));
  const rows = Array.from({ length: Math.floor(r() * 6) }, () => Array.from({ length: cols }, () => quote(value())).join(','));
  const nl = pick(['\n', '\r\n']);
  return [header.join(','), ...rows].join(nl) + (r() < 0.5 ? nl : '');
}

let sandbox: Sandbox;
let wasm: Uint8Array;
beforeAll(async () => {
  sandbox = new Sandbox({ size: 2 });
  wasm = await wat2wasm(CSV_TO_JSON);
});
afterAll(() => sandbox.close());

const run = (csv: string, limits = LIMITS) => sandbox.run(request(wasm, { input: { bytes: Buffer.from(csv) }, limits }));

describe('csv2json in the sandbox', () => {
  it('turns a CSV with quotes, escapes and CRLF into JSON objects', async () => {
    const csv = 'name,quote,n\r\n"Smith, J.","He said ""hi""",1\r\nÉmile,"two\nlines",2\r\n';
    const out = await run(csv);
    if (!out.ok) throw new Error(out.message);
    expect(JSON.parse(Buffer.from(out.output).toString())).toEqual([
      { name: 'Smith, J.', quote: 'He said "hi"', n: '1' },
      { name: 'Émile', quote: 'two\nlines', n: '2' },
    ]);
  });

  it('agrees with the JS reference on 150 random CSVs', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const csv = randomCsv(seed);
      const out = await run(csv);
      if (!out.ok) throw new Error(`seed ${seed}: ${out.reasonCode} ${out.message}\n${JSON.stringify(csv)}`);
      expect({ seed, rows: JSON.parse(Buffer.from(out.output).toString()) }).toEqual({ seed, rows: reference(csv) });
    }
  });

  it('reports malformed CSV as a guest fault with its exit status', async () => {
    expect(() => reference('a,b\n1,2,3\n')).toThrow(CsvError);
    const wide = await run('a,b\n1,2,3\n');
    expect(wide).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT' });
    expect(!wide.ok && wide.message).toMatch(/exit status 2/);
    const open = await run('a,b\n"1,2\n');
    expect(!open.ok && open.message).toMatch(/exit status 3/);
  });

  it('is bounded by its profile: a large CSV hits the memory ceiling, gas or the output limit', async () => {
    const big = `a,b\n${'x,y\n'.repeat(100_000)}`;
    expect(await run(big, { ...LIMITS, memoryPages: 4 })).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_MEMORY_EXHAUSTED' });
    expect(await run(big, { ...LIMITS, memoryPages: 16, gas: 100_000 })).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    expect(await run(big, { ...LIMITS, memoryPages: 16, gas: 1e9, outputBytes: 1000 })).toMatchObject({ ok: false, reasonCode: 'ERR_COMPUTE_OUTPUT_EXHAUSTED' });
    const ok = await run(big, { ...LIMITS, memoryPages: 16, gas: 1e9, outputBytes: 4_000_000 });
    expect(ok.ok && JSON.parse(Buffer.from(ok.output).toString()).length).toBe(100_000);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type PackLimits } from '../../kernel/evidence/limits.js';
import { acceptMember } from '../../kernel/evidence/layout.js';
import { PackError } from '../../kernel/evidence/pack-error.js';
import { readTar, writeTar } from '../../kernel/evidence/tar.js';
import { rawMember } from './variants.js';

const enc = new TextEncoder();
const any = { limits: DEFAULT_LIMITS, accept: () => true };
const layout = { limits: DEFAULT_LIMITS, accept: acceptMember };

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof PackError) return `${e.code} ${e.path}`;
    throw e;
  }
  return 'no error';
}

const end = new Uint8Array(1024);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe('deterministic ustar writer', () => {
  const files = [
    { path: 'logs/b/entries.jsonl', data: enc.encode('{"b":1}\n') },
    { path: 'MANIFEST.json', data: enc.encode('{}') },
    { path: `logs/${'x'.repeat(128)}/checkpoints/123456789.note`, data: new Uint8Array(700).fill(65) },
  ];

  it('sorts by path bytes, fixes metadata, and gives the same bytes for the same files in any order', () => {
    const a = writeTar(files);
    const b = writeTar([...files].reverse());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const back = readTar(a, any);
    expect(back.map((f) => f.path)).toEqual([files[1]!.path, files[0]!.path, files[2]!.path]);
    expect(Buffer.from(back[2]!.data).equals(Buffer.from(files[2]!.data))).toBe(true);
    // header fields: mode 0644, uid/gid 0, mtime 0, empty uname/gname, ustar magic
    const h = a.subarray(0, 512);
    const field = (o: number, n: number) => Buffer.from(h.subarray(o, o + n)).toString('latin1');
    expect(field(100, 8)).toBe('0000644\0');
    expect(field(108, 8)).toBe('0000000\0');
    expect(field(136, 12)).toBe('00000000000\0');
    expect(field(257, 8)).toBe('ustar\u000000');
    expect(h.subarray(265, 329).every((x) => x === 0)).toBe(true);
  });

  it('is read back by GNU tar with the same names and contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-tar-'));
    try {
      writeFileSync(join(dir, 'p.tar'), writeTar(files));
      mkdirSync(join(dir, 'x'));
      execFileSync('tar', ['-xf', join(dir, 'p.tar'), '-C', join(dir, 'x')]);
      for (const f of files) expect(Buffer.from(readFileSync(join(dir, 'x', f.path))).equals(Buffer.from(f.data))).toBe(true);
      const listing = execFileSync('tar', ['-tvf', join(dir, 'p.tar')], { encoding: 'utf8' });
      expect(listing).toMatch(/-rw-r--r-- 0\/0 .* 1970-01-01 00:00 MANIFEST\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses unsafe names and duplicates when writing', () => {
    expect(codeOf(() => writeTar([{ path: '../x', data: new Uint8Array() }]))).toBe('ERR_PACK_UNSAFE_PATH ../x');
    expect(codeOf(() => writeTar([{ path: 'a', data: new Uint8Array() }, { path: 'a', data: new Uint8Array() }]))).toBe('ERR_PACK_DUPLICATE_PATH a');
  });
});

describe('safe tar reader', () => {
  const ok = rawMember('MANIFEST.json', '0', enc.encode('{}'));
  const cases: Array<[string, Uint8Array, string]> = [
    ['symlink', rawMember('logs/a/entries.jsonl', '2', new Uint8Array(), '/etc/passwd'), 'ERR_PACK_UNSAFE_ENTRY logs/a/entries.jsonl'],
    ['hard link', rawMember('logs/a/entries.jsonl', '1', new Uint8Array(), 'MANIFEST.json'), 'ERR_PACK_UNSAFE_ENTRY logs/a/entries.jsonl'],
    ['character device', rawMember('logs/a/range-proof', '3', new Uint8Array()), 'ERR_PACK_UNSAFE_ENTRY logs/a/range-proof'],
    ['FIFO', rawMember('logs/a/range-proof', '6', new Uint8Array()), 'ERR_PACK_UNSAFE_ENTRY logs/a/range-proof'],
    ['pax header', rawMember('PaxHeaders/x', 'x', enc.encode('30 path=logs/a/entries.jsonl\n')), 'ERR_PACK_UNSAFE_ENTRY PaxHeaders/x'],
    ['GNU long name', rawMember('././@LongLink', 'L', enc.encode('logs/a/entries.jsonl\0')), 'ERR_PACK_UNSAFE_ENTRY ././@LongLink'],
    ['absolute path', rawMember('/etc/cron.d/x', '0', enc.encode('x')), 'ERR_PACK_UNSAFE_PATH /etc/cron.d/x'],
    ['.. segment', rawMember('logs/../../x', '0', enc.encode('x')), 'ERR_PACK_UNSAFE_PATH logs/../../x'],
    ['backslash', rawMember('logs\\a\\entries.jsonl', '0', enc.encode('x')), 'ERR_PACK_UNSAFE_PATH logs\\a\\entries.jsonl'],
    ['name outside the layout', rawMember('logs/a/extra.txt', '0', enc.encode('x')), 'ERR_PACK_UNSAFE_PATH logs/a/extra.txt'],
    ['log dir ..', rawMember('logs/../entries.jsonl', '0', enc.encode('x')), 'ERR_PACK_UNSAFE_PATH logs/../entries.jsonl'],
    ['duplicate path', cat(rawMember('MANIFEST.json', '0', enc.encode('{}'))), 'ERR_PACK_DUPLICATE_PATH MANIFEST.json'],
  ];
  it.each(cases)('refuses a %s', (_n, member, want) => {
    expect(codeOf(() => readTar(cat(ok, member, end), layout))).toBe(want);
  });

  it('refuses a NUL inside a name', () => {
    const m = rawMember('MANIFEST.json', '0', enc.encode('{}'));
    m.set(enc.encode('.x'), 14); // "MANIFEST.json\0.x": a second name hidden after the NUL
    let sum = 0;
    m.fill(0x20, 148, 156);
    for (let i = 0; i < 512; i++) sum += m[i]!;
    m.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    expect(codeOf(() => readTar(cat(m, end), layout))).toMatch(/^ERR_PACK_UNSAFE_PATH/);
  });

  it('accepts the layout directories and nothing else as directories', () => {
    const dirs = cat(rawMember('logs/', '5', new Uint8Array()), rawMember('logs/a/', '5', new Uint8Array()), rawMember('logs/a/checkpoints/', '5', new Uint8Array()));
    expect(readTar(cat(dirs, ok, end), layout).map((f) => f.path)).toEqual(['MANIFEST.json']);
    expect(codeOf(() => readTar(cat(rawMember('logs/a/other/', '5', new Uint8Array()), end), layout))).toBe('ERR_PACK_UNSAFE_PATH logs/a/other/');
  });

  it('verifies header checksums, padding, end blocks and trailing data', () => {
    const bad = Uint8Array.from(ok);
    bad[0] = 0x6e; // 'M' -> 'n'
    expect(codeOf(() => readTar(cat(bad, end), any))).toMatch(/^ERR_PACK_MALFORMED .*header at byte 0/);
    const pad = Uint8Array.from(ok);
    pad[512 + 5] = 1;
    expect(codeOf(() => readTar(cat(pad, end), any))).toBe('ERR_PACK_MALFORMED MANIFEST.json');
    expect(codeOf(() => readTar(cat(ok, new Uint8Array(512)), any))).toBe('ERR_PACK_MALFORMED <tar>');
    expect(codeOf(() => readTar(cat(ok, end, Uint8Array.of(7)), any))).toBe('ERR_PACK_MALFORMED <tar>');
    expect(codeOf(() => readTar(ok.subarray(0, 600), any))).toBe('ERR_PACK_MALFORMED MANIFEST.json');
  });

  it('enforces entry, file and total limits', () => {
    const big = rawMember('logs/a/entries.jsonl', '0', new Uint8Array(5000));
    const lim = (l: Partial<PackLimits>) => ({ limits: { ...DEFAULT_LIMITS, ...l }, accept: () => true });
    expect(codeOf(() => readTar(cat(ok, big, end), lim({ maxEntries: 1 })))).toBe('ERR_PACK_LIMIT logs/a/entries.jsonl');
    expect(codeOf(() => readTar(cat(ok, big, end), lim({ maxFileBytes: 4096 })))).toBe('ERR_PACK_LIMIT logs/a/entries.jsonl');
    expect(codeOf(() => readTar(cat(ok, big, end), lim({ maxTotalBytes: 5001 })))).toBe('ERR_PACK_LIMIT logs/a/entries.jsonl');
    expect(readTar(cat(ok, big, end), lim({ maxTotalBytes: 5002 }))).toHaveLength(2);
  });
});

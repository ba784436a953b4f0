// Deterministic POSIX ustar writer and a defensive reader for evidence packs. Portable (no node:).
// The writer emits regular files only, sorted by path bytes, with every metadata field fixed, so the
// same files always give the same archive. The reader never touches a file system: it returns the
// members as byte views, after refusing anything an extractor could be tricked by (links, devices,
// pax/GNU extension headers, absolute or `..` paths, duplicates) and anything above the limits.
import { fromUtf8, utf8 } from '../crypto/bytes.js';
import { PackError } from './pack-error.js';
import type { PackLimits } from './limits.js';

const BLOCK = 512;
const NAME_LEN = 100;
const PREFIX_LEN = 155;
// 11 octal digits: the largest size a plain ustar header can carry (8 GiB - 1).
const MAX_USTAR_SIZE = 0o77777777777;

export interface TarFile {
  readonly path: string;
  readonly data: Uint8Array;
}

/** Bytewise order of the UTF-8 encodings (what `LC_ALL=C sort` gives). */
export function compareBytewise(a: string, b: string): number {
  const x = utf8(a);
  const y = utf8(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function writeString(h: Uint8Array, off: number, len: number, s: string, path: string): void {
  const b = utf8(s);
  if (b.length > len) throw new PackError('ERR_PACK_UNSAFE_PATH', `"${s}" does not fit a ${len}-byte ustar field`, path);
  h.set(b, off);
}

function writeOctal(h: Uint8Array, off: number, len: number, n: number): void {
  // len-1 zero-padded octal digits and a NUL, as GNU and BSD tar write them.
  h.set(utf8(n.toString(8).padStart(len - 1, '0') + '\0'), off);
}

/** Splits a long path into ustar prefix and name at a '/' (the '/' itself is not stored). */
function splitPath(path: string): { prefix: string; name: string } {
  const b = utf8(path);
  if (b.length <= NAME_LEN) return { prefix: '', name: path };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (utf8(prefix).length <= PREFIX_LEN && name.length > 0 && utf8(name).length <= NAME_LEN) return { prefix, name };
  }
  throw new PackError('ERR_PACK_UNSAFE_PATH', `path is ${b.length} bytes and cannot be split into a ustar prefix and name`, path);
}

function header(path: string, size: number): Uint8Array {
  if (size > MAX_USTAR_SIZE) throw new PackError('ERR_PACK_LIMIT', `file of ${size} bytes is too large for ustar`, path);
  const h = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(path);
  writeString(h, 0, NAME_LEN, name, path);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h.fill(0x20, 148, 156);
  h[156] = 0x30; // '0': regular file
  h.set(utf8('ustar\u000000'), 257);
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  writeString(h, 345, PREFIX_LEN, prefix, path);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.set(utf8(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return h;
}

/** A deterministic ustar archive of regular files, sorted by path, ending in two zero blocks. */
export function writeTar(files: readonly TarFile[]): Uint8Array {
  const sorted = [...files].sort((a, b) => compareBytewise(a.path, b.path));
  let total = 2 * BLOCK;
  for (let i = 0; i < sorted.length; i++) {
    const f = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.path === f.path) throw new PackError('ERR_PACK_DUPLICATE_PATH', 'two files with the same path', f.path);
    checkMemberPath(f.path, false);
    total += BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of sorted) {
    out.set(header(f.path, f.data.length), o);
    o += BLOCK;
    out.set(f.data, o);
    o += Math.ceil(f.data.length / BLOCK) * BLOCK;
  }
  return out;
}

/**
 * Path rules that hold whatever the layout: relative, '/'-separated, no empty, '.' or '..'
 * segment, no backslash, no control character. Directories may end in one '/'.
 */
export function checkMemberPath(path: string, isDir: boolean): void {
  const bad = (why: string): never => {
    throw new PackError('ERR_PACK_UNSAFE_PATH', `unsafe member name: ${why}`, path);
  };
  if (path.length === 0) bad('empty name');
  if (/[\x00-\x1f\x7f]/.test(path)) bad('control character or NUL in name');
  if (path.includes('\\')) bad('backslash in name');
  if (path.startsWith('/')) bad('absolute path');
  if (/^[A-Za-z]:/.test(path)) bad('drive-letter path');
  const body = isDir && path.endsWith('/') ? path.slice(0, -1) : path;
  for (const seg of body.split('/')) {
    if (seg === '') bad('empty path segment');
    if (seg === '.' || seg === '..') bad(`"${seg}" path segment`);
  }
}

function field(h: Uint8Array, off: number, len: number, what: string, at: string): string {
  const raw = h.subarray(off, off + len);
  let end = raw.indexOf(0);
  if (end < 0) end = len;
  for (let i = end; i < len; i++) {
    // Bytes after the terminating NUL could smuggle a second name past a lenient extractor.
    if (raw[i] !== 0) throw new PackError('ERR_PACK_UNSAFE_PATH', `${what} field has data after a NUL`, at);
  }
  try {
    return fromUtf8(raw.subarray(0, end));
  } catch {
    throw new PackError('ERR_PACK_UNSAFE_PATH', `${what} field is not UTF-8`, at);
  }
}

function octal(h: Uint8Array, off: number, len: number, what: string, at: string): number {
  const raw = h.subarray(off, off + len);
  if (raw[0]! & 0x80) throw new PackError('ERR_PACK_UNSAFE_ENTRY', `${what} uses the GNU base-256 extension`, at);
  let i = 0;
  while (i < raw.length && raw[i] === 0x20) i++;
  let s = '';
  for (; i < raw.length && raw[i] !== 0 && raw[i] !== 0x20; i++) s += String.fromCharCode(raw[i]!);
  if (!/^[0-7]{1,11}$/.test(s)) throw new PackError('ERR_PACK_MALFORMED', `${what} field is not an octal number`, at);
  return parseInt(s, 8);
}

function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  '7': 'contiguous file',
  x: 'pax extended header',
  g: 'pax global header',
  L: 'GNU long name',
  K: 'GNU long link name',
};

export interface ReadTarOptions {
  limits: PackLimits;
  /** Layout check: whether a (safe) member path may appear in this kind of archive. */
  accept(path: string, isDir: boolean): boolean;
}

/** Reads a whole ustar archive into regular files. Directory members are checked, then dropped. */
export function readTar(tar: Uint8Array, o: ReadTarOptions): TarFile[] {
  const t = new TarStream(o);
  t.push(tar);
  return t.finish();
}

type Phase = 'header' | 'data' | 'padding' | 'second-zero' | 'after-end';

/**
 * Incremental ustar reader: push decompressed chunks as they arrive, then finish(). A member's
 * size is checked against the limits from its header, before any of its data is accepted, so
 * memory never exceeds the member byte limit plus one header block; nothing but regular-file
 * contents is kept (headers, padding and the end-of-archive zeros are checked and dropped).
 */
export class TarStream {
  private readonly files: TarFile[] = [];
  private readonly seen = new Set<string>();
  private readonly block = new Uint8Array(BLOCK);
  private blockFill = 0;
  private phase: Phase = 'header';
  /** Offset in the archive of the next byte pushed. */
  private off = 0;
  private members = 0;
  private total = 0;
  private path = '';
  private data: Uint8Array | null = null;
  /** Bytes left in the current member's data or padding. */
  private left = 0;
  private padding = 0;

  constructor(private readonly o: ReadTarOptions) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'data') {
        const n = Math.min(this.left, chunk.length - i);
        this.data?.set(chunk.subarray(i, i + n), this.data.length - this.left);
        this.left -= n;
        i += n;
        this.off += n;
        if (this.left === 0) this.endData();
        continue;
      }
      if (this.phase === 'padding' || this.phase === 'after-end') {
        const n = this.phase === 'padding' ? Math.min(this.left, chunk.length - i) : chunk.length - i;
        if (!allZero(chunk.subarray(i, i + n))) {
          if (this.phase === 'padding') throw new PackError('ERR_PACK_MALFORMED', 'non-zero padding after member data', this.path);
          throw new PackError('ERR_PACK_MALFORMED', 'data after the end of the archive', '<tar>');
        }
        i += n;
        this.off += n;
        if (this.phase === 'padding') {
          this.left -= n;
          if (this.left === 0) this.phase = 'header';
        }
        continue;
      }
      const n = Math.min(BLOCK - this.blockFill, chunk.length - i);
      this.block.set(chunk.subarray(i, i + n), this.blockFill);
      this.blockFill += n;
      i += n;
      if (this.blockFill < BLOCK) break;
      this.blockFill = 0;
      const at = this.off;
      this.off += BLOCK;
      if (this.phase === 'second-zero') {
        if (!allZero(this.block)) throw new PackError('ERR_PACK_MALFORMED', 'end of archive needs two zero blocks', '<tar>');
        this.phase = 'after-end';
      } else this.header(this.block, at);
    }
  }

  /** The regular files, once the whole archive has been pushed. */
  finish(): TarFile[] {
    if (this.phase === 'after-end') return this.files;
    if (this.phase === 'second-zero') throw new PackError('ERR_PACK_MALFORMED', 'end of archive needs two zero blocks', '<tar>');
    if (this.phase === 'data' || this.phase === 'padding') throw new PackError('ERR_PACK_MALFORMED', 'archive is truncated inside this member', this.path);
    throw new PackError('ERR_PACK_MALFORMED', 'archive ends without the end-of-archive blocks', '<tar>');
  }

  private endData(): void {
    this.left = this.padding;
    this.phase = this.padding > 0 ? 'padding' : 'header';
  }

  private header(h: Uint8Array, off: number): void {
    if (allZero(h)) {
      this.phase = 'second-zero';
      return;
    }
    const o = this.o;
    const at = `<tar header at byte ${off}>`;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (octal(h, 148, 8, 'checksum', at) !== sum) throw new PackError('ERR_PACK_MALFORMED', 'tar header checksum mismatch', at);
    const magic = field(h, 257, 6, 'magic', at);
    if (magic !== 'ustar' || h[263] !== 0x30 || h[264] !== 0x30) {
      throw new PackError('ERR_PACK_MALFORMED', 'not a POSIX ustar header (GNU and v7 formats are not accepted)', at);
    }
    const name = field(h, 0, NAME_LEN, 'name', at);
    const prefix = field(h, 345, PREFIX_LEN, 'prefix', at);
    const path = prefix ? `${prefix}/${name}` : name;
    const type = String.fromCharCode(h[156]!);
    const isFile = type === '0' || type === '\0';
    const isDir = type === '5';
    if (!isFile && !isDir) {
      throw new PackError('ERR_PACK_UNSAFE_ENTRY', `member is a ${TYPE_NAMES[type] ?? `type '${type}' entry`}; only regular files and directories are allowed`, path || at);
    }
    if (field(h, 157, 100, 'linkname', path || at) !== '') throw new PackError('ERR_PACK_UNSAFE_ENTRY', 'member has a link name', path);
    checkMemberPath(path, isDir);
    if (!o.accept(path, isDir)) throw new PackError('ERR_PACK_UNSAFE_PATH', 'member is outside the pack layout', path);
    const key = isDir ? path.replace(/\/$/, '') : path;
    if (this.seen.has(key)) throw new PackError('ERR_PACK_DUPLICATE_PATH', 'path appears twice in the archive', path);
    this.seen.add(key);
    if (++this.members > o.limits.maxEntries) throw new PackError('ERR_PACK_LIMIT', `more than ${o.limits.maxEntries} members`, path);
    const size = octal(h, 124, 12, 'size', path);
    if (isDir && size !== 0) throw new PackError('ERR_PACK_MALFORMED', 'directory member has a size', path);
    if (size > o.limits.maxFileBytes) throw new PackError('ERR_PACK_LIMIT', `member is ${size} bytes; the limit is ${o.limits.maxFileBytes}`, path);
    this.total += size;
    if (this.total > o.limits.maxTotalBytes) throw new PackError('ERR_PACK_LIMIT', `members total more than ${o.limits.maxTotalBytes} bytes`, path);
    this.path = path;
    // Within the limits just checked, so allocating the member up front is bounded too.
    this.data = new Uint8Array(size);
    if (isFile) this.files.push({ path, data: this.data });
    this.left = size;
    this.padding = Math.ceil(size / BLOCK) * BLOCK - size;
    this.phase = size > 0 ? 'data' : 'header';
  }
}

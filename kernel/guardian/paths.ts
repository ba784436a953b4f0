// Filesystem path scoping (docs/spec/policy-bundle.md §5.7): "under /workspace after
// normalisation". The normalisation is lexical (POSIX): `.`, `..` and repeated slashes are resolved
// on the text, never on a filesystem. Anything an executor, shell or library might read in a second
// way (NUL, control and format characters, backslashes, percent-encoding, Unicode slash and dot
// look-alikes) is refused outright rather than normalised, so the path the Guardian judges is the
// path the executor resolves.
import type { JsonValue } from './bundle-types.js';
import { valuesAt } from './destinations.js';

export const MAX_PATH_LENGTH = 4096;

export interface PathScope {
  /** RFC 6901 pointer into args ('*' fans out, an array at the end is checked element by element). */
  arg: string;
  /** Normalised absolute directories; the path must equal one of them or lie below it. */
  under: string[];
}

export type NormalisedPath = { readonly ok: true; readonly path: string; readonly segments: readonly string[] } | { readonly ok: false; readonly message: string };

/** Control (Cc), format (Cf: zero-width, bidi overrides, BOM), line/paragraph separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Characters some layer may treat as a separator or dot: backslash and Unicode look-alikes. */
const LOOKALIKES = /[\\\u2215\u2044\u29F8\u29F9\uFF0F\uFF3C\uFE68\u2216\uFF0E\u2024\uFE52\u3002\uFF61]/u;
/** Percent-encoding: a later decode would change the path (%2e%2e%2f is ../). */
const PERCENT = /%[0-9A-Fa-f]{2}/;

function describe(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Lexical POSIX normalisation of an absolute path, refusing anything ambiguous. */
export function normalisePath(value: unknown): NormalisedPath {
  if (typeof value !== 'string') return { ok: false, message: 'a path must be a string' };
  if (value.length === 0 || value.length > MAX_PATH_LENGTH) return { ok: false, message: `a path must have 1 to ${MAX_PATH_LENGTH} characters` };
  if (!value.isWellFormed()) return { ok: false, message: 'path contains a lone surrogate' };
  const invisible = INVISIBLE.exec(value);
  if (invisible) return { ok: false, message: `path contains the control or format character ${describe(invisible[0])}` };
  const look = LOOKALIKES.exec(value);
  if (look) return { ok: false, message: `path contains ${describe(look[0])} (a backslash or a look-alike of / or .)` };
  if (PERCENT.test(value)) return { ok: false, message: 'path contains percent-encoding, which a later decode could turn into / or ..' };
  if (!value.startsWith('/')) return { ok: false, message: 'path must be absolute (start with /)' };
  const segments: string[] = [];
  for (const seg of value.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (segments.length === 0) return { ok: false, message: 'path climbs above / with ..' };
      segments.pop();
      continue;
    }
    segments.push(seg);
  }
  return { ok: true, path: `/${segments.join('/')}`, segments };
}

/** True when `path` equals `dir` or lies below it, compared segment by segment. */
export function within(path: readonly string[], dir: readonly string[]): boolean {
  return dir.length <= path.length && dir.every((s, i) => path[i] === s);
}

/** Why an `under` entry is not usable, or null: it must already be normalised. */
export function prefixProblem(prefix: string): string | null {
  const n = normalisePath(prefix);
  if (!n.ok) return n.message;
  return n.path === prefix ? null : `${JSON.stringify(prefix)} is not normalised (write ${JSON.stringify(n.path)})`;
}

export type PathCheck = { readonly ok: true } | { readonly ok: false; readonly reasonCode: 'PATH_UNSAFE' | 'PATH_OUTSIDE_SCOPE'; readonly message: string };

/** Every value at scope.arg must be a safe path within one of scope.under. */
export function checkPaths(args: JsonValue, scope: PathScope): PathCheck {
  const dirs = scope.under.map((u) => normalisePath(u)).flatMap((n) => (n.ok ? [n.segments] : []));
  for (const v of valuesAt(args, scope.arg).flatMap((x) => (Array.isArray(x) ? x : [x]))) {
    const n = normalisePath(v);
    if (!n.ok) return { ok: false, reasonCode: 'PATH_UNSAFE', message: `path at ${scope.arg}: ${n.message}` };
    if (!dirs.some((d) => within(n.segments, d))) return { ok: false, reasonCode: 'PATH_OUTSIDE_SCOPE', message: `path ${JSON.stringify(n.path)} at ${scope.arg} is not under ${scope.under.join(', ')}` };
  }
  return { ok: true };
}

/** CEL `pathUnder(path, dir)`: an unsafe path or dir is an evaluation error (fail closed). */
export function pathUnder(path: string, dir: string): boolean {
  const p = normalisePath(path);
  if (!p.ok) throw new Error(`pathUnder: ${p.message}`);
  const d = normalisePath(dir);
  if (!d.ok) throw new Error(`pathUnder: directory ${d.message}`);
  return within(p.segments, d.segments);
}

/** CEL `normalizePath(path)`: the normalised text, or an evaluation error. */
export function normalisedText(path: string): string {
  const p = normalisePath(path);
  if (!p.ok) throw new Error(`normalizePath: ${p.message}`);
  return p.path;
}

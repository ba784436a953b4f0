// Reading the mounted bundle and its signature. The fingerprint covers both files' bytes, so a
// poll that finds nothing new does no work, and a swap that changes either file is noticed.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseBundleText, type BundleTrustCode, type PolicySource } from '../../kernel/guardian/index.js';

export interface BundleFiles {
  bundle: string;
  signature: string;
}

export type BundleRead =
  | { ok: true; fingerprint: string; source: PolicySource }
  | { ok: false; fingerprint: string; code: BundleTrustCode; message: string };

/** The files' bytes are those already seen: nothing was parsed. */
export interface BundleUnchanged {
  ok: 'unchanged';
  fingerprint: string;
}

type Read = { data: Buffer; error: null } | { data: null; error: NodeJS.ErrnoException };

async function bytes(path: string): Promise<Read> {
  try {
    return { data: await readFile(path), error: null };
  } catch (e) {
    return { data: null, error: e as NodeJS.ErrnoException };
  }
}

/**
 * Reads both files; parses them only when their fingerprint differs from `known`, so the periodic
 * poll costs two reads and a hash, not a YAML parse (about 18 ms of main-thread time per poll).
 */
export async function readBundleFiles(f: BundleFiles): Promise<BundleRead>;
export async function readBundleFiles(f: BundleFiles, known: string | null): Promise<BundleRead | BundleUnchanged>;
export async function readBundleFiles(f: BundleFiles, known: string | null = null): Promise<BundleRead | BundleUnchanged> {
  const [b, s] = await Promise.all([bytes(f.bundle), bytes(f.signature)]);
  const h = createHash('sha256');
  for (const x of [b, s]) {
    if (x.data !== null) h.update(`${x.data.length}:`).update(x.data);
    else h.update(`error:${x.error.code ?? x.error.message};`);
  }
  const fingerprint = h.digest('hex');
  if (fingerprint === known) return { ok: 'unchanged', fingerprint };
  if (b.data === null) return { ok: false, fingerprint, code: 'BUNDLE_MISSING', message: `cannot read bundle ${f.bundle}: ${b.error.message}` };
  if (s.data === null) return { ok: false, fingerprint, code: 'BUNDLE_UNSIGNED', message: `cannot read bundle signature ${f.signature}: ${s.error.message}` };
  let bundle: unknown;
  try {
    bundle = parseBundleText(b.data.toString('utf8'));
  } catch (e) {
    return { ok: false, fingerprint, code: 'BUNDLE_INVALID', message: `bundle ${f.bundle}: ${(e as Error).message}` };
  }
  let signature: unknown;
  try {
    signature = JSON.parse(s.data.toString('utf8'));
  } catch (e) {
    return { ok: false, fingerprint, code: 'SIGNATURE_INVALID', message: `bundle signature ${f.signature} is not JSON: ${(e as Error).message}` };
  }
  return { ok: true, fingerprint, source: { bundle, signature } };
}

// Reading bundle, overlay and signature files for the `helmctl bundle` commands. A file that
// cannot be read is a usage-level failure (exit 2); one that does not parse is the command's
// verdict (exit 1), so the caller decides which.
import { readFile } from 'node:fs/promises';
import { BundleError, parseBundleText } from '../../../kernel/guardian/index.js';
import { CliError } from '../../io.js';

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`, 'ERR_CLI_IO');
  }
}

export type Parsed = { ok: true; doc: unknown } | { ok: false; code: string; message: string };

/** A bundle or overlay document (YAML 1.2 or JSON) in the signed-payload profile. */
export async function readBundle(path: string): Promise<Parsed> {
  const text = await readText(path, 'bundle');
  try {
    return { ok: true, doc: parseBundleText(text) };
  } catch (e) {
    if (e instanceof BundleError) return { ok: false, code: e.code, message: `${path}: ${e.message}` };
    throw e;
  }
}

/** A detached signature file: JSON {contentHash, signature, signerKeyId}. */
export async function readSignature(path: string): Promise<unknown> {
  const text = await readText(path, 'signature');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(`signature ${path} is not JSON: ${(e as Error).message}`, 'ERR_CLI_SIGNATURE');
  }
}

/** Pretty JSON with a final newline: the form the examples keep in git. */
export function pretty(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

// Reading key files written by `helmctl keygen`: FILE holds the PRIVATE+KEY line, FILE.pub the vkey.
import { readFile, writeFile, chmod } from 'node:fs/promises';
import { parseVerifierKey, type VerifierKey } from '../kernel/crypto/keys.js';
import { nodeSigner } from '../kernel/crypto/node.js';
import { signingKeyFromText, type SigningKey } from '../kernel/crypto/signing-key.js';
import { CliError } from './io.js';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`, 'ERR_CLI_IO');
  }
}

export async function loadSigningKey(path: string, what: string): Promise<SigningKey> {
  const text = await readText(path, what);
  try {
    return signingKeyFromText(text.trim(), nodeSigner);
  } catch (e) {
    throw new CliError(`${what} ${path}: ${(e as Error).message}`, 'ERR_CLI_KEY');
  }
}

/** A vkey given inline, or a file holding a vkey (FILE.pub) or a private key line. */
export async function loadVerifierKey(arg: string, what: string): Promise<VerifierKey> {
  try {
    return parseVerifierKey(arg);
  } catch {
    // not an inline vkey: try it as a file
  }
  const text = (await readText(arg, what)).trim();
  try {
    return text.startsWith('PRIVATE+KEY+') ? signingKeyFromText(text, nodeSigner).verifier : parseVerifierKey(text);
  } catch (e) {
    throw new CliError(`${what} ${arg}: ${(e as Error).message}`, 'ERR_CLI_KEY');
  }
}

/** Writes a file, refusing to replace an existing one unless `force`. */
export async function writeNew(path: string, data: string | Uint8Array, mode: number, force: boolean): Promise<void> {
  try {
    await writeFile(path, data, { mode, flag: force ? 'w' : 'wx' });
    // writeFile's mode applies only when it creates the file.
    if (force) await chmod(path, mode);
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') throw new CliError(`${path} already exists (use --force to overwrite)`, 'ERR_CLI_EXISTS');
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`, 'ERR_CLI_IO');
  }
}

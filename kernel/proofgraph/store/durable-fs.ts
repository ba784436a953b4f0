// fsync discipline: a new file or directory entry is durable only once its parent directory has
// been fsync'ed, and file contents only once the file has.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errnoCode, ioError } from './errors.js';

export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw ioError('fsync directory', dir, err);
  }
}

/** mkdir -p, then fsync the parent of every directory it created. */
export async function mkdirDurable(dir: string): Promise<void> {
  let top: string | undefined;
  try {
    top = await mkdir(dir, { recursive: true });
  } catch (err) {
    throw ioError('mkdir', dir, err);
  }
  if (top === undefined) return;
  const stop = dirname(resolve(top));
  for (let d = resolve(dir); d !== stop; d = dirname(d)) await fsyncDir(dirname(d));
}

/** Replaces `path` atomically: readers see the old contents or the new, never a mix. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw ioError('write', path, err);
  }
  await fsyncDir(dirname(path));
}

/** Cuts a file back to `length` bytes, durably. */
export async function truncateDurable(path: string, length: number): Promise<void> {
  try {
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(length);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw ioError('truncate', path, err);
  }
}

/** A small file's text, or null when it does not exist; any other failure is a StoreError. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw ioError('read', path, err);
  }
}

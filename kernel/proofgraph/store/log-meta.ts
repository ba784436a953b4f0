// <dir>/LOG names the log a directory holds. It is written once, atomically, when the log is created.
import { join } from 'node:path';
import { corrupt } from './errors.js';
import { LOG_FILE, LOG_FORMAT } from './format.js';
import { readTextIfExists, writeFileAtomic } from './durable-fs.js';

export interface LogMeta {
  origin: string;
  format: number;
}

/** The LOG file of `dir`, or null when there is none. */
export async function readLogMeta(dir: string): Promise<LogMeta | null> {
  const path = join(dir, LOG_FILE);
  const text = await readTextIfExists(path);
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw corrupt(path, 0, 'LOG is not valid JSON');
  }
  const { origin, format } = (v ?? {}) as Partial<LogMeta>;
  if (typeof origin !== 'string' || origin === '') throw corrupt(path, 0, 'LOG has no origin string');
  if (format !== LOG_FORMAT) throw corrupt(path, 0, `unsupported store format ${JSON.stringify(format)} (this code reads format ${LOG_FORMAT})`);
  return { origin, format };
}

export async function createLogMeta(dir: string, origin: string): Promise<LogMeta> {
  const meta = { origin, format: LOG_FORMAT };
  await writeFileAtomic(join(dir, LOG_FILE), `${JSON.stringify(meta)}\n`);
  return meta;
}

// One writer per log directory. Node has no flock(2), so this is a postmaster.pid-style lock file
// created with O_EXCL; a lock left by a crashed writer is recognised as stale only when that is
// certain (same host and boot, and the pid is gone or now names another process).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreError, errnoCode, ioError } from './errors.js';
import { LOCK_FILE } from './format.js';

export interface LockHolder {
  pid: number;
  hostname: string;
  bootId: string | null;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): distinguishes a reused pid. */
  startTime: string | null;
  token: string;
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function processStartTime(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

export function currentBootId(): string | null {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim() || null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(v.pid) || typeof v.hostname !== 'string' || typeof v.token !== 'string') return null;
    return {
      pid: v.pid!,
      hostname: v.hostname,
      bootId: typeof v.bootId === 'string' ? v.bootId : null,
      startTime: typeof v.startTime === 'string' ? v.startTime : null,
      token: v.token,
    };
  } catch {
    return null;
  }
}

/** Why the lock is (or may be) in use, or null when its holder is certainly gone. */
function liveReason(holder: LockHolder | null, me: LockHolder): string | null {
  if (!holder) return 'the lock file is unreadable or incomplete, so its holder cannot be identified';
  const who = `pid ${holder.pid} on host ${holder.hostname}`;
  if (holder.hostname !== me.hostname) return `it is held by ${who}, another host, whose processes cannot be checked from here`;
  if (holder.bootId !== me.bootId) return `it is held by ${who} from another boot (boot id ${holder.bootId ?? 'unknown'}) or another machine with the same host name`;
  if (!pidAlive(holder.pid)) return null;
  const now = processStartTime(holder.pid);
  if (holder.startTime !== null && now !== null && now !== holder.startTime) return null;
  return `it is held by ${who}, which is running`;
}

export class WriterLock {
  private constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  static async acquire(dir: string): Promise<WriterLock> {
    const path = join(dir, LOCK_FILE);
    const me: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      bootId: currentBootId(),
      startTime: processStartTime(process.pid),
      token: randomUUID(),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await tryCreate(path, me)) return new WriterLock(path, me);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw ioError('read', path, err);
      }
      const holder = parseHolder(text);
      const reason = liveReason(holder, me);
      if (reason !== null) {
        throw new StoreError(
          'ERR_STORE_LOCKED',
          `${dir} is locked by another log writer: ${reason}. Stop that writer first; if you are certain ` +
            `no writer uses this directory any more (for example the host rebooted or the pod moved), delete ${path} and retry.`,
          { dir, lockFile: path, holder, reason },
        );
      }
      await setAsideStale(path, text, me.token);
    }
    throw new StoreError('ERR_STORE_LOCKED', `${dir}: the lock kept changing while taking over a stale lock; another writer is starting`, { dir, lockFile: path });
  }

  /** Removes the lock file only while it still carries our token (it may have been taken over). */
  async release(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw ioError('read', this.path, err);
    }
    if (parseHolder(text)?.token !== this.holder.token) return false;
    try {
      await rm(this.path);
    } catch (err) {
      throw ioError('remove', this.path, err);
    }
    return true;
  }
}

async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw ioError('create', path, err);
  }
  try {
    await fh.writeFile(`${JSON.stringify(me)}\n`);
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw ioError('write', path, err);
  }
  return true;
}

/**
 * Removes a stale lock without a check-then-delete race: rename it aside (atomic, so only one
 * contender gets it), and if what was moved is not the stale lock we judged, put it back.
 */
async function setAsideStale(path: string, staleText: string, token: string): Promise<void> {
  const aside = `${path}.stale-${token}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw ioError('rename', path, err);
  }
  try {
    const moved = await readFile(aside, 'utf8');
    if (moved !== staleText) await link(aside, path).catch(() => undefined);
  } finally {
    await rm(aside, { force: true });
  }
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LogWriter } from '../../kernel/proofgraph/store/index.js';
import { currentBootId, processStartTime } from '../../kernel/proofgraph/store/lock.js';
import { storeError, useTempDir } from './support.js';

const ORIGIN = 'helm.test/lock';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  expect(r.status).toBe(0);
  return r.pid!;
}

function writeLock(dir: string, fields: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  const lock = { pid: process.pid, hostname: hostname(), bootId: currentBootId(), startTime: processStartTime(process.pid), token: 'foreign-token', ...fields };
  writeFileSync(join(dir, 'LOCK'), JSON.stringify(lock));
}

function lockToken(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')) as { token: string }).token;
}

describe('writer lock', () => {
  const tmp = useTempDir();

  it('refuses a second writer while the first is open, and allows one after close', async () => {
    const dir = join(tmp(), 'w');
    const first = await LogWriter.open({ dir, origin: ORIGIN });
    const lock = JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, hostname: hostname(), bootId: currentBootId(), startTime: processStartTime(process.pid) });
    expect(typeof lock.token).toBe('string');

    const err = await storeError(LogWriter.open({ dir, origin: ORIGIN }));
    expect(err.code).toBe('ERR_STORE_LOCKED');
    expect(err.message).toContain(`pid ${process.pid} on host ${hostname()}, which is running`);
    expect(err.message).toContain(join(dir, 'LOCK'));
    expect(lockToken(dir)).toBe(lock.token); // the refused open left the lock alone

    await first.append(new Uint8Array([1]));
    await first.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    const second = await LogWriter.open({ dir, origin: ORIGIN });
    expect(second.size).toBe(1);
    await second.close();
  });

  it('takes over a stale lock left by a dead process on this host and boot', async () => {
    const dir = join(tmp(), 'w');
    writeLock(dir, { pid: deadPid(), startTime: '12345' });
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    expect(lockToken(dir)).not.toBe('foreign-token');
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid).toBe(process.pid);
    await w.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('takes over a lock whose pid now belongs to a different process (pid reuse)', async () => {
    const dir = join(tmp(), 'w');
    expect(processStartTime(process.pid)).not.toBeNull();
    writeLock(dir, { pid: process.pid, startTime: 'not-our-start-time' });
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    expect(lockToken(dir)).not.toBe('foreign-token');
    await w.close();
  });

  it('refuses a lock written on another host, even if the pid is not alive here', async () => {
    const dir = join(tmp(), 'w');
    writeLock(dir, { pid: deadPid(), hostname: 'some-other-host' });
    const err = await storeError(LogWriter.open({ dir, origin: ORIGIN }));
    expect(err.code).toBe('ERR_STORE_LOCKED');
    expect(err.message).toMatch(/held by pid \d+ on host some-other-host, another host/);
    expect(err.message).toContain(`delete ${join(dir, 'LOCK')}`);
    expect(err.details).toMatchObject({ holder: { hostname: 'some-other-host' } });
    expect(lockToken(dir)).toBe('foreign-token');
  });

  it('refuses a lock from another boot of this host', async () => {
    const dir = join(tmp(), 'w');
    writeLock(dir, { pid: deadPid(), bootId: '00000000-0000-0000-0000-000000000000' });
    const err = await storeError(LogWriter.open({ dir, origin: ORIGIN }));
    expect(err.code).toBe('ERR_STORE_LOCKED');
    expect(err.message).toContain('from another boot');
  });

  it('refuses an unreadable lock file', async () => {
    const dir = join(tmp(), 'w');
    mkdirSync(dir);
    writeFileSync(join(dir, 'LOCK'), '');
    const err = await storeError(LogWriter.open({ dir, origin: ORIGIN }));
    expect(err.code).toBe('ERR_STORE_LOCKED');
    expect(err.message).toContain('unreadable or incomplete');
  });

  it('close leaves a lock that is no longer ours', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    writeLock(dir, { token: 'taken-over' });
    await w.close();
    expect(lockToken(dir)).toBe('taken-over');
  });
});

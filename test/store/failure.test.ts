import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LogWriter, readLog, segmentFileName } from '../../kernel/proofgraph/store/index.js';
import { storeError, useTempDir } from './support.js';

const ORIGIN = 'helm.test/failure';
const ENTRY = new Uint8Array(100).fill(1);
/** Exactly three 100-byte entries per segment. */
const SEGMENT_MAX = 16 + 3 * (36 + 100);

describe('a failed writer fails closed', () => {
  const tmp = useTempDir();

  it('when a new segment cannot be created: the batch and every later append reject', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(await Promise.all([0, 1, 2].map(() => w.append(ENTRY)))).toEqual([0, 1, 2]);
    // Something in the way of the next segment file: creating it fails with EEXIST.
    mkdirSync(join(dir, segmentFileName(3)));

    const batch = [w.append(ENTRY), w.append(ENTRY)];
    for (const p of batch) {
      const err = await storeError(p);
      expect(err.code).toBe('ERR_STORE_FAILED');
      expect(err.message).toContain(segmentFileName(3));
    }
    expect(w.failed?.code).toBe('ERR_STORE_FAILED');
    expect(w.durableSize).toBe(3);
    expect((await storeError(w.append(ENTRY))).code).toBe('ERR_STORE_FAILED');
    expect((await storeError(w.appendCheckpoint('cp'))).code).toBe('ERR_STORE_FAILED');
    expect((await storeError(w.flush())).code).toBe('ERR_STORE_FAILED');
    expect((await storeError(w.close())).code).toBe('ERR_STORE_FAILED');

    // close() released the lock even though it rejected; what was acknowledged is there.
    rmdirSync(join(dir, segmentFileName(3)));
    const log = await readLog(dir);
    expect(log.entries).toHaveLength(3);
    expect(log.tornTail).toBeNull();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('when its segment file handle is closed underneath it', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    expect(await w.append(ENTRY)).toBe(0);
    // Reaches into the writer on purpose: there is no other way to make a write fail mid-run.
    const active = (w as unknown as { active: { fh: FileHandle } }).active;
    await active.fh.close();

    const pending = Array.from({ length: 20 }, () => w.append(ENTRY));
    const errors = await Promise.all(pending.map(storeError));
    expect(errors.map((e) => e.code)).toEqual(Array(20).fill('ERR_STORE_FAILED'));
    expect(w.failed!.details).toMatchObject({ durableSize: 1 });
    expect(w.size).toBe(21);
    expect(w.durableSize).toBe(1);
    expect((await storeError(w.append(ENTRY))).code).toBe('ERR_STORE_FAILED');
    await storeError(w.close());

    const reopened = await LogWriter.open({ dir, origin: ORIGIN });
    expect(reopened.size).toBe(1);
    await reopened.close();
  });
});

import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LogWriter, readLog } from '../../kernel/proofgraph/store/index.js';
import { entry, useTempDir } from './support.js';

const ORIGIN = 'helm.test/durability';

/**
 * Counts fdatasync completions on every FileHandle in this process, so a test can check that a
 * datasync finished between an append call and its acknowledgement.
 */
async function spyOnDatasync(scratch: string): Promise<{ completed: () => number; restore: () => void }> {
  const fh = await open(join(scratch, 'probe'), 'w');
  const proto = Object.getPrototypeOf(fh) as FileHandle;
  await fh.close();
  const original = proto.datasync;
  let completed = 0;
  proto.datasync = async function (this: FileHandle) {
    await original.call(this);
    completed++;
  };
  return { completed: () => completed, restore: () => void (proto.datasync = original) };
}

describe('durability contract', () => {
  const tmp = useTempDir();

  it('never resolves an append before the datasync of its batch', async () => {
    const spy = await spyOnDatasync(tmp());
    try {
      const w = await LogWriter.open({ dir: join(tmp(), 'w'), origin: ORIGIN, segmentMaxBytes: 16 * 1024 });
      const checks: Promise<void>[] = [];
      for (let wave = 0; wave < 20; wave++) {
        for (let i = 0; i < 100; i++) {
          const syncsAtCall = spy.completed();
          const p = w.append(entry(wave * 100 + i));
          checks.push(
            p.then((index) => {
              expect(w.durableSize).toBeGreaterThan(index);
              expect(spy.completed()).toBeGreaterThan(syncsAtCall);
            }),
          );
        }
        // Let some batches complete between waves, so appends also arrive while one is in flight.
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(checks);
      expect(checks).toHaveLength(2000);
      expect(w.durableSize).toBe(2000);
      await w.close();
    } finally {
      spy.restore();
    }
  });

  it('batches concurrent appends into far fewer datasyncs', async () => {
    const spy = await spyOnDatasync(tmp());
    try {
      const w = await LogWriter.open({ dir: join(tmp(), 'w'), origin: ORIGIN });
      const before = spy.completed();
      const n = 5000;
      const indexes = await Promise.all(Array.from({ length: n }, (_, i) => w.append(entry(i))));
      expect(indexes).toEqual(Array.from({ length: n }, (_, i) => i));
      const { appends, batches, syncs } = w.stats;
      expect(appends).toBe(n);
      expect(batches).toBeGreaterThanOrEqual(1);
      expect(batches).toBeLessThan(n / 50);
      expect(spy.completed() - before).toBe(syncs - 1); // minus the first segment's header sync at open
      expect(syncs).toBeLessThan(n / 50);
      await w.close();
    } finally {
      spy.restore();
    }
  });

  it('flush and close wait for everything accepted', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    for (let i = 0; i < 300; i++) void w.append(entry(i));
    void w.appendCheckpoint('cp');
    expect(w.durableSize).toBe(0);
    await w.flush();
    expect(w.durableSize).toBe(300);
    expect(w.checkpoints()).toEqual(['cp']);
    for (let i = 300; i < 600; i++) void w.append(entry(i));
    await w.close();
    expect(w.durableSize).toBe(600);
    const log = await readLog(dir);
    expect(log.entries).toHaveLength(600);
    expect(log.checkpoints).toEqual(['cp']);
  });
});

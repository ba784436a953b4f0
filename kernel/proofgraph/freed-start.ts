// A start on a log freed below a base (docs/spec/store.md §10) rebuilds its state from the start-up
// snapshot (§9), which covers every freed entry. Without a snapshot it can use, the state before the
// base cannot be rebuilt: refuse with the cause, instead of failing on a read of a freed entry.
import { StoreError } from './store/errors.js';
import { readLogBase } from './store/log-base.js';
import type { LoadedSnapshot } from './start-snapshot.js';

export async function refuseFreedStart(dir: string, origin: string, snap: LoadedSnapshot): Promise<void> {
  const base = await readLogBase(dir, origin);
  const from = snap.snapshot?.size ?? 0;
  if (!base || from >= base.base) return;
  const why = snap.snapshot
    ? `the start-up snapshot covers only ${from} entries`
    : snap.rejected
      ? `the start-up snapshot was refused (${snap.rejected})`
      : 'there is no start-up snapshot, or start-up snapshots are off (HELM_START_SNAPSHOT=false)';
  throw new StoreError(
    'ERR_STORE_FREED',
    `${dir}: entries 0..${base.base - 1} of ${origin} were freed from this volume after the fleet collector cosigned them (log-base.json), and a start needs a start-up snapshot at or after index ${base.base} to rebuild its state: ${why}. Start with start-up snapshots on and the node key that signed the snapshot; the freed entries are in the fleet bucket (helmctl export --bucket …)`,
    { dir, base: base.base, snapshot: from },
  );
}

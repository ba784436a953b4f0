// Which writers and which leaves a fleet pack for (namespace, [from, to]) must carry, computed from
// the fleet log alone, so the exporter and the verifier agree (docs/spec/fleet-pack.md §3).
// Times are the collector's (ms since the epoch) on the fleet leaves: a writer belongs to the
// window if it was opened by `to` and not closed before `from`; its leaves run from the size
// cosigned last before `from` to the first size cosigned after `to` (or the last one cosigned).
import type { FleetEvent } from './events.js';

export interface WriterWindow {
  origin: string;
  /** First leaf of the window: the size cosigned last before `from` (0 if none). */
  from: number;
  /** End of the window (exclusive): the size of the writer checkpoint the pack proves against. */
  to: number;
  /** Index in the fleet log of the CHECKPOINT leaf for `to`; null when nothing was cosigned yet (a reported gap). */
  checkpointLeaf: number | null;
  closed: boolean;
}

export function selectWindows(events: readonly FleetEvent[], namespace: string, from: number, to: number): WriterWindow[] {
  const open = new Map<string, number>();
  for (const e of events) if (e.kind === 'WRITER_OPEN' && e.namespace === namespace && e.time <= to && !open.has(e.origin)) open.set(e.origin, e.time);
  const out: WriterWindow[] = [];
  for (const origin of [...open.keys()].sort()) {
    let closedAt: number | null = null;
    let start = 0;
    let end: { size: number; leaf: number } | null = null;
    let afterTo = false;
    events.forEach((e, i) => {
      if (e.origin !== origin) return;
      if (e.kind === 'WRITER_CLOSED') closedAt ??= e.time;
      if (e.kind !== 'CHECKPOINT') return;
      if (e.time < from) start = Math.max(start, e.size);
      if (!afterTo) end = { size: e.size, leaf: i };
      if (e.time > to) afterTo = true;
    });
    if (closedAt !== null && closedAt < from) continue;
    const last = end as { size: number; leaf: number } | null;
    out.push({ origin, from: last ? Math.min(start, last.size) : 0, to: last?.size ?? 0, checkpointLeaf: last?.leaf ?? null, closed: closedAt !== null });
  }
  return out;
}

// Append throughput and acknowledgement latency of the ProofGraph store with one writer:
// `concurrency` loops each await one append at a time, so up to that many wait on a group commit.
// Run directly: node --import tsx bench/store-append.ts [entries] [entryBytes] [concurrency]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LogWriter } from '../kernel/proofgraph/store/index.js';

export interface StoreAppendResult {
  appends: number;
  seconds: number;
  appendsPerSec: number;
  waitP50Ms: number;
  waitP99Ms: number;
  batches: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export async function benchStoreAppend(opts: { entries?: number; entryBytes?: number; concurrency?: number } = {}): Promise<StoreAppendResult> {
  const entries = opts.entries ?? 100_000;
  const entryBytes = opts.entryBytes ?? 1024;
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 32, entries));
  const root = await mkdtemp(join(tmpdir(), 'helm-bench-store-'));
  try {
    const writer = await LogWriter.open({ dir: join(root, 'writer'), origin: 'bench.helm.local/store' });
    // A small pool of distinct payloads: the writer copies each entry, so reuse does not matter.
    const pool = Array.from({ length: 256 }, () => randomBytes(entryBytes));
    const waits = new Float64Array(entries);
    let next = 0;
    const loop = async () => {
      for (let i = next++; i < entries; i = next++) {
        const t0 = process.hrtime.bigint();
        await writer.append(pool[i & 255]!);
        waits[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      }
    };
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, loop));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const { batches } = writer.stats;
    await writer.close();
    waits.sort();
    return {
      appends: entries,
      seconds,
      appendsPerSec: Math.round(entries / seconds),
      waitP50Ms: percentile(waits, 0.5),
      waitP99Ms: percentile(waits, 0.99),
      batches,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [entries, entryBytes, concurrency] = process.argv.slice(2).map(Number);
  const result = await benchStoreAppend({ entries, entryBytes, concurrency });
  console.log(JSON.stringify(result));
}

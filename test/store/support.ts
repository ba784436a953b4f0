// Shared helpers for the store tests: throwaway directories and deterministic entries.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '../../kernel/proofgraph/store/index.js';

/** A fresh temp directory per test, removed afterwards. Call inside a describe block. */
export function useTempDir(prefix = 'helm-store-'): () => string {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

const enc = new TextEncoder();
/** Distinct, recognisable entries of varying length. */
export function entry(i: number, pad = i % 97): Uint8Array {
  return enc.encode(`{"entry":${i},"pad":"${'x'.repeat(pad)}"}`);
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Awaits `p` and returns the StoreError it rejects with (fails the test if it resolves). */
export async function storeError(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StoreError) return err;
    throw err;
  }
  throw new Error('expected a StoreError rejection, but the promise resolved');
}

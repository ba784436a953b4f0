// ../shared holds third-party test vectors (CI always has it). In a user's clone it may be absent:
// then these suites say so and skip instead of failing.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = resolve(process.env.HELM_SHARED_DIR ?? join(repoRoot, '..', 'shared'));
export const vectorsDir = join(sharedDir, 'vectors');
export const haveVectors = existsSync(vectorsDir);

if (!haveVectors) {
  console.warn(`[helm] ${vectorsDir} not found: third-party vector suites are skipped (set HELM_SHARED_DIR)`);
}

/** describe() when ../shared/vectors exists, otherwise a skipped suite that says why. */
export const describeWithVectors: jest.Describe = haveVectors ? describe : (describe.skip as jest.Describe);

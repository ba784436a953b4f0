// L3-BUNDLE-COMPOSITION: the runner composes the kit's bundle with the conformance overlay
// (bundle.ts, as `helmctl bundle compose` does), signs the result with the kit's trusted signer
// and swaps it into the bundle files the sidecar watches. Once its digest is in force, the
// overlay's DENY rule and its layer-1 requirement must narrow the base while calls both layers
// permit stay allowed; then the original bundle is put back and the base alone decides again.
import { readFile } from 'node:fs/promises';
import { nodeSuite } from '../kernel/crypto/node.js';
import { composeBundles } from '../kernel/guardian/index.js';
import { conformanceOverlay, OVERLAY_ECHO_MAX } from './bundle.js';
import { waitFor } from './checks-bundle-trust.js';
import { executedTimes, expectRest, type Failures } from './expect.js';
import { writeSignedBundle } from './kit.js';
import { newId, type Target } from './target.js';

const longText = (n: number) => newId('long').padEnd(n + 1, 'x');

export async function checkBundleComposition(t: Target): Promise<Failures> {
  const f: Failures = [];
  const p = t.kit.paths;
  const original = JSON.parse(await readFile(p.bundle, 'utf8')) as unknown;
  const c = composeBundles(original, [conformanceOverlay()], nodeSuite);
  if (!c.ok) return [`the runner could not compose the kit's bundle with its overlay: ${c.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`];
  try {
    await writeSignedBundle(p, c.bundle, p.signerKey);
    const b = await waitFor(t, (s) => s.digest === c.contentHash);
    if (b.digest !== c.contentHash) return [`the composed bundle ${c.contentHash} did not come into force (/readyz shows ${String(b.digest)}, rejected ${JSON.stringify(b.rejected ?? null)})`];
    await executedTimes(f, t, 'echo', 1, 'composed: conf__echo within both layers', async () => {
      expectRest(f, 'composed: conf__echo with a short text', await t.execute('conf__echo', { text: newId('s') }), { status: 200, verdict: 'ALLOW', reasonCode: 'ALLOWED' });
    });
    await executedTimes(f, t, 'echo', 0, 'composed: conf__echo breaking the overlay requirement', async () => {
      expectRest(f, `composed: conf__echo with more than ${OVERLAY_ECHO_MAX} characters (the overlay's layer-1 requirement)`, await t.execute('conf__echo', { text: longText(OVERLAY_ECHO_MAX) }), { verdict: 'DENY', reasonCode: 'MISSING_REQUIREMENT' });
    });
    await executedTimes(f, t, 'query', 0, 'composed: conf__query on customers', async () => {
      expectRest(f, "composed: conf__query on customers (the overlay's DENY rule)", await t.execute('conf__query', { table: 'customers', filter: newId('q') }), { verdict: 'DENY', reasonCode: 'POLICY_VIOLATION' });
    });
    expectRest(f, 'composed: conf__query on orders (the base allows, the overlay does not object)', await t.execute('conf__query', { table: 'orders', filter: newId('q') }), { status: 200, verdict: 'ALLOW' });
  } finally {
    await writeSignedBundle(p, original, p.signerKey);
  }
  const back = await waitFor(t, (s) => s.digest === t.kit.manifest.bundleDigest);
  if (back.digest !== t.kit.manifest.bundleDigest) return [...f, `after restoring the original bundle files the digest in force is ${String(back.digest)}, not the kit's ${t.kit.manifest.bundleDigest}`];
  expectRest(f, 'the base again: conf__echo with a long text', await t.execute('conf__echo', { text: longText(OVERLAY_ECHO_MAX) }), { status: 200, verdict: 'ALLOW' });
  return f;
}

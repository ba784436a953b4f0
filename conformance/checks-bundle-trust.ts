// L3-BUNDLE-TRUST: the runner swaps the bundle files the sidecar watches (the kit's) for the same
// policy signed by an untrusted signer, then by a revoked one. Each must be rejected with its code
// while the verified bundle stays in force; then the original files are put back.
import { readFile } from 'node:fs/promises';
import { expectRest, type Failures } from './expect.js';
import { writeSignedBundle } from './kit.js';
import type { Target } from './target.js';

export interface BundleCheck {
  digest?: string;
  rejected?: { code?: string } | null;
}

export async function bundleState(t: Target): Promise<BundleCheck> {
  const r = await t.admin('/readyz');
  return ((r.body.checks as { bundle?: BundleCheck } | undefined)?.bundle ?? {}) as BundleCheck;
}

export async function waitFor(t: Target, pred: (b: BundleCheck) => boolean, ms = 10_000): Promise<BundleCheck> {
  const t0 = Date.now();
  let b = await bundleState(t);
  while (!pred(b) && Date.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 100));
    b = await bundleState(t);
  }
  return b;
}

export async function checkBundleTrust(t: Target): Promise<Failures> {
  const f: Failures = [];
  const p = t.kit.paths;
  const inForce = (await bundleState(t)).digest;
  if (inForce !== t.kit.manifest.bundleDigest) f.push(`the bundle in force is ${String(inForce)}, not the kit's ${t.kit.manifest.bundleDigest}`);
  const original = JSON.parse(await readFile(p.bundle, 'utf8')) as { metadata: { version: string } };
  const changed = { ...original, metadata: { ...original.metadata, version: `${original.metadata.version}-tampered` } };
  try {
    for (const [signer, code] of [
      [p.untrustedSignerKey, 'SIGNER_UNTRUSTED'],
      [p.revokedSignerKey, 'SIGNER_REVOKED'],
    ] as const) {
      await writeSignedBundle(p, changed, signer);
      const b = await waitFor(t, (s) => s.rejected?.code === code);
      if (b.rejected?.code !== code) f.push(`a bundle signed by the ${code === 'SIGNER_REVOKED' ? 'revoked' : 'untrusted'} signer: expected rejection ${code}, /readyz shows ${JSON.stringify(b.rejected ?? null)}`);
      if (b.digest !== inForce) f.push(`after a ${code} bundle the digest in force changed to ${String(b.digest)}`);
      expectRest(f, `a call while the ${code} bundle is on disk`, await t.execute('conf__echo', { text: 'still governed' }), { status: 200, verdict: 'ALLOW' });
    }
  } finally {
    await writeSignedBundle(p, original, p.signerKey);
  }
  const back = await waitFor(t, (s) => !s.rejected);
  if (back.rejected) f.push(`after restoring the original bundle files /readyz still shows ${JSON.stringify(back.rejected)}`);
  return f;
}

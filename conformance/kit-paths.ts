// Where a conformance kit keeps its files (helmctl conformance init --dir DIR).
import { join } from 'node:path';

export function kitPaths(dir: string) {
  const k = (n: string) => join(dir, 'keys', n);
  return {
    dir,
    manifest: join(dir, 'kit.json'),
    sidecarConfig: join(dir, 'sidecar.yaml'),
    trustPolicy: join(dir, 'trust-policy.txt'),
    bundle: join(dir, 'bundle', 'bundle.json'),
    bundleSignature: join(dir, 'bundle', 'bundle.signature.json'),
    bundleRoots: join(dir, 'bundle-signers.txt'),
    store: join(dir, 'proofgraph'),
    executions: join(dir, 'executions.jsonl'),
    upstreamState: join(dir, 'upstream-state.json'),
    nodeKey: k('node.key'),
    logKey: k('log.key'),
    rootKey: k('root.key'),
    exporterKey: k('exporter.key'),
    signerKey: k('bundle-signer.key'),
    untrustedSignerKey: k('untrusted-signer.key'),
    revokedSignerKey: k('revoked-signer.key'),
    approverKey: k('approver.key'),
    publishNode: join(dir, 'keys', 'publish-node.json'),
  };
}

export type KitPaths = ReturnType<typeof kitPaths>;

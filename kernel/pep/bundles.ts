// Bundles the PEP has recorded decisions under, compiled on demand from the blob store: approvals
// are verified against the approver keys of the bundle that escalated, and tool output against the
// output schema of the bundle that allowed the call, even after the policy changed or a restart.
import { fromUtf8 } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { HashRef } from '../contracts/node.js';
import { compileBundle, type CompiledBundle } from '../guardian/compile.js';
import type { BlobStore } from './blob-store.js';

export class BundleShelf {
  private readonly compiled = new Map<string, CompiledBundle | null>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly suite: CryptoSuite,
  ) {}

  remember(b: CompiledBundle): void {
    this.compiled.set(b.contentHash, b);
  }

  /** The compiled bundle with this contentHash, or null when it is not stored or does not compile. */
  async get(digest: HashRef | null): Promise<CompiledBundle | null> {
    if (digest === null) return null;
    const hit = this.compiled.get(digest);
    if (hit !== undefined) return hit;
    const bytes = await this.blobs.get(digest.slice('sha256:'.length));
    let out: CompiledBundle | null = null;
    if (bytes) {
      try {
        const c = compileBundle(JSON.parse(fromUtf8(bytes)), this.suite);
        out = c.ok && c.bundle.contentHash === digest ? c.bundle : null;
      } catch {
        out = null;
      }
    }
    this.compiled.set(digest, out);
    return out;
  }
}

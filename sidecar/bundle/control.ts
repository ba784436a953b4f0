// Which policy bundle is in force, and hot reload. A changed bundle is verified (signature, trust
// roots, lint) before anything else; only a bundle that passes replaces the one in force, and the
// PEP records the switch as a policy_change heartbeat. A bundle that fails is reported (log line,
// helm_bundle_reloads_total{result="rejected"}, /readyz detail) and the old one stays.
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { HashRef } from '../../kernel/contracts/node.js';
import { loadPolicy, type BundleTrust, type GuardianPolicy, type PolicySource } from '../../kernel/guardian/index.js';
import type { Pep } from '../../kernel/pep/index.js';
import { errorText, type Logger } from '../log.js';
import type { SidecarMetrics } from '../observe/metrics.js';
import { readBundleFiles, type BundleFiles, type BundleRead } from './files.js';

export type ReloadResult = { result: 'unchanged' } | { result: 'applied'; digest: HashRef } | { result: 'rejected'; code: string; message: string };

export interface PolicyStatus {
  status: 'ready' | 'unavailable';
  digest: HashRef | null;
  name: string | null;
  version: string | null;
  /** Why every call is denied, when no bundle is in force. */
  reasonCode: string | null;
  message: string | null;
  /** The files on disk were rejected; the bundle above is still in force. */
  rejected: { code: string; message: string } | null;
}

export class PolicyControl {
  private fingerprint: string | null = null;
  private rejected: { code: string; message: string } | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly pep: Pep,
    private readonly files: BundleFiles | null,
    private readonly trust: BundleTrust,
    private readonly metrics: SidecarMetrics,
    private readonly log: Logger,
  ) {}

  /** The policy to open the PEP with: the files' bundle even when it fails (its code is then every call's reason). */
  static async initialSource(files: BundleFiles | null): Promise<{ source: PolicySource; read: BundleRead | null }> {
    if (files === null) return { source: {}, read: null };
    const read = await readBundleFiles(files);
    return { source: read.ok ? read.source : {}, read };
  }

  static start(pep: Pep, files: BundleFiles | null, trust: BundleTrust, metrics: SidecarMetrics, log: Logger, initial: BundleRead | null): PolicyControl {
    const c = new PolicyControl(pep, files, trust, metrics, log);
    c.fingerprint = initial?.fingerprint ?? null;
    const p = pep.policy;
    if (initial && !initial.ok) c.reject(initial.code, initial.message);
    else if (initial && p.status !== 'ready') c.reject(p.reasonCode, p.message);
    else if (p.status === 'ready') log.info('policy bundle in force', { digest: p.bundle.contentHash, name: p.bundle.doc.metadata.name, version: p.bundle.doc.metadata.version ?? null });
    else log.warn('no policy bundle configured: every call is denied', { reasonCode: p.reasonCode });
    c.publish();
    return c;
  }

  /** Re-reads the files; applies a changed bundle that verifies. Checks never overlap. */
  check(): Promise<ReloadResult> {
    const next = this.chain.then(() => this.checkOnce());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async checkOnce(): Promise<ReloadResult> {
    if (this.files === null) return { result: 'unchanged' };
    const read = await readBundleFiles(this.files, this.fingerprint);
    if (read.ok === 'unchanged') return { result: 'unchanged' };
    this.fingerprint = read.fingerprint;
    if (!read.ok) return this.reject(read.code, read.message);
    const candidate: GuardianPolicy = loadPolicy(read.source, this.trust, nodeSuite);
    if (candidate.status !== 'ready') return this.reject(candidate.reasonCode, candidate.message);
    try {
      await this.pep.setPolicy(read.source);
    } catch (e) {
      // The PEP switched but could not record it (the store failed); readiness reports the store.
      this.log.error('policy_change could not be recorded', { error: errorText(e) });
    }
    this.rejected = null;
    this.metrics.reload('applied', 'none');
    this.log.info('policy bundle reloaded', { digest: candidate.bundle.contentHash, name: candidate.bundle.doc.metadata.name, version: candidate.bundle.doc.metadata.version ?? null });
    this.publish();
    return { result: 'applied', digest: candidate.bundle.contentHash };
  }

  private reject(code: string, message: string): ReloadResult {
    this.rejected = { code, message };
    this.metrics.reload('rejected', code);
    const p = this.pep.policy;
    this.log.error('policy bundle rejected; the bundle in force is unchanged', { code, message, inForce: p.status === 'ready' ? p.bundle.contentHash : null });
    return { result: 'rejected', code, message };
  }

  private publish(): void {
    const s = this.status();
    this.metrics.bundle({ status: s.status, hash: s.digest ?? '', name: s.name ?? '', version: s.version ?? '', reasonCode: s.reasonCode ?? '' });
    const p = this.pep.policy;
    const tools = p.status === 'ready' ? p.bundle.tools : null;
    this.metrics.setToolFilter((t) => tools?.has(t) ?? false);
  }

  status(): PolicyStatus {
    const p = this.pep.policy;
    if (p.status === 'ready') {
      const m = p.bundle.doc.metadata;
      return { status: 'ready', digest: p.bundle.contentHash, name: m.name, version: m.version ?? null, reasonCode: null, message: null, rejected: this.rejected };
    }
    return { status: 'unavailable', digest: p.policyDigest, name: null, version: null, reasonCode: p.reasonCode, message: p.message, rejected: this.rejected };
  }
}

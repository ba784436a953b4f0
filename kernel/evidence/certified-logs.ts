// Root-certified log keys (docs/spec/trust-policy.md §1.3). A `root` line of the policy also trusts
// the log keys that root certified for an origin (trust events with purpose `log`), so one policy
// line covers a fleet of per-pod logs. The events are found in the pack's trust nodes before
// checkpoints are checked; they are authentic by the root's signature alone, wherever they sit.
// Entries are decoded once here and the outcomes reused by the graph check. Portable.
import type { CryptoSuite } from '../crypto/suite.js';
import { TrustError } from '../trust/events.js';
import { TrustRegistry, type CertifiedLogKey } from '../trust/registry.js';
import type { DecodeMany, DecodeOutcome } from './graph-check.js';
import { splitLines } from './hash-lines.js';
import { classifyMember, entriesPath } from './layout.js';
import type { Manifest } from './manifest.js';
import type { TrustPolicy } from './trust-policy.js';

export interface Predecoded {
  /** Per log dir: the outcomes of entries.jsonl lines in order, and of prior entries by index. */
  lines: Map<string, DecodeOutcome[]>;
  prior: Map<string, Map<number, DecodeOutcome>>;
}

export async function predecode(files: ReadonlyMap<string, Uint8Array>, manifest: Manifest, decodeMany: DecodeMany): Promise<Predecoded> {
  const batch: Uint8Array[] = [];
  const owners: Array<{ dir: string; prior: number | null }> = [];
  for (const log of manifest.logs) {
    const data = files.get(entriesPath(log.dir));
    for (const line of data ? splitLines(data).lines : []) {
      batch.push(line);
      owners.push({ dir: log.dir, prior: null });
    }
  }
  for (const [path, data] of files) {
    const m = classifyMember(path);
    if (m?.kind !== 'prior-entry') continue;
    batch.push(data);
    owners.push({ dir: m.dir, prior: m.index });
  }
  const out = batch.length > 0 ? await decodeMany(batch) : [];
  if (out.length !== batch.length) throw new Error(`entry decoder returned ${out.length} results for ${batch.length} entries`);
  const pre: Predecoded = { lines: new Map(), prior: new Map() };
  owners.forEach((o, i) => {
    if (o.prior === null) {
      const l = pre.lines.get(o.dir) ?? [];
      l.push(out[i]!);
      pre.lines.set(o.dir, l);
    } else {
      const p = pre.prior.get(o.dir) ?? new Map<number, DecodeOutcome>();
      p.set(o.prior, out[i]!);
      pre.prior.set(o.dir, p);
    }
  });
  return pre;
}

/** The log keys the policy's root certified in this pack. Bad events are skipped here; the signature check reports them. */
export function certifiedLogKeys(suite: CryptoSuite, policy: TrustPolicy, pre: Predecoded, manifest: Manifest): CertifiedLogKey[] {
  if (!policy.root) return [];
  const registry = new TrustRegistry(suite, policy.root.key);
  for (const log of manifest.logs) {
    const decoded: Array<[number, DecodeOutcome]> = [
      ...[...(pre.prior.get(log.dir) ?? new Map<number, DecodeOutcome>())].sort((a, b) => a[0] - b[0]),
      ...(pre.lines.get(log.dir) ?? []).map((d, i): [number, DecodeOutcome] => [log.from + i, d]),
    ];
    for (const [index, d] of decoded) {
      if (!('node' in d) || d.node.kind !== 'trust') continue;
      try {
        registry.apply((d.node.statement.predicate.body as { event: unknown }).event, `${entriesPath(log.dir)} index ${index}`);
      } catch (e) {
        if (!(e instanceof TrustError)) throw e;
      }
    }
  }
  return registry.logKeys();
}

/** The policy checkpoints are checked against: the policy's log lines plus the certified log keys (attributed to the root line). */
export function withCertifiedLogs(policy: TrustPolicy, certified: readonly CertifiedLogKey[]): TrustPolicy {
  if (certified.length === 0 || !policy.root) return policy;
  const line = policy.root.line;
  const extra = certified.filter((c) => !policy.logs.some((l) => l.key.handle === c.key.handle && l.key.name === c.key.name)).map((c) => ({ key: c.key, line }));
  return { ...policy, logs: [...policy.logs, ...extra] };
}

// Before `helmctl export` writes a pack, the logs must be able to verify together; a pack verify
// would reject is refused (non-zero exit, nothing written). Without a trust policy the checks are
// the ones that need none: one origin per log, every node key that signed a log published for
// that log's origin by a trust event in the selection, and one root key common to every trust
// event (a trust policy has a single root line). With --trust-policy the pack is verified in full.
import { fromBase64, fromUtf8 } from '../kernel/crypto/bytes.js';
import type { CryptoSuite } from '../kernel/crypto/suite.js';
import { decodeNode, NodeFormatError } from '../kernel/contracts/node.js';
import { CliError } from './io.js';
import type { FoundLog } from './store-logs.js';

interface EventView {
  event: string;
  purpose: string;
  origin: string;
  key: string;
  newKey?: string;
  keyids: string[];
}

function eventOf(envelope: unknown): EventView | null {
  try {
    const e = envelope as { payload: string; signatures: Array<{ keyid: string }> };
    const p = (JSON.parse(fromUtf8(fromBase64(e.payload))) as { predicate: Omit<EventView, 'keyids'> }).predicate;
    return { ...p, keyids: e.signatures.map((s) => s.keyid) };
  } catch {
    return null;
  }
}

const handleOf = (vkey: string): string => vkey.split('+').slice(0, 2).join('+');

export function checkLogsTogether(suite: CryptoSuite, logs: readonly FoundLog[]): void {
  const byOrigin = new Map<string, string>();
  for (const l of logs) {
    const other = byOrigin.get(l.origin);
    if (other !== undefined) {
      throw new CliError(`logs ${other} and ${l.path || l.dir} have the same origin ${l.origin}: two writers shared one identity, so the pack cannot verify (verify: ERR_MANIFEST_DUPLICATE_ORIGIN). Give each writer its own origin and log key (identity certified does), or export them separately with --pod`, 'ERR_EXPORT_DUPLICATE_ORIGIN');
    }
    byOrigin.set(l.origin, l.path || l.dir);
  }
  const published = new Set<string>();
  const signers = new Map<string, Set<string>>();
  let roots: string[] | null = null;
  for (const l of logs) {
    const used = new Set<string>();
    for (const entry of l.entries) {
      let node;
      try {
        node = decodeNode(suite, entry);
      } catch (e) {
        if (e instanceof NodeFormatError) continue; // verify names the malformed entry
        throw e;
      }
      for (const s of node.signatures) used.add(s.keyid);
      if (node.kind !== 'trust') continue;
      const ev = eventOf((node.statement.predicate.body as { event?: unknown }).event);
      if (!ev) continue;
      const named = [ev.key, ...(ev.newKey ? [ev.newKey] : [])].map(handleOf);
      if (ev.purpose === 'node' && ev.event !== 'KEY_REVOKE') for (const h of named) published.add(`${ev.origin}\n${h}`);
      const candidates = ev.keyids.filter((k) => !named.includes(k));
      roots = roots === null ? candidates : roots.filter((k) => candidates.includes(k));
    }
    signers.set(l.path || l.dir, used);
  }
  for (const l of logs) {
    const missing = [...signers.get(l.path || l.dir)!].filter((h) => !published.has(`${l.origin}\n${h}`));
    if (missing.length > 0) {
      throw new CliError(`log ${l.path || l.dir} (${l.origin}) is signed by ${missing.join(', ')}, which no trust event in the selection publishes for that origin (verify: ERR_NODE_UNTRUSTED_SIGNER). Start it with --trust-event (identity static), let it finish its certification (identity certified), or leave it out with --namespace/--pod/--from`, 'ERR_EXPORT_UNPUBLISHED_KEY');
    }
  }
  if (roots !== null && roots.length === 0) {
    throw new CliError('the trust events of these logs are not all signed by one root key, and a trust policy has a single root line: export the logs of each root separately', 'ERR_EXPORT_MIXED_ROOTS');
  }
}

// identity static: before the log is opened, check that the store, the keys, the trust events and
// the origin form a log `helmctl verify` could accept (issue: such sidecars used to start, report
// ready and allow calls whose receipts could never verify). Without the verifier's root key this
// checks everything but the root signature: the node key is published (KEY_PUBLISH, or the new key
// of a KEY_ROTATE) for this origin with proof of possession, valid from the next index at the
// latest, not revoked or rotated out by any trust event it is given or its log holds, and an
// existing log's checkpoints are signed by this log key.
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { fromBase64, fromUtf8 } from '../../kernel/crypto/bytes.js';
import { NoteError, parseNote, verifyNote } from '../../kernel/crypto/note.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import { pae, type DsseEnvelope } from '../../kernel/contracts/dsse.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import { readStartSnapshot } from '../../kernel/proofgraph/start-snapshot.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { SidecarError } from '../errors.js';

interface Claimed {
  event: string;
  purpose: string;
  origin: string;
  key: string;
  newKey?: string;
  fromIndex: number;
}

function claimed(env: DsseEnvelope): Claimed | null {
  try {
    return (JSON.parse(fromUtf8(fromBase64(env.payload))) as { predicate: Claimed }).predicate;
  } catch {
    return null;
  }
}

function possessed(suite: CryptoSuite, env: DsseEnvelope, key: SigningKey): boolean {
  const sig = env.signatures.find((s) => s.keyid === key.verifier.handle);
  if (!sig) return false;
  try {
    return suite.verifyEd25519(key.publicKey, pae(env.payloadType, fromBase64(env.payload)), fromBase64(sig.sig));
  } catch {
    return false;
  }
}

const handle = (vkey: string): string => {
  try {
    return parseVerifierKey(vkey).handle;
  } catch {
    return vkey;
  }
};

const fail = (message: string) => new SidecarError('ERR_SIDECAR_IDENTITY', message);

export async function checkStaticIdentity(o: { suite: CryptoSuite; nodeKey: SigningKey; logKey: SigningKey; origin: string; trustEvents: readonly DsseEnvelope[]; logDir: string }): Promise<void> {
  const events: Array<{ env: DsseEnvelope; where: string }> = o.trustEvents.map((env, i) => ({ env, where: `--trust-event #${i + 1}` }));
  let size = 0;
  let exists = false;
  try {
    exists = (await stat(join(o.logDir, 'LOG'))).isFile();
  } catch {
    exists = false;
  }
  // A start-up snapshot signed by this node key for this origin stands for the log before it: the
  // run that wrote it passed this check, and its start recorded the publication of this key in that
  // prefix. So only the tail is decoded (a long log would otherwise be read in full at every start).
  const snap = exists ? await readStartSnapshot(o.logDir, { origin: o.origin, nodeKey: o.nodeKey, suite: o.suite }).catch(() => null) : null;
  const from = snap?.snapshot?.size ?? 0;
  // A store that cannot be read is the writer's to report (ERR_SIDECAR_STORE, with its recovery).
  let log = exists ? await readLog(o.logDir, { from }).catch(() => null) : null;
  // A log shorter than the snapshot (truncated or replaced): the snapshot stands for nothing, read it all.
  if (log && from > 0 && log.first + log.entries.length < from) log = await readLog(o.logDir).catch(() => null);
  let publishedBefore = false;
  if (log) {
    if (log.origin !== o.origin) {
      throw fail(`the log in ${o.logDir} has origin ${log.origin}, but this sidecar's origin is ${o.origin} (the log key's name): use the log key named ${log.origin}, or another writer id for a new log`);
    }
    size = log.first + log.entries.length;
    publishedBefore = from > 0 && size >= from;
    for (const [i, entry] of log.entries.entries()) {
      const node = decodeNode(o.suite, entry);
      if (node.kind === 'trust') events.push({ env: (node.statement.predicate.body as { event: DsseEnvelope }).event, where: `log index ${log.first + i}` });
    }
    for (const note of log.checkpoints) {
      try {
        verifyNote(note, [o.logKey.verifier], o.suite);
      } catch (e) {
        if (!(e instanceof NoteError)) throw e;
        const by = (() => {
          try {
            return parseNote(note).signatures.map((s) => `${s.name}+${s.keyId}`).join(', ');
          } catch {
            return 'an unreadable signature';
          }
        })();
        throw fail(`the existing checkpoints of ${o.origin} in ${o.logDir} are signed by log key ${by}, not by this log key ${o.logKey.verifier.handle}: a verifier trusts one log key per origin, so continue the log with its own log key, or start a new log (another writer id and origin) for the new key`);
      }
    }
  }
  const node = o.nodeKey.verifier;
  // A node key that a KEY_REVOKE or a KEY_ROTATE (as the old key) retires signs nothing a verifier
  // accepts from that index on: refuse it whatever the index, since the writer would not stop there.
  for (const { env, where } of events) {
    const c = claimed(env);
    if (!c || c.purpose !== 'node' || c.origin !== o.origin || handle(c.key) !== node.handle) continue;
    if (c.event === 'KEY_REVOKE') throw fail(`${where} is a KEY_REVOKE of the node key ${node.handle} for ${o.origin} from index ${c.fromIndex}: receipts it signs would not verify. Start with a node key that is published and not revoked (helmctl trust publish, or the new key of a KEY_ROTATE)`);
    if (c.event === 'KEY_ROTATE') throw fail(`${where} is a KEY_ROTATE that retires the node key ${node.handle} for ${o.origin} at index ${c.fromIndex} in favour of ${handle(c.newKey ?? '')}: start with the new key`);
  }
  if (publishedBefore) return;
  const seen: string[] = [];
  for (const { env, where } of events) {
    const c = claimed(env);
    if (!c) continue;
    const named = c.event === 'KEY_ROTATE' ? c.newKey : c.event === 'KEY_PUBLISH' ? c.key : undefined;
    if (c.purpose !== 'node' || named === undefined) continue;
    seen.push(`${where}: ${c.event} of ${handle(named)} for ${c.origin} from index ${c.fromIndex}`);
    if (c.origin !== o.origin || handle(named) !== node.handle) continue;
    if (!possessed(o.suite, env, o.nodeKey)) throw fail(`${where} publishes the node key ${node.handle} for ${o.origin} but lacks a valid signature by that key (proof of possession): make it again with helmctl trust publish --key <node key file>`);
    if (c.fromIndex > size) throw fail(`${where} publishes the node key ${node.handle} for ${o.origin} only from index ${c.fromIndex}, but the next node is index ${size}: publish it from index ${size} or lower`);
    return;
  }
  if (seen.length === 0) {
    throw fail(`no trust event publishes the node key ${node.handle} for ${o.origin}, so no receipt of this sidecar could verify: pass --trust-event FILE (HELM_TRUST_EVENTS) made by helmctl trust publish --root-key ROOT_KEY --key NODE_KEY --origin ${o.origin} --from-index ${size}`);
  }
  throw fail(`no trust event publishes this node key ${node.handle} for this origin ${o.origin} (the origin is the log key's name ${o.logKey.verifier.name}); the trust events found are: ${seen.join('; ')}. Use the node key and log key those events were made for, or publish ${node.handle} for ${o.origin} with helmctl trust publish`);
}

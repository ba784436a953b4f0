// The valid pack of a real two-writer store and one tampered variant per attack, each built so it
// reaches the check it is about. Used by the verifier tests and the portable-vs-node comparison.
import { createHash } from 'node:crypto';
import { fromBase64, toBase64, toHex } from '../../kernel/crypto/bytes.js';
import { jcs } from '../../kernel/crypto/jcs.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import { gzipDeterministic } from '../../kernel/evidence/gzip-node.js';
import type { Statement } from '../../kernel/contracts/node.js';
import { signKeyEvent } from '../../kernel/trust/events.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import type { LogSource } from '../../kernel/evidence/window.js';
import { buildStore, testKey, type BuiltStore } from './fixtures.js';
import { clone, joinLines, lines, loadSources, packFromSources, repack, rewriteLog, unpack } from './tamper.js';
import { concat } from '../../kernel/crypto/bytes.js';

export interface Variant {
  name: string;
  bytes: Uint8Array;
  /** Expected problem code (and where), or null for a valid pack. */
  expect: { code: string; file?: string; index?: number; readable?: boolean } | null;
}

const A = 'sidecar-a';
export const A_ENTRIES = `logs/${A}/entries.jsonl`;
const enc = new TextEncoder();
const dec = new TextDecoder();

type Envelope = { payload: string; payloadType: string; signatures: Array<{ keyid: string; sig: string }> };

function editEnvelope(line: Uint8Array, f: (env: Envelope) => void): Uint8Array {
  const env = JSON.parse(dec.decode(line)) as Envelope;
  f(env);
  return jcs(env);
}

function editPayloadKeepSignature(line: Uint8Array, f: (st: Statement) => void): Uint8Array {
  return editEnvelope(line, (env) => {
    const st = JSON.parse(dec.decode(fromBase64(env.payload))) as Statement;
    f(st);
    st.subject[0].digest.sha256 = toHex(nodeSuite.sha256(jcs(st.predicate.body)));
    env.payload = toBase64(jcs(st));
  });
}

function replaceLine(files: Map<string, Uint8Array>, path: string, i: number, f: (l: Uint8Array) => Uint8Array): void {
  const ls = lines(files.get(path)!);
  ls[i] = f(ls[i]!);
  files.set(path, joinLines(ls));
}

/** A raw ustar header with any name and type, for members our writer refuses to produce. */
export function rawMember(name: string, type: string, data: Uint8Array, linkname = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, s: string) => h.set(enc.encode(s), off);
  put(0, name);
  put(100, '0000644\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, data.length.toString(8).padStart(11, '0') + '\0');
  put(136, '00000000000\0');
  h.fill(0x20, 148, 156);
  put(156, type);
  put(157, linkname);
  put(257, 'ustar\u000000');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, sum.toString(8).padStart(6, '0') + '\0 ');
  const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
  body.set(data);
  const out = new Uint8Array(512 + body.length);
  out.set(h);
  out.set(body, 512);
  return out;
}

export interface VariantSet {
  store: BuiltStore;
  sources: LogSource[];
  valid: Uint8Array;
  variants: Variant[];
}

export async function buildVariants(calls = 5): Promise<VariantSet> {
  const store = await buildStore({ writers: { [A]: 'helm.test/log-a', 'sidecar-b': 'helm.test/log-b' }, crossLog: true, calls, checkpointEvery: 7 });
  const { keys } = store;
  const sources = await loadSources(store.root);
  const srcA = sources.find((s) => s.dir === A)!;
  const kA = keys.logs['helm.test/log-a']!;
  // Rewritten histories of log A are packed alone: log B's cross-log parent would (rightly) flag them too.
  const withA = (a: LogSource) => [a];
  const valid = packFromSources(sources, keys.exporter);
  const rogue = testKey('rogue-node');
  const v: Variant[] = [{ name: 'valid pack', bytes: valid, expect: null }];

  v.push({
    name: 'payload changed (subject digest fixed, signature kept)',
    bytes: repack(valid, (f) => replaceLine(f, A_ENTRIES, 3, (l) => editPayloadKeepSignature(l, (st) => ((st.predicate.body as Record<string, unknown>).reasonCode = 'RULE_FORGED'))), { resign: keys.exporter }),
    expect: { code: 'ERR_NODE_BAD_SIGNATURE', file: A_ENTRIES, index: 3 },
  });
  v.push({
    name: 'one byte of a payload flipped',
    bytes: repack(valid, (f) => replaceLine(f, A_ENTRIES, 4, (l) => {
      const c = Uint8Array.from(l);
      const at = dec.decode(c).indexOf('"payload":"') + 40;
      c[at] = c[at] === 0x41 ? 0x42 : 0x41;
      return c;
    }), { resign: keys.exporter }),
    expect: { code: 'ERR_NODE_MALFORMED', file: A_ENTRIES, index: 4 },
  });
  v.push({
    name: 'signature byte flipped',
    bytes: repack(valid, (f) => replaceLine(f, A_ENTRIES, 5, (l) => editEnvelope(l, (env) => {
      const sig = fromBase64(env.signatures[0]!.sig);
      sig[10] = sig[10]! ^ 1;
      env.signatures[0]!.sig = toBase64(sig);
    })), { resign: keys.exporter }),
    expect: { code: 'ERR_NODE_BAD_SIGNATURE', file: A_ENTRIES, index: 5 },
  });
  v.push({
    name: 'parent link changed (node and checkpoints re-signed)',
    bytes: packFromSources(withA(rewriteLog(srcA, kA, (ns) => {
      ns[3]!.statement.predicate.parents = [{ hash: `sha256:${'00'.repeat(32)}` }];
    })), keys.exporter),
    expect: { code: 'ERR_NODE_PARENT_UNKNOWN', file: A_ENTRIES, index: 3 },
  });
  v.push({
    name: 'Lamport value changed (re-signed)',
    bytes: packFromSources(withA(rewriteLog(srcA, kA, (ns) => {
      ns[4]!.statement.predicate.lamport += 5;
    })), keys.exporter),
    expect: { code: 'ERR_NODE_LAMPORT', file: A_ENTRIES, index: 4 },
  });
  v.push({
    name: 'manifest byte flipped',
    bytes: repack(valid, (f) => {
      const m = Uint8Array.from(f.get('MANIFEST.json')!);
      const at = dec.decode(m).indexOf('"sha256":"') + 10;
      m[at] = m[at] === 0x30 ? 0x31 : 0x30;
      f.set('MANIFEST.json', m);
    }),
    expect: { code: 'ERR_MANIFEST_BAD_SIGNATURE', file: 'MANIFEST.dsse.json' },
  });
  v.push({
    name: 'manifest re-signed by a key outside the policy',
    bytes: repack(valid, () => undefined, { resign: rogue }),
    expect: { code: 'ERR_MANIFEST_UNTRUSTED', file: 'MANIFEST.dsse.json' },
  });
  v.push({
    name: 'node dropped',
    bytes: repack(valid, (f) => f.set(A_ENTRIES, joinLines(lines(f.get(A_ENTRIES)!).filter((_, i) => i !== 6))), { resign: keys.exporter }),
    expect: { code: 'ERR_NODE_INDEX', file: A_ENTRIES, index: 6 },
  });
  v.push({
    name: 'nodes reordered',
    bytes: repack(valid, (f) => {
      const ls = lines(f.get(A_ENTRIES)!);
      [ls[8], ls[9]] = [ls[9]!, ls[8]!];
      f.set(A_ENTRIES, joinLines(ls));
    }, { resign: keys.exporter }),
    expect: { code: 'ERR_NODE_INDEX', file: A_ENTRIES, index: 8 },
  });
  v.push({
    name: 'node re-signed with a key the registry does not know',
    bytes: packFromSources(withA(rewriteLog(srcA, kA, (ns) => {
      ns[10]!.signers = [rogue];
    })), keys.exporter),
    expect: { code: 'ERR_NODE_UNTRUSTED_SIGNER', file: A_ENTRIES, index: 10 },
  });

  const rogueRoot = testKey('rogue-root');
  const rogueEvent = signKeyEvent(
    nodeSuite,
    { event: 'KEY_PUBLISH', purpose: 'node', origin: 'helm.test/log-a', key: rogue.verifier.vkey, fromIndex: 0, issuedAt: '2026-11-22T00:00:00.000Z' },
    [rogueRoot, rogue],
  );
  const injectedAt = srcA.entries.length;
  v.push({
    name: 'KEY_PUBLISH signed by a non-root key, and nodes signed with the key it publishes',
    bytes: packFromSources(withA(rewriteLog(srcA, kA, (ns) => {
      const last = ns.at(-1)!.statement;
      const at = (i: number, kind: 'trust' | 'intent', body: Record<string, unknown>) => ({
        kind,
        subjectName: `${kind}/helm.test/log-a`,
        signers: [rogue],
        statement: {
          ...clone(last),
          predicateType: `https://helm.mindburn.org/proofgraph/${kind}/v1`,
          predicate: { ...clone(last.predicate), index: injectedAt + i, lamport: last.predicate.lamport + 1 + i, parents: [], body },
        } as Statement,
      });
      ns.push(at(0, 'trust', { event: rogueEvent }));
      ns.push(at(1, 'intent', { surface: 'cli', callId: 'rogue-1', tool: 'shell.exec', principal: 'attacker', argsDigest: `sha256:${'11'.repeat(32)}` }));
    })), keys.exporter),
    expect: { code: 'ERR_TRUST_EVENT_UNAUTHORISED', file: A_ENTRIES, index: injectedAt },
  });

  const forked = rewriteLog(srcA, kA, (ns) => {
    (ns[11]!.statement.predicate.body as Record<string, unknown>).principal = 'someone-else';
  });
  const forkedNote = forked.checkpoints.find((c) => c.startsWith('helm.test/log-a\n14\n'))!;
  v.push({
    name: 'fork: a checkpoint inconsistent with the one before it (both signed by the log key)',
    bytes: repack(valid, (f) => f.set(`logs/${A}/checkpoints/14.note`, enc.encode(forkedNote)), { resign: keys.exporter }),
    expect: { code: 'ERR_CONSISTENCY', file: `logs/${A}/consistency/7-14` },
  });

  // An impostor log key: the origin's name, another secret. The real checkpoints below the cut stay.
  const impostorLogKey = signingKeyFromSeed('helm.test/log-a', createHash('sha256').update('impostor log key').digest(), nodeSigner);
  const truncatedSize = 20;
  const cut = new MerkleTree(nodeSuite);
  for (const e of srcA.entries.slice(0, truncatedSize)) cut.appendEntry(e);
  const shortA: LogSource = {
    ...srcA,
    entries: srcA.entries.slice(0, truncatedSize),
    checkpoints: [
      ...srcA.checkpoints.filter((c) => Number(c.split('\n')[1]) < truncatedSize),
      signCheckpoint({ origin: 'helm.test/log-a', size: truncatedSize, root: cut.root(), extensions: [] }, impostorLogKey),
    ],
  };
  v.push({
    name: 'last entries removed and a smaller checkpoint signed with an unknown key',
    bytes: packFromSources(sources.map((x) => (x.dir === A ? shortA : x)), keys.exporter),
    expect: { code: 'ERR_CHECKPOINT_UNTRUSTED', file: `logs/${A}/checkpoints/${truncatedSize}.note` },
  });
  v.push({
    name: 'entries.jsonl truncated',
    bytes: repack(valid, (f) => {
      const d = f.get(A_ENTRIES)!;
      f.set(A_ENTRIES, d.subarray(0, d.length - 100));
    }),
    expect: { code: 'ERR_MANIFEST_FILE_DIGEST', file: A_ENTRIES },
  });

  const members = unpack(valid);
  const tarOf = (extra: Uint8Array) => {
    const parts = [...members].map(([p, d]) => rawMember(p, '0', d));
    return gzipParts([...parts, extra, new Uint8Array(1024)]);
  };
  v.push({ name: "tar member named ../evil", bytes: tarOf(rawMember('../evil', '0', enc.encode('x'))), expect: { code: 'ERR_PACK_UNSAFE_PATH', file: '../evil', readable: true } });
  v.push({ name: 'tar member that is a symlink', bytes: tarOf(rawMember('logs/sidecar-c/entries.jsonl', '2', new Uint8Array(0), '/etc/passwd')), expect: { code: 'ERR_PACK_UNSAFE_ENTRY', readable: true } });
  v.push({ name: 'not a gzip file', bytes: enc.encode('this is not a pack\n'), expect: { code: 'ERR_PACK_NOT_GZIP', readable: false } });

  v.push({
    name: "log A's history rewritten (re-signed by its own keys) under log B's cross-log parent",
    bytes: packFromSources(sources.map((x) => (x.dir === A ? forked : x)), keys.exporter),
    expect: { code: 'ERR_NODE_PARENT_MISMATCH', file: 'logs/sidecar-b/entries.jsonl', index: 2 },
  });
  v.push({
    name: 'silence longer than 2x the heartbeat interval with no gap node',
    bytes: packFromSources(withA(rewriteLog(srcA, kA, (ns) => {
      for (const n of ns.slice(12)) n.statement.predicate.time = new Date(Date.parse(n.statement.predicate.time) + 10 * 60_000).toISOString();
    })), keys.exporter),
    expect: { code: 'ERR_COMPLETENESS_SILENCE', file: A_ENTRIES, index: 12 },
  });
  v.push({
    name: 'log does not start with a start heartbeat',
    bytes: packFromSources(withA(rewriteLog(srcA, kA, (ns) => {
      (ns[0]!.statement.predicate.body as Record<string, unknown>).reason = 'periodic';
    })), keys.exporter),
    expect: { code: 'ERR_COMPLETENESS_NO_START', file: A_ENTRIES, index: 0 },
  });
  return { store, sources, valid, variants: v };
}

function gzipParts(parts: Uint8Array[]): Uint8Array {
  return gzipDeterministic(concat(...parts));
}

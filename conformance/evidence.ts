// The evidence phase: export the sidecar's log as a pack (helmctl export), verify it
// (helmctl verify's verifier), replay it, and read its entries; then the checks that judge the pack.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exportCmd } from '../cli/commands/export.js';
import { keygen } from '../cli/commands/keygen.js';
import { loadPolicy } from '../cli/commands/verify.js';
import { toHex } from '../kernel/crypto/bytes.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import { decodeNode, type DecodedNode } from '../kernel/contracts/node.js';
import { CachedMerkleTree } from '../kernel/evidence/cached-tree.js';
import { DEFAULT_LIMITS } from '../kernel/evidence/limits.js';
import { gunzipNode } from '../kernel/evidence/gzip-node.js';
import { readTar } from '../kernel/evidence/tar.js';
import { replayPack, type ReplayReport } from '../kernel/evidence/replay.js';
import { verifyPackNode } from '../kernel/evidence/verify-node.js';
import type { Problem, VerifyReport } from '../kernel/evidence/verify-core.js';
import { guardianReplayer } from '../kernel/pep/index.js';
import { openCheckpoint } from '../kernel/proofgraph/checkpoint.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../kernel/proofgraph/merkle.js';
import type { Failures } from './expect.js';
import { resignNode, tamperOneVerdict } from './tamper.js';
import { loadSigningKey } from '../cli/key-files.js';
import { parseVerifierKey } from '../kernel/crypto/keys.js';
import type { KeyEvent } from '../kernel/trust/events.js';
import type { Target } from './target.js';

export interface Evidence {
  packPath: string;
  pack: Uint8Array;
  packSha256: string;
  verify: VerifyReport;
  replay: ReplayReport;
  /** Decoded entries per log directory of the pack, in index order. */
  logs: Map<string, DecodedNode[]>;
  /** Checkpoint notes per log directory, by size. */
  checkpoints: Map<string, Map<number, string>>;
  workDir: string;
}

export type EvidenceCheck = (t: Target, e: Evidence) => Promise<Failures>;

async function runCmd(cmd: typeof exportCmd, args: string[]): Promise<void> {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
  const code = await cmd.run(args, io);
  if (code !== 0) throw Object.assign(new Error(`helmctl ${cmd.name} failed (${code}): ${out.trim()}`), { code: 'ERR_CONFORMANCE_EXPORT' });
}

export async function exportPack(t: Target, out: string): Promise<Uint8Array> {
  await rm(out, { force: true });
  await runCmd(exportCmd, ['--store', t.kit.paths.store, '--out', out, '--key', t.kit.paths.exporterKey]);
  return new Uint8Array(await readFile(out));
}

export async function collectEvidence(t: Target, workDir: string): Promise<Evidence> {
  const packPath = join(workDir, 'conformance-pack.tar.gz');
  const pack = await exportPack(t, packPath);
  const policy = await loadPolicy(t.kit.paths.trustPolicy);
  const verify = await verifyPackNode(pack, policy, {});
  const replay = replayPack(pack, { suite: nodeSuite, decisions: guardianReplayer({ suite: nodeSuite }) });
  const logs = new Map<string, DecodedNode[]>();
  const checkpoints = new Map<string, Map<number, string>>();
  for (const f of readTar(await gunzipNode(pack, DEFAULT_LIMITS.maxTotalBytes), { limits: DEFAULT_LIMITS, accept: () => true })) {
    const m = /^logs\/([^/]+)\/(entries\.jsonl|checkpoints\/(\d+)\.note)$/.exec(f.path);
    if (!m) continue;
    if (m[3] !== undefined) {
      if (!checkpoints.has(m[1]!)) checkpoints.set(m[1]!, new Map());
      checkpoints.get(m[1]!)!.set(Number(m[3]), new TextDecoder().decode(f.data));
      continue;
    }
    const nodes: DecodedNode[] = [];
    let start = 0;
    for (let i = 0; i <= f.data.length; i++) {
      if (i < f.data.length && f.data[i] !== 0x0a) continue;
      if (i > start) nodes.push(decodeNode(nodeSuite, f.data.subarray(start, i)));
      start = i + 1;
    }
    logs.set(m[1]!, nodes);
  }
  return { packPath, pack, packSha256: toHex(nodeSuite.sha256(pack)), verify, replay, logs, checkpoints, workDir };
}

const SIGNATURE_CODES = /^ERR_(NODE_BAD_SIGNATURE|NODE_UNTRUSTED_SIGNER|MANIFEST_SIGNATURE|MANIFEST_SIGNER)/;
const LAMPORT_CODES = /^ERR_(NODE_LAMPORT|NODE_PARENT_ORDER)/;

function problems(e: Evidence, pred: (p: Problem) => boolean): Failures {
  return e.verify.problems.filter(pred).slice(0, 10).map((p) => `verify: ${p.file}${p.index !== undefined ? ` index ${p.index}` : ''}: ${p.code}: ${p.message}`);
}

const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;
const pred = (n: DecodedNode) => n.statement.predicate as unknown as { index: number; lamport: number; parents: Array<{ hash: string; origin?: string }> };

async function denyReceipts(t: Target, e: Evidence): Promise<Failures> {
  const f: Failures = [];
  // DECISION nodes, and RESULT nodes (a withheld output is receipted by its rejected RESULT, a
  // sandboxed run that hit a limit by its error RESULT).
  const nodes = new Map<string, DecodedNode>();
  for (const log of e.logs.values()) for (const n of log) if (n.kind === 'decision' || n.kind === 'result') nodes.set(n.entryHash, n);
  const byCall = new Map([...nodes.values()].filter((n) => n.kind === 'decision').map((n) => [String(body(n).callId), n]));
  const denies = t.observed.filter((o) => o.verdict === 'DENY');
  if (denies.length === 0) f.push('no surface reported a DENY: nothing to check');
  for (const o of denies) {
    const n = o.receipt ? nodes.get(o.receipt) : byCall.get(o.callId);
    if (!n) {
      f.push(`${o.surface} DENY ${o.reasonCode} of ${o.tool} (call ${o.callId}${o.receipt ? `, receipt ${o.receipt}` : ''}) has no receipt in the pack`);
      continue;
    }
    const b = body(n);
    const says = n.kind === 'result' ? `${String(b.status)} ${String(b.reasonCode)}` : `${String(b.verdict)} ${String(b.reasonCode)}`;
    const agrees = n.kind === 'result' ? (b.status === 'rejected' || b.status === 'error') && b.reasonCode === o.reasonCode : b.verdict === 'DENY' && b.reasonCode === o.reasonCode;
    if (!agrees || b.callId !== o.callId) f.push(`${o.surface} DENY ${o.reasonCode} of call ${o.callId}: its ${n.kind} receipt says ${says} for call ${String(b.callId)}`);
  }
  return f;
}

async function signatures(_t: Target, e: Evidence): Promise<Failures> {
  const f = problems(e, (p) => SIGNATURE_CODES.test(p.code));
  for (const [dir, nodes] of e.logs) for (const n of nodes) if (n.signatures.length === 0) f.push(`${dir} index ${pred(n).index}: a node without a signature`);
  return f;
}

async function lamport(_t: Target, e: Evidence): Promise<Failures> {
  const f = problems(e, (p) => LAMPORT_CODES.test(p.code));
  for (const [dir, nodes] of e.logs) {
    const byHash = new Map<string, number>(nodes.map((n) => [n.entryHash, pred(n).lamport]));
    for (let i = 1; i < nodes.length; i++) {
      const p = pred(nodes[i]!);
      const prev = pred(nodes[i - 1]!).lamport;
      if (!(p.lamport > prev)) f.push(`${dir} index ${p.index}: lamport ${p.lamport} does not exceed the previous node's ${prev}`);
      for (const parent of p.parents) {
        const pl = byHash.get(parent.hash);
        if (pl !== undefined && !(p.lamport > pl)) f.push(`${dir} index ${p.index}: lamport ${p.lamport} does not exceed its parent's ${pl}`);
      }
      if (f.length > 10) return f;
    }
  }
  return f;
}

async function proofgraph(_t: Target, e: Evidence): Promise<Failures> {
  const f = problems(e, (p) => !SIGNATURE_CODES.test(p.code) && !LAMPORT_CODES.test(p.code));
  for (const [dir, nodes] of e.logs) {
    const hashes = new Set<string>(nodes.map((n) => n.entryHash));
    for (const n of nodes) if (n.kind === 'decision' && !pred(n).parents.some((p) => hashes.has(p.hash))) f.push(`${dir} index ${pred(n).index}: a decision without its intent parent`);
  }
  return f;
}

async function offlineVerify(t: Target, e: Evidence): Promise<Failures> {
  const f: Failures = [];
  if (!e.verify.ok) f.push(`the pack does not verify: ${e.verify.problems.length} problem(s), first ${e.verify.firstProblem ? `${e.verify.firstProblem.code}: ${e.verify.firstProblem.message}` : 'unknown'}`);
  const tampered = tamperOneVerdict(await gunzipNode(e.pack, DEFAULT_LIMITS.maxTotalBytes));
  if (!tampered) f.push('the pack holds no DENY decision to flip');
  else {
    const r = await verifyPackNode(tampered, await loadPolicy(t.kit.paths.trustPolicy), {});
    if (r.ok) f.push('a copy of the pack with one DENY flipped to ALLOW verifies');
  }
  return f;
}

async function determinism(t: Target, e: Evidence): Promise<Failures> {
  // A periodic heartbeat may land between two exports: then the second pair must agree.
  for (let attempt = 0; attempt < 2; attempt++) {
    const a = await exportPack(t, join(e.workDir, 'determinism-a.tar.gz'));
    const b = await exportPack(t, join(e.workDir, 'determinism-b.tar.gz'));
    if (toHex(nodeSuite.sha256(a)) === toHex(nodeSuite.sha256(b))) return [];
  }
  return ['two consecutive exports of the same log differ'];
}

async function replay(_t: Target, e: Evidence): Promise<Failures> {
  const d = e.replay.decisions;
  const f: Failures = [];
  if (!d || d.decisions === 0) f.push('the replay re-decided no decision');
  else if (d.diverged > 0) f.push(`${d.diverged} of ${d.decisions} decisions diverged on replay`);
  for (const p of e.replay.problems.slice(0, 5)) f.push(`replay: ${p.code}: ${p.message}`);
  return f;
}

async function trustRoot(t: Target, e: Evidence): Promise<Failures> {
  const other = join(e.workDir, 'other-root.key');
  await runCmd(keygen, ['--type', 'root', '--name', 'helm-conformance/other-root', '--out', other, '--force']);
  const text = (await readFile(t.kit.paths.trustPolicy, 'utf8')).replace(/^root .*$/m, `root ${(await readFile(`${other}.pub`, 'utf8')).trim()}`);
  const { parseTrustPolicy } = await import('../kernel/evidence/trust-policy.js');
  const r = await verifyPackNode(e.pack, parseTrustPolicy(text, 'other-root policy'), {});
  if (r.ok) return ['the pack verifies under a root that never published its node key'];
  if (!r.problems.some((p) => p.code === 'ERR_NODE_UNTRUSTED_SIGNER')) return [`under another root the pack fails, but not with ERR_NODE_UNTRUSTED_SIGNER (${r.problems[0]?.code})`];
  return [];
}

async function merkleProofs(t: Target, e: Evidence): Promise<Failures> {
  const f: Failures = [];
  const policy = await loadPolicy(t.kit.paths.trustPolicy);
  const keys = policy.logs.map((l) => l.key);
  for (const [dir, nodes] of e.logs) {
    const notes = [...(e.checkpoints.get(dir) ?? new Map<number, string>()).entries()].sort((a, b) => a[0] - b[0]);
    if (notes.length === 0) {
      f.push(`${dir}: no checkpoint in the pack`);
      continue;
    }
    const tree = new CachedMerkleTree(nodeSuite);
    for (const n of nodes) tree.appendEntry(n.entry);
    const opened = notes.map(([, note]) => openCheckpoint(note, keys, nodeSuite).checkpoint);
    const last = opened.at(-1)!;
    const first = opened.find((c) => c.size > 0) ?? last;
    const decisions = nodes.filter((n) => n.kind === 'decision' && pred(n).index < last.size);
    for (const n of decisions.slice(-5)) {
      const i = pred(n).index;
      const from = pred(nodes[0]!).index;
      if (from !== 0) break; // a windowed pack: inclusion is the verifier's range proof
      if (!verifyInclusion(nodeSuite, i, last.size, leafHash(nodeSuite, n.entry), tree.inclusionProof(i, last.size), last.root)) f.push(`${dir}: inclusion proof of decision ${i} against checkpoint ${last.size} does not verify`);
    }
    if (pred(nodes[0]!).index === 0 && first.size < last.size && !verifyConsistency(nodeSuite, first.size, last.size, first.root, last.root, tree.consistencyProof(first.size, last.size))) {
      f.push(`${dir}: consistency proof ${first.size} -> ${last.size} does not verify`);
    }
    if (decisions.length === 0) f.push(`${dir}: no decision under a checkpoint to prove`);
  }
  return f;
}

/** After the crash command: every receipt a surface named before it is in the pack, after a gap. */
async function crashDurability(t: Target, e: Evidence): Promise<Failures> {
  const f: Failures = [];
  if (t.crashedAfter === null) return ['the crash command did not run'];
  const hashes = new Set<string>();
  let gaps = 0;
  for (const log of e.logs.values()) for (const n of log) {
    hashes.add(n.entryHash);
    if (n.kind === 'gap') gaps++;
  }
  if (gaps === 0) f.push('no gap node after the SIGKILL: the restart did not record the unclean stop');
  const before = t.observed.slice(0, t.crashedAfter).filter((o) => o.receipt !== null);
  if (before.length === 0) f.push('no receipt was observed before the crash');
  const lost = before.filter((o) => !hashes.has(o.receipt!));
  for (const o of lost.slice(0, 10)) f.push(`${o.surface} ${o.verdict} ${o.reasonCode} of ${o.tool} (receipt ${o.receipt}) was answered before the crash but is not in the log after it`);
  if (lost.length > 10) f.push(`... ${lost.length - 10} more`);
  return f;
}

/** A copy of the pack with node `idx` of the kit's log signed again by `keyFile` alone, verified. */
async function forgedBy(t: Target, e: Evidence, idx: number, keyFile: string): Promise<VerifyReport | null> {
  const forged = resignNode(e.pack, t.kit.manifest.writerId, idx, await loadSigningKey(keyFile, 'retired node key'), await loadSigningKey(t.kit.paths.exporterKey, 'kit exporter key'));
  return forged && verifyPackNode(forged, await loadPolicy(t.kit.paths.trustPolicy), {});
}

/** The key event a trust node records, or null. */
function keyEvent(n: DecodedNode): KeyEvent | null {
  if (n.kind !== 'trust') return null;
  try {
    return (JSON.parse(Buffer.from(String((body(n).event as { payload?: unknown } | undefined)?.payload ?? ''), 'base64').toString()) as { predicate: KeyEvent }).predicate;
  } catch {
    return null;
  }
}

const handleOf = (vkey: string) => {
  try {
    return parseVerifierKey(vkey).handle;
  } catch {
    return vkey;
  }
};

/**
 * After the rotation (rotation.ts) and the restart: the pack spans both keys and verifies, the old
 * key signs exactly the nodes from its publication to the rotation index and the new key the rest, the KEY_ROTATE
 * event is recorded, and a copy with the node at the rotation index signed by the retired key is
 * refused for the rotation (the revocation starts one index later, so it is the rotation alone).
 */
async function trustRotation(t: Target, e: Evidence): Promise<Failures> {
  const r = t.rotation;
  if (!r) return ['the rotation step did not run'];
  const f: Failures = [];
  if (!e.verify.ok) f.push(`the pack spanning both keys does not verify: ${e.verify.firstProblem ? `${e.verify.firstProblem.code}: ${e.verify.firstProblem.message}` : 'unknown'}`);
  const dir = t.kit.manifest.writerId;
  const nodes = e.logs.get(dir) ?? [];
  const signers = (n: DecodedNode) => n.signatures.map((s) => s.keyid).join(',');
  // The old key signs from its own publication (a kit rotated before has older keys before it).
  const published = nodes.map(keyEvent).filter((ev) => ev && handleOf(ev.event === 'KEY_ROTATE' ? ev.newKey ?? '' : ev.event === 'KEY_PUBLISH' ? ev.key : '') === r.oldKey);
  const oldFrom = Math.min(...published.map((ev) => ev!.fromIndex), r.fromIndex);
  const before = nodes.filter((n) => pred(n).index >= oldFrom && pred(n).index < r.fromIndex);
  const after = nodes.filter((n) => pred(n).index >= r.fromIndex);
  for (const n of before) if (signers(n) !== r.oldKey) f.push(`${dir} index ${pred(n).index} (before the rotation at ${r.fromIndex}) is signed by ${signers(n)}, not the old key ${r.oldKey}`);
  for (const n of after) if (signers(n) !== r.newKey) f.push(`${dir} index ${pred(n).index} (from the rotation at ${r.fromIndex}) is signed by ${signers(n)}, not the new key ${r.newKey}`);
  if (before.length === 0) f.push(`the pack holds no node of ${dir} signed by the old key before the rotation index ${r.fromIndex}`);
  if (!after.some((n) => keyEvent(n)?.event === 'KEY_ROTATE')) f.push(`no trust node records the KEY_ROTATE event from index ${r.fromIndex}`);
  if (!after.some((n) => n.kind === 'decision')) f.push(`no decision signed by the new key after the rotation at ${r.fromIndex}`);
  if (after[0] === undefined || pred(after[0]).index !== r.fromIndex) return [...f, `the pack holds no node at the rotation index ${r.fromIndex}`];
  const v = await forgedBy(t, e, r.fromIndex, r.oldKeyFile);
  if (!v) return [...f, `node ${r.fromIndex} not found in the pack to sign with the retired key`];
  const refused = v.problems.find((p) => p.code === 'ERR_NODE_UNTRUSTED_SIGNER' && p.index === r.fromIndex);
  if (v.ok) f.push(`a copy with node ${r.fromIndex} signed by the key retired at ${r.fromIndex} verifies`);
  else if (!refused || !/rotated/.test(refused.message)) f.push(`a copy with node ${r.fromIndex} signed by the retired key fails, but not with ERR_NODE_UNTRUSTED_SIGNER naming the rotation (${refused?.message ?? v.problems[0]?.code})`);
  return f;
}

/**
 * After the revocation of the retired key from rotation index + 1 (rotation.ts) and the restart:
 * the pack verifies, a trust node records the KEY_REVOKE, and a copy with the last decision signed
 * by the revoked key is refused for the revocation (which the verifier names before the rotation).
 */
async function trustRevocation(t: Target, e: Evidence): Promise<Failures> {
  const r = t.rotation;
  if (!r) return ['the rotation and revocation step did not run'];
  const f: Failures = [];
  if (!e.verify.ok) f.push(`the pack with the revocation does not verify: ${e.verify.firstProblem ? `${e.verify.firstProblem.code}: ${e.verify.firstProblem.message}` : 'unknown'}`);
  const nodes = e.logs.get(t.kit.manifest.writerId) ?? [];
  const recorded = nodes.some((n) => {
    const ev = keyEvent(n);
    return ev?.event === 'KEY_REVOKE' && ev.fromIndex === r.revokedFrom && handleOf(ev.key) === r.oldKey;
  });
  if (!recorded) f.push(`no trust node records the KEY_REVOKE of the retired key ${r.oldKey} from index ${r.revokedFrom}`);
  const decision = nodes.filter((n) => n.kind === 'decision' && pred(n).index >= r.revokedFrom).at(-1);
  if (!decision) return [...f, `no decision at or after the revocation index ${r.revokedFrom}`];
  const idx = pred(decision).index;
  const v = await forgedBy(t, e, idx, r.oldKeyFile);
  if (!v) return [...f, `decision ${idx} not found in the pack to sign with the revoked key`];
  const refused = v.problems.find((p) => p.code === 'ERR_NODE_UNTRUSTED_SIGNER' && p.index === idx);
  if (v.ok) f.push(`a copy with decision ${idx} signed by the key revoked from ${r.revokedFrom} verifies`);
  else if (!refused || !/revoked/.test(refused.message)) f.push(`a copy with decision ${idx} signed by the revoked key fails, but not with ERR_NODE_UNTRUSTED_SIGNER naming the revocation (${refused?.message ?? v.problems[0]?.code})`);
  return f;
}

export const EVIDENCE_CHECKS: Record<string, EvidenceCheck> = {
  'L1-DENY-RECEIPT': denyReceipts,
  'L1-RECEIPT-SIGNATURE': signatures,
  'L1-LAMPORT': lamport,
  'L1-PROOFGRAPH': proofgraph,
  'L1-OFFLINE-VERIFY': offlineVerify,
  'L2-PACK-DETERMINISM': determinism,
  'L2-REPLAY': replay,
  'L2-TRUST-ROOT': trustRoot,
  'L2-TRUST-ROTATION': trustRotation,
  'L2-TRUST-REVOCATION': trustRevocation,
  'L3-MERKLE-PROOFS': merkleProofs,
  'L3-CRASH-DURABILITY': crashDurability,
};

// The verifier's trust anchors, in the C2SP tlog-policy file format (c2sp.org/tlog-policy): which
// logs sign checkpoints, which witnesses cosign them and what quorum of cosignatures is required.
// We add two line types: `root <vkey>` (the key whose trust events authorise node keys) and
// `exporter <vkey>` (keys allowed to sign pack manifests). Every key remembers its line, so a
// verifier can report where each trusted key came from. Spec: docs/spec/trust-policy.md.
// Portable: no node: imports; checkpoint verification takes a CryptoSuite.
import { equalBytes } from '../crypto/bytes.js';
import { ALG_COSIGNATURE_V1, ALG_ED25519, parseVerifierKey, type VerifierKey } from '../crypto/keys.js';
import { NoteError, verifyNote } from '../crypto/note.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { CheckpointError, parseCheckpointText, type Checkpoint } from '../proofgraph/checkpoint.js';

export interface PolicyKey {
  key: VerifierKey;
  /** 1-based line in the policy file. */
  line: number;
}

export interface TrustPolicy {
  source: string;
  logs: Array<PolicyKey & { url?: string }>;
  witnesses: Map<string, PolicyKey & { url?: string }>;
  groups: Map<string, { threshold: number; members: string[]; line: number }>;
  quorum: string;
  root: PolicyKey | null;
  exporters: PolicyKey[];
}

export type PolicyErrorCode =
  | 'ERR_POLICY_SYNTAX'
  | 'ERR_CHECKPOINT_MALFORMED'
  | 'ERR_CHECKPOINT_UNTRUSTED'
  | 'ERR_CHECKPOINT_BAD_SIGNATURE'
  | 'ERR_QUORUM_NOT_MET';

export class PolicyError extends Error {
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const NONE = 'none';
const MAX_POLICY_CHARS = 1 << 20;
// The spec allows tab, newline, 0x20-0x7E and anything with the high bit set.
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f]/;

type Role = 'log' | 'witness' | 'root' | 'exporter';

class PolicyParser {
  readonly logs: TrustPolicy['logs'] = [];
  readonly witnesses: TrustPolicy['witnesses'] = new Map();
  readonly groups: TrustPolicy['groups'] = new Map();
  readonly exporters: PolicyKey[] = [];
  root: PolicyKey | null = null;
  quorum: { name: string; line: number } | null = null;
  /** Names already listed as a group member somewhere: the spec allows each at most once. */
  private readonly usedAsMember = new Map<string, number>();
  private lineNo = 0;

  constructor(private readonly source: string) {}

  fail(message: string, line = this.lineNo): PolicyError {
    return new PolicyError('ERR_POLICY_SYNTAX', `${this.source}:${line}: ${message}`);
  }

  parse(text: string): TrustPolicy {
    if (text.length > MAX_POLICY_CHARS) throw this.fail('policy file is larger than 1 MiB', 1);
    // A final newline is optional, as in line-scanning implementations (sigsum-go).
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((raw, i) => {
      this.lineNo = i + 1;
      const bad = FORBIDDEN.exec(raw);
      if (bad) throw this.fail(`control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed (only tab and newline)`);
      const fields = raw.split(/[ \t]+/).filter((f) => f !== '');
      if (fields.length === 0 || fields[0]!.startsWith('#')) return;
      this.line(fields[0]!, fields.slice(1));
    });
    if (!this.quorum) throw this.fail('no quorum line (exactly one is required)', lines.length);
    return {
      source: this.source,
      logs: this.logs,
      witnesses: this.witnesses,
      groups: this.groups,
      quorum: this.quorum.name,
      root: this.root,
      exporters: this.exporters,
    };
  }

  private line(keyword: string, args: string[]): void {
    switch (keyword) {
      case 'log':
        return this.log(args);
      case 'witness':
        return this.witness(args);
      case 'group':
        return this.group(args);
      case 'quorum':
        return this.setQuorum(args);
      case 'root':
        return this.setRoot(args);
      case 'exporter':
        return this.exporter(args);
      default:
        throw this.fail(`unknown keyword ${JSON.stringify(keyword)} (expected log, witness, group, quorum, root or exporter)`);
    }
  }

  private key(vkey: string, role: Role): VerifierKey {
    let key: VerifierKey;
    try {
      key = parseVerifierKey(vkey);
    } catch (e) {
      throw this.fail(`${role} key: ${(e as Error).message}`);
    }
    const want = role === 'witness' ? ALG_COSIGNATURE_V1 : ALG_ED25519;
    if (key.alg !== want) {
      const why = role === 'witness' ? 'witness keys are cosignature/v1 keys (type 0x04)' : `${role} keys are Ed25519 note keys (type 0x01)`;
      throw this.fail(`${role} key ${key.handle} has type 0x0${key.alg.toString(16)}; ${why}`);
    }
    return key;
  }

  /** Duplicate = same public key, whatever its name or id (spec: "wrap the same underlying public key"). */
  private refuseDuplicate(key: VerifierKey, what: string, others: Iterable<PolicyKey>): void {
    for (const o of others) {
      if (equalBytes(o.key.publicKey, key.publicKey)) throw this.fail(`duplicate ${what}: same public key as line ${o.line}`);
    }
  }

  private defined(name: string): boolean {
    return name === NONE || this.witnesses.has(name) || this.groups.has(name);
  }

  private newName(name: string, what: string): void {
    if (this.defined(name)) throw this.fail(`${what} name ${JSON.stringify(name)} is already defined`);
  }

  private log(args: string[]): void {
    if (args.length < 1 || args.length > 2) throw this.fail('expected: log <vkey> [<url>]');
    const key = this.key(args[0]!, 'log');
    this.refuseDuplicate(key, 'log', this.logs);
    // Stricter than the spec: a log that is also a witness could satisfy the quorum by itself.
    this.refuseDuplicate(key, 'log (key is also a witness key)', this.witnesses.values());
    this.logs.push({ key, line: this.lineNo, ...(args[1] !== undefined ? { url: args[1] } : {}) });
  }

  private witness(args: string[]): void {
    if (args.length < 2 || args.length > 3) throw this.fail('expected: witness <name> <vkey> [<url>]');
    const name = args[0]!;
    this.newName(name, 'witness');
    const key = this.key(args[1]!, 'witness');
    this.refuseDuplicate(key, 'witness', this.witnesses.values());
    this.refuseDuplicate(key, 'witness (key is also a log key)', this.logs);
    this.witnesses.set(name, { key, line: this.lineNo, ...(args[2] !== undefined ? { url: args[2] } : {}) });
  }

  private group(args: string[]): void {
    if (args.length < 3) throw this.fail('expected: group <name> <all|any|k> <name>... (at least one member)');
    const [name, k, ...members] = args as [string, string, ...string[]];
    this.newName(name, 'group');
    const n = members.length;
    let threshold: number;
    if (k === 'all') threshold = n;
    else if (k === 'any') threshold = 1;
    else if (/^[0-9]+$/.test(k)) {
      threshold = Number(k);
      if (!(threshold >= 1 && threshold <= n)) throw this.fail(`group ${name} threshold ${k} is not in 1..${n}`);
    } else throw this.fail(`group ${name} threshold ${JSON.stringify(k)} is not all, any or a decimal number`);
    for (const m of members) {
      if (m === NONE) throw this.fail(`"none" cannot be a group member`);
      if (!this.defined(m)) throw this.fail(`group ${name} member ${JSON.stringify(m)} is not defined on an earlier line`);
      const earlier = this.usedAsMember.get(m);
      if (earlier !== undefined) throw this.fail(`${JSON.stringify(m)} is already listed as a group member (line ${earlier}); each name may be a member once`);
      this.usedAsMember.set(m, this.lineNo);
    }
    this.groups.set(name, { threshold, members, line: this.lineNo });
  }

  private setQuorum(args: string[]): void {
    if (args.length !== 1) throw this.fail('expected: quorum <name>');
    if (this.quorum) throw this.fail(`second quorum line (the first is line ${this.quorum.line})`);
    if (!this.defined(args[0]!)) throw this.fail(`quorum ${JSON.stringify(args[0])} is not a witness or group defined on an earlier line`);
    this.quorum = { name: args[0]!, line: this.lineNo };
  }

  private setRoot(args: string[]): void {
    if (args.length !== 1) throw this.fail('expected: root <vkey>');
    if (this.root) throw this.fail(`second root line (the first is line ${this.root.line})`);
    this.root = { key: this.key(args[0]!, 'root'), line: this.lineNo };
  }

  private exporter(args: string[]): void {
    if (args.length !== 1) throw this.fail('expected: exporter <vkey>');
    const key = this.key(args[0]!, 'exporter');
    this.refuseDuplicate(key, 'exporter', this.exporters);
    this.exporters.push({ key, line: this.lineNo });
  }
}

/**
 * Parses a policy file (already decoded from UTF-8; non-ASCII is treated as opaque, names compare
 * exactly). Throws PolicyError ERR_POLICY_SYNTAX naming `source:line`.
 */
export function parseTrustPolicy(text: string, source: string): TrustPolicy {
  return new PolicyParser(source).parse(text);
}

/** Whether the cosigning witnesses (policy names) satisfy the policy's quorum rule. */
export function quorumSatisfied(policy: TrustPolicy, cosigners: ReadonlySet<string>): boolean {
  const holds = (name: string): boolean => {
    if (name === NONE) return true;
    if (policy.witnesses.has(name)) return cosigners.has(name);
    const g = policy.groups.get(name);
    if (!g) return false;
    let count = 0;
    for (const m of g.members) if (holds(m)) count++;
    return count >= g.threshold;
  };
  return holds(policy.quorum);
}

function fromNoteError(e: NoteError): PolicyError {
  const code = e.code === 'ERR_NOTE_BAD_SIGNATURE' ? 'ERR_CHECKPOINT_BAD_SIGNATURE' : e.code === 'ERR_NOTE_UNVERIFIED' ? 'ERR_CHECKPOINT_UNTRUSTED' : 'ERR_CHECKPOINT_MALFORMED';
  return new PolicyError(code, `checkpoint: ${e.message}`);
}

/**
 * A checkpoint is valid under a policy if one of its logs signed it (key name == origin) and the
 * witnesses whose cosignatures verify satisfy the quorum. A signature by a policy key that does not
 * verify is an error even if others would suffice: it means the note was altered.
 */
export function verifyCheckpointWithPolicy(note: string, policy: TrustPolicy, suite: CryptoSuite): { checkpoint: Checkpoint; logKey: PolicyKey; witnesses: string[] } {
  const known = [...policy.logs.map((l) => l.key), ...[...policy.witnesses.values()].map((w) => w.key)];
  let opened;
  try {
    opened = verifyNote(note, known, suite);
  } catch (e) {
    if (e instanceof NoteError) throw fromNoteError(e);
    throw e;
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpointText(opened.text);
  } catch (e) {
    if (e instanceof CheckpointError) throw new PolicyError('ERR_CHECKPOINT_MALFORMED', e.message);
    throw e;
  }
  let logKey: PolicyKey | undefined;
  const witnesses: string[] = [];
  for (const v of opened.verified) {
    const log = policy.logs.find((l) => l.key.handle === v.key.handle && l.key.alg === v.key.alg);
    if (log && log.key.name === checkpoint.origin) logKey ??= log;
    for (const [name, w] of policy.witnesses) {
      if (w.key.handle === v.key.handle && w.key.alg === v.key.alg) witnesses.push(name);
    }
  }
  if (!logKey) {
    throw new PolicyError(
      'ERR_CHECKPOINT_UNTRUSTED',
      `checkpoint for ${JSON.stringify(checkpoint.origin)} is not signed by a log in ${policy.source} (a log key's name must equal the origin)`,
    );
  }
  if (!quorumSatisfied(policy, new Set(witnesses))) {
    throw new PolicyError('ERR_QUORUM_NOT_MET', `checkpoint ${checkpoint.origin}@${checkpoint.size}: cosigned by [${witnesses.join(', ')}], which does not satisfy quorum ${policy.quorum} of ${policy.source}`);
  }
  return { checkpoint, logKey, witnesses };
}

/** One human-readable line per trusted key: what it is trusted for and where that trust came from. */
export function describeKeySources(policy: TrustPolicy): string[] {
  const at = (line: number): string => `trust policy ${policy.source} line ${line}`;
  const out = policy.logs.map((l) => `log key ${l.key.handle}: ${at(l.line)}`);
  for (const [name, w] of policy.witnesses) out.push(`witness ${name} key ${w.key.handle}: ${at(w.line)}`);
  if (policy.root) out.push(`root key ${policy.root.key.handle}: ${at(policy.root.line)}`);
  for (const e of policy.exporters) out.push(`exporter key ${e.key.handle}: ${at(e.line)}`);
  return out;
}

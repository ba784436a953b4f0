// Builds real ProofGraph stores with the lead's ProofGraphWriter, deterministic keys and an injected
// clock, plus the trust policy that trusts them. Shared by the evidence and CLI tests.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import type { HashRef } from '../../kernel/contracts/node.js';
import { ProofGraphWriter, type AppendedNode } from '../../kernel/proofgraph/graph-writer.js';
import { signKeyEvent } from '../../kernel/trust/events.js';
import { parseTrustPolicy, type TrustPolicy } from '../../kernel/evidence/trust-policy.js';

export const T0 = Date.parse('2026-11-22T00:00:00.000Z');

export function testKey(name: string, alg?: number): SigningKey {
  const seed = createHash('sha256').update(`helm-oss evidence test key: ${name}`).digest();
  return signingKeyFromSeed(name, seed, nodeSigner, alg);
}

export interface Keys {
  root: SigningKey;
  exporter: SigningKey;
  witness: SigningKey;
  logs: Record<string, { log: SigningKey; node: SigningKey }>;
}

export function makeKeys(origins: readonly string[]): Keys {
  const logs: Keys['logs'] = {};
  for (const o of origins) logs[o] = { log: testKey(o), node: testKey(`node-${o.replace(/[^A-Za-z0-9]/g, '-')}`) };
  return { root: testKey('helm-root'), exporter: testKey('helm-exporter'), witness: testKey('witness-1', ALG_COSIGNATURE_V1), logs };
}

export function policyText(keys: Keys, o: { exporter?: boolean; root?: boolean; logs?: boolean } = {}): string {
  const lines = ['# test trust policy'];
  if (o.logs !== false) for (const k of Object.values(keys.logs)) lines.push(`log ${k.log.verifier.vkey}`);
  lines.push(`witness w1 ${keys.witness.verifier.vkey}`, 'quorum none');
  if (o.root !== false) lines.push(`root ${keys.root.verifier.vkey}`);
  if (o.exporter !== false) lines.push(`exporter ${keys.exporter.verifier.vkey}`);
  return lines.join('\n') + '\n';
}

export function policyFor(keys: Keys, o?: { exporter?: boolean; root?: boolean; logs?: boolean }): TrustPolicy {
  return parseTrustPolicy(policyText(keys, o), 'test.policy');
}

export class TestClock {
  constructor(public now = T0) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export function publishEvent(keys: Keys, origin: string, fromIndex = 0) {
  const k = keys.logs[origin]!;
  return signKeyEvent(
    nodeSuite,
    { event: 'KEY_PUBLISH', purpose: 'node', origin, key: k.node.verifier.vkey, fromIndex, issuedAt: '2026-11-21T00:00:00.000Z' },
    [keys.root, k.node],
  );
}

/** The root's certification of an origin's log key (purpose log), with the log key's proof of possession. */
export function certifyLogEvent(keys: Keys, origin: string, root = keys.root) {
  const k = keys.logs[origin]!;
  return signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'log', origin, key: k.log.verifier.vkey, fromIndex: 0, issuedAt: '2026-11-21T00:00:00.000Z' }, [root, k.log]);
}

const digest = (s: string): HashRef => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** One governed tool call: intent <- decision <- effect <- result, each naming the previous as parent. */
export async function toolCall(w: ProofGraphWriter, clock: TestClock, callId: string, verdict: 'ALLOW' | 'DENY' = 'ALLOW'): Promise<AppendedNode[]> {
  const tool = 'files.read';
  const intent = await w.append('intent', { surface: 'mcp', callId, tool, principal: 'agent-1', argsDigest: digest(`args ${callId}`) });
  clock.advance(3);
  const decision = await w.append(
    'decision',
    { callId, tool, verdict, reasonCode: verdict === 'ALLOW' ? 'RULE_ALLOW' : 'RULE_DENY', ruleIds: ['r1'], policyDigest: digest('policy'), inputDigest: digest(`input ${callId}`), engine: 'helm-pdp/0.1' },
    { parents: [{ hash: intent.entryHash }] },
  );
  clock.advance(5);
  const effect = await w.append('effect', { callId, tool, status: verdict === 'ALLOW' ? 'executed' : 'blocked', confirmed: true }, { parents: [{ hash: decision.entryHash }] });
  clock.advance(2);
  const result = await w.append('result', { callId, tool, status: verdict === 'ALLOW' ? 'ok' : 'rejected', outputDigest: digest(`out ${callId}`) }, { parents: [{ hash: effect.entryHash }] });
  clock.advance(10);
  return [intent, decision, effect, result];
}

export interface BuiltStore {
  root: string;
  keys: Keys;
  origins: string[];
  cleanup(): Promise<void>;
}

export interface StoreSpec {
  /** writerId -> origin */
  writers?: Record<string, string>;
  calls?: number;
  checkpointEvery?: number;
  /** Add a cross-log parent from the second writer to the first writer's last result. */
  crossLog?: boolean;
  heartbeatIntervalUs?: number;
  /** Also record the root's certification of each log key (a certified sidecar's log). */
  certifyLogs?: boolean;
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A store with one or more writers, each: start heartbeat, trust event, calls, periodic heartbeats, clean close. */
export async function buildStore(spec: StoreSpec = {}): Promise<BuiltStore> {
  const writers = spec.writers ?? { 'sidecar-a': 'helm.test/log-a' };
  const origins = Object.values(writers);
  const keys = makeKeys(origins);
  const { dir, cleanup } = await tempDir('helm-evidence-');
  const clock = new TestClock();
  let lastResult: AppendedNode | null = null;
  for (const [writerId, origin] of Object.entries(writers)) {
    const k = keys.logs[origin]!;
    const w = await ProofGraphWriter.open({
      root: dir,
      writerId,
      origin,
      nodeKey: k.node,
      logKey: k.log,
      clock: clock.read,
      trustEvents: spec.certifyLogs ? [publishEvent(keys, origin), certifyLogEvent(keys, origin)] : [publishEvent(keys, origin)],
      heartbeatIntervalUs: spec.heartbeatIntervalUs ?? 60_000_000,
      checkpointEvery: spec.checkpointEvery ?? 7,
    });
    const calls = spec.calls ?? 5;
    for (let i = 0; i < calls; i++) {
      if (spec.crossLog && lastResult && i === 0) {
        clock.advance(1);
        await w.append('intent', { surface: 'rest', callId: `x-${writerId}`, tool: 'relay', principal: 'agent-2', argsDigest: digest('relay') }, {
          parents: [{ origin: lastResult.origin, index: lastResult.index, hash: lastResult.entryHash, lamport: lastResult.lamport }],
        });
      }
      const nodes = await toolCall(w, clock, `${writerId}-call-${i}`, i % 3 === 2 ? 'DENY' : 'ALLOW');
      lastResult = nodes[3]!;
      if (i % 2 === 1) {
        clock.advance(1000);
        await w.heartbeat('periodic');
      }
    }
    await w.close();
    clock.advance(60_000);
  }
  return { root: dir, keys, origins, cleanup };
}

// Cost of a governed allow decision against one bare Ed25519 sign, interleaved in one run so
// machine noise hits both alike. The governed decision is what the PEP does for the DECISION
// node of an allowed call: canonicalize the DecisionInput, evaluate it (pure Guardian), store the
// input by hash (blob enqueue) and sign + enqueue the decision node for group commit. Durability
// (fsync) is awaited in batches outside the timed region, as the group commit does in the sidecar.
// Three bundles: 1 rule; 200 rules over 40 tools (the call evaluates its tool's 5); 200 rules that
// all select the called tool (every one evaluated: the worst case, reported but not the target).
// Also reported, untargeted: the whole Pep.decide (intent node too, so two signatures) as
// throughput with real fsyncs. Targets: p50 <= 1.5x and p99 <= 3x (1 rule); p50 <= 2x (200 rules).
// Run directly: npx tsx bench/decision.ts [iterations]
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jcs } from '../kernel/crypto/jcs.js';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../kernel/contracts/dsse.js';
import { encodeNode } from '../kernel/contracts/node.js';
import { canonicalDecisionInput, decisionBody, evaluatePrepared, formatInstant, loadPolicy, signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { BlobStore, Pep } from '../kernel/pep/index.js';
import { round, summarize } from './stats.js';

const key = (name: string) => signingKeyFromSeed(name, createHash('sha256').update(`bench ${name}`).digest(), nodeSigner);

const searchArgs = { type: 'object', properties: { q: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 50 } }, required: ['q'] };

/**
 * A bundle of `rules` rules. `spread`: 40 read tools with rules/40 rules each (an ALLOW and DENY
 * rules on the tool's own arguments), the usual shape, where a call evaluates only its tool's
 * rules. Otherwise every rule selects the called tool kb.search (the worst case: all evaluated).
 */
export function benchBundle(rules: number, spread = false): PolicyBundleDoc {
  const tools = spread ? Array.from({ length: 40 }, (_, i) => (i === 0 ? 'kb.search' : `kb.tool-${i}`)) : ['kb.search'];
  const perTool = Math.max(1, Math.floor(rules / tools.length));
  const ruleList = tools.flatMap((t, ti) => [
    { id: `allow-${ti}`, match: { tools: [t] }, when: 'size(args.q) > 0', verdict: 'ALLOW' as const },
    ...Array.from({ length: (ti === 0 ? rules - perTool * (tools.length - 1) : perTool) - 1 }, (_, i) => ({ id: `deny-${ti}-${i}`, match: { tools: [t] }, when: `args.q == 'forbidden term ${i}'`, verdict: 'DENY' as const })),
  ]);
  return {
    apiVersion: 'helm-policy-bundle/v1',
    kind: 'PolicyBundle',
    metadata: { name: `bench-${rules}${spread ? '-spread' : ''}` },
    domains: { kb: {} },
    grants: [{ id: 'agents', principals: { roles: ['agent'] }, domains: ['kb'], profile: 'read-only' }],
    tools: Object.fromEntries(tools.map((t) => [t, { domain: 'kb', sideEffect: 'read' as const, args: searchArgs }])),
    rules: ruleList,
  };
}

interface Side {
  p50Us: number;
  p99Us: number;
}

export interface DecisionBenchCase {
  rules: number;
  /** Rules the call evaluates (those selecting the called tool). */
  evaluated: number;
  bareSign: Side;
  governedDecision: Side;
  ratioP50: number;
  ratioP99: number;
  /** p50 of each step of the governed decision (every other iteration); appendDecision = encode + sign + enqueue. */
  stepsP50Us: { canonicalize: number; evaluate: number; inputBlob: number; appendDecision: number };
}

export interface DecisionBenchResult {
  name: string;
  iterations: number;
  entryBytes: number;
  cases: DecisionBenchCase[];
  targets: { rules1: { ratioP50: number; ratioP99: number }; rules200: { ratioP50: number } };
  /** rules200P50 is judged on the spread 200-rule bundle; the all-on-one-tool case is reported beside it. */
  met: { rules1P50: boolean; rules1P99: boolean; rules200P50: boolean; rules200AllOnOneToolP50: boolean };
  /** Whole Pep.decide (intent + decision nodes, input blob, real group-commit fsyncs), 1-rule bundle. */
  pepDecide: { decisions: number; concurrency: number; perSecond: number; meanCpuUs: number };
}

async function measure(rules: number, spread: boolean, iterations: number, dir: string): Promise<DecisionBenchCase & { entryBytes: number }> {
  const nodeKey = key('node');
  const clockMs = Date.parse('2026-11-22T10:00:00.000Z');
  let now = clockMs;
  const id = `w${rules}${spread ? 's' : ''}`;
  const writer = await ProofGraphWriter.open({ root: dir, writerId: id, origin: `bench.helm.local/${id}`, nodeKey, logKey: key(`bench.helm.local/${id}`), clock: () => now, checkpointEvery: 1_000_000 });
  const blobs = await BlobStore.open(join(dir, id), nodeSuite);
  try {
    const signer = key('bundle-signer');
    const doc = benchBundle(rules, spread);
    const policy = loadPolicy({ bundle: doc, signature: signBundle(doc, signer, nodeSuite) }, { roots: [signer.verifier], revoked: [] }, nodeSuite);
    if (policy.status !== 'ready') throw new Error(`bench bundle refused: ${policy.message}`);
    const digest = policy.bundle.contentHash;
    const intent = await writer.append('intent', { surface: 'mcp', callId: 'bench', tool: 'kb.search', principal: 'agent:bench', argsDigest: `sha256:${'0'.repeat(64)}` });
    const parents = [{ hash: intent.entryHash }];
    const principal = { id: 'agent:bench', roles: ['agent'], attributes: {} };
    const draft = (i: number) => ({ callId: `call-${i}`, surface: 'mcp', principal, tool: 'kb.search', args: { q: `how do I reset my password ${i}`, limit: 10 }, connector: null, sandbox: null, context: { session: 's-1' }, time: formatInstant(now), policyDigest: digest, state: { budgets: {}, rates: {} } });
    // Per-step times of the governed decision (ns), to show where it goes.
    const steps = { canonicalize: [] as number[], evaluate: [] as number[], inputBlob: [] as number[], appendDecision: [] as number[] };
    const governed = (i: number, record = false) => {
      const t0 = process.hrtime.bigint();
      const raw = draft(i);
      const canon = canonicalDecisionInput(raw);
      const t1 = process.hrtime.bigint();
      const d = evaluatePrepared(policy, raw, canon);
      if (d.verdict !== 'ALLOW' || !canon.ok) throw new Error(`expected ALLOW, got ${d.verdict} ${d.reasonCode}`);
      const t2 = process.hrtime.bigint();
      blobs.put(canon.bytes, d.inputDigest.slice(7)).durable.catch(() => undefined);
      const t3 = process.hrtime.bigint();
      writer.append('decision', { ...decisionBody(d, raw.callId, raw.tool), consumed: d.consumed! }, { parents }).catch(() => undefined);
      if (record) {
        const t4 = process.hrtime.bigint();
        steps.canonicalize.push(Number(t1 - t0));
        steps.evaluate.push(Number(t2 - t1));
        steps.inputBlob.push(Number(t3 - t2));
        steps.appendDecision.push(Number(t4 - t3));
      }
    };
    const sample = encodeNode(nodeSuite, { kind: 'decision', subjectName: 'call/x', predicate: { origin: 'o', index: 1, lamport: 2, prev: intent.entryHash, parents, time: formatInstant(now), body: { ...decisionBody(evaluatePrepared(policy, draft(0), null), 'call-0', 'kb.search') } } }, [{ keyid: nodeKey.verifier.handle, signer: nodeKey }]);
    const bareMsg = pae(IN_TOTO_PAYLOAD_TYPE, jcs(sample.statement));
    const warm = Math.min(5000, iterations / 4);
    for (let i = 0; i < warm; i++) {
      governed(-i - 1);
      nodeKey.sign(bareMsg);
    }
    await writer.checkpoint();
    const gov: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < iterations; i++) {
      now += 1;
      let t = process.hrtime.bigint();
      governed(i, i % 2 === 1);
      gov.push(Number(process.hrtime.bigint() - t));
      t = process.hrtime.bigint();
      nodeKey.sign(bareMsg);
      bare.push(Number(process.hrtime.bigint() - t));
      // Let the group commit drain outside the timed region, as the event loop would between calls.
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    await writer.checkpoint();
    const g = summarize(gov);
    const b = summarize(bare);
    return {
      rules,
      evaluated: policy.bundle.tools.get('kb.search')!.rules.length,
      entryBytes: sample.entry.length,
      bareSign: { p50Us: round(b.p50Us), p99Us: round(b.p99Us) },
      governedDecision: { p50Us: round(g.p50Us), p99Us: round(g.p99Us) },
      ratioP50: round(g.p50Us / b.p50Us),
      ratioP99: round(g.p99Us / b.p99Us),
      stepsP50Us: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round(summarize(v).p50Us)])) as DecisionBenchCase['stepsP50Us'],
    };
  } finally {
    await blobs.close();
    await writer.close();
  }
}

async function pepThroughput(dir: string, decisions: number, concurrency: number) {
  const signer = key('bundle-signer');
  const doc = benchBundle(1);
  const writer = await ProofGraphWriter.open({ root: dir, writerId: 'pep', origin: 'bench.helm.local/pep', nodeKey: key('node'), logKey: key('bench.helm.local/pep'), clock: Date.now, checkpointEvery: 1_000_000 });
  const pep = await Pep.open({ writer, logDir: join(dir, 'pep'), trust: { roots: [signer.verifier], revoked: [] }, clock: Date.now, random: (n) => new Uint8Array(n), policy: { bundle: doc, signature: signBundle(doc, signer, nodeSuite) } });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let next = 0;
    const loop = async () => {
      for (let i = next++; i < decisions; i = next++) {
        const o = await pep.decide({ callId: `c${i}`, surface: 'mcp', principal: { id: 'agent:bench', roles: ['agent'] }, tool: 'kb.search', args: { q: `query ${i}` } });
        if (o.verdict !== 'ALLOW') throw new Error(`${o.verdict} ${o.reasonCode}: ${o.detail}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { decisions, concurrency, perSecond: round(decisions / sec, 0), meanCpuUs: round((cpu.user + cpu.system) / decisions, 1) };
  } finally {
    await pep.close();
    await writer.close();
  }
}

export async function benchDecision(opts: { iterations?: number } = {}): Promise<DecisionBenchResult> {
  const iterations = opts.iterations ?? 20_000;
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-decision-'));
  try {
    const one = await measure(1, false, iterations, dir);
    const many = await measure(200, true, iterations, dir);
    const worst = await measure(200, false, iterations, dir);
    const pepDecide = await pepThroughput(dir, Math.min(iterations, 5000), 64);
    const targets = { rules1: { ratioP50: 1.5, ratioP99: 3 }, rules200: { ratioP50: 2 } };
    return {
      name: 'governed allow decision (canonicalize + evaluate + input blob + sign + durable enqueue) vs bare Ed25519 sign',
      iterations,
      entryBytes: one.entryBytes,
      cases: [one, many, worst].map(({ entryBytes: _e, ...c }) => c),
      targets,
      met: { rules1P50: one.ratioP50 <= targets.rules1.ratioP50, rules1P99: one.ratioP99 <= targets.rules1.ratioP99, rules200P50: many.ratioP50 <= targets.rules200.ratioP50, rules200AllOnOneToolP50: worst.ratioP50 <= targets.rules200.ratioP50 },
      pepDecide,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(JSON.stringify(await benchDecision(n ? { iterations: n } : {}), null, 2));
}

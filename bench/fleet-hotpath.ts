// The shipping benchmarks on the decision path (run by bench/fleet.ts against its S3):
// 1. hot-path cost: Pep.decide throughput (concurrency 16, real fsyncs) with shipping off and on
//    (attachShipping as the sidecar wires it) on fresh stores, after one discarded warm-up run, in
//    `pairs` pairs whose order alternates (off-on, on-off, ...) so a drift of the machine's speed
//    falls on both sides; the cost is the median of the per-pair ratios (single runs on a shared
//    machine varied by up to 27%, more than the 5% being measured);
// 2. ack-to-cosignature: decisions paced at `rate`/s with shipping on (interval 1 s); for each
//    decision, the time from its durable answer until the collector has cosigned a size past it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSuite } from '../kernel/crypto/node.js';
import type { SigningKey } from '../kernel/crypto/signing-key.js';
import { signBundle } from '../kernel/guardian/index.js';
import { Pep } from '../kernel/pep/index.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import { memoryLogger } from '../sidecar/log.js';
import { attachShipping, type Shipping } from '../sidecar/ship/attach.js';
import { benchBundle } from './decision.js';
import { round } from './stats.js';

export interface HotPathEnv {
  key: (name: string) => SigningKey;
  root: SigningKey;
  env: Record<string, string>;
}

let runs = 0;

async function openPep(h: HotPathEnv, ship: boolean, intervalMs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-fleet-pep-'));
  const origin = `helm/bench/ns/pod-hot/boot-${process.pid}-${runs++}`;
  const logKey = h.key(origin);
  const writer = await ProofGraphWriter.open({ root: dir, writerId: 'pep', origin, nodeKey: h.key('node'), logKey, clock: Date.now });
  const signer = h.key('bundle-signer');
  const doc = benchBundle(1);
  const pep = await Pep.open({ writer, logDir: join(dir, 'pep'), trust: { roots: [signer.verifier], revoked: [] }, clock: Date.now, random: (n) => new Uint8Array(n), policy: { bundle: doc, signature: signBundle(doc, signer, nodeSuite) } });
  let shipping: Shipping | null = null;
  if (ship) {
    const cert = signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'log', origin, key: logKey.verifier.vkey, fromIndex: 0, issuedAt: '2026-12-03T00:00:00.000Z' }, [h.root, logKey]);
    await writer.append('trust', { event: cert as unknown as Record<string, unknown> }, { subjectName: `log/${origin}` });
    shipping = await attachShipping({ env: { ...h.env, HELM_SHIP_INTERVAL_MS: String(intervalMs) }, pep, writer, logDir: join(dir, 'pep'), log: memoryLogger() });
  }
  return {
    pep,
    writer,
    shipping,
    async close() {
      await writer.close().catch(() => undefined);
      await pep.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const call = (i: number) => ({ callId: `c${i}`, surface: 'mcp' as const, principal: { id: 'agent:bench', roles: ['agent'] }, tool: 'kb.search', args: { q: `query ${i}` } });

/** Decisions per second, and this process's CPU time per decision (µs). */
async function throughput(h: HotPathEnv, ship: boolean, decisions: number): Promise<{ perSecond: number; cpuUs: number }> {
  const p = await openPep(h, ship, 1000);
  try {
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const loop = async () => {
      for (let i = next++; i < decisions; i = next++) {
        const o = await p.pep.decide(call(i));
        if (o.verdict !== 'ALLOW') throw new Error(`${o.verdict} ${o.reasonCode}: ${o.detail}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, loop));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return { perSecond: decisions / seconds, cpuUs: (cpu.user + cpu.system) / decisions };
  } finally {
    await p.close();
  }
}

export async function benchHotPath(h: HotPathEnv, o: { decisions?: number; pairs?: number; rate?: number; seconds?: number } = {}): Promise<Record<string, unknown>> {
  const decisions = o.decisions ?? 4000;
  const pairs = o.pairs ?? 8;
  await throughput(h, false, decisions); // warm-up: JIT, page cache
  const off: Array<{ perSecond: number; cpuUs: number }> = [];
  const on: Array<{ perSecond: number; cpuUs: number }> = [];
  for (let r = 0; r < pairs; r++) {
    const order = r % 2 === 0 ? [false, true] : [true, false];
    for (const ship of order) (ship ? on : off).push(await throughput(h, ship, decisions));
  }
  const quartiles = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    const q = (p: number) => round(v[Math.min(v.length - 1, Math.floor(p * v.length))]!, 1);
    return { medianOfPairs: q(0.5), lowerQuartile: q(0.25), upperQuartile: q(0.75), pairs: v.length };
  };
  // Ack to cosignature at a paced rate.
  const rate = o.rate ?? 1000;
  const seconds = o.seconds ?? 5;
  const p = await openPep(h, true, 1000);
  const ackAt = new Map<number, number>();
  const latencies: number[] = [];
  try {
    const total = rate * seconds;
    const t0 = performance.now();
    const pending: Promise<void>[] = [];
    let cosignedSeen = 0;
    const poll = setInterval(() => {
      const size = p.shipping!.shipper.metrics.cosignedSize;
      if (size <= cosignedSeen) return;
      const now = performance.now();
      for (const [index, at] of ackAt) if (index < size) (latencies.push(now - at), ackAt.delete(index));
      cosignedSeen = size;
    }, 20);
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(p.pep.decide(call(i)).then((out) => void (out.decision && ackAt.set(out.decision.index, performance.now()))));
    }
    await Promise.all(pending);
    const achieved = total / ((performance.now() - t0) / 1000);
    const deadline = performance.now() + 60_000;
    while (ackAt.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    clearInterval(poll);
    latencies.sort((a, b) => a - b);
    const pct = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! / 1000);
    return {
      decisionsPerRun: decisions,
      shippingOffPerSecond: off.map((x) => round(x.perSecond, 0)),
      shippingOnPerSecond: on.map((x) => round(x.perSecond, 0)),
      // Throughput lost with shipping on; on one machine it includes the S3 server's and the
      // collector's use of the same cores and disk.
      hotPathCostPercent: quartiles(off.map((x, i) => (1 - on[i]!.perSecond / x.perSecond) * 100)),
      // What the sidecar itself spends: this process's CPU per decision, on over off, minus one.
      cpuPerDecisionUs: { off: off.map((x) => round(x.cpuUs, 0)), on: on.map((x) => round(x.cpuUs, 0)) },
      sidecarCpuCostPercent: quartiles(off.map((x, i) => (on[i]!.cpuUs / x.cpuUs - 1) * 100)),
      ackToCosign: { targetDecisionsPerSecond: rate, achievedPerSecond: round(achieved, 0), receipts: latencies.length, notCosignedIn60s: ackAt.size, p50S: pct(0.5), p95S: pct(0.95), maxS: pct(1 - 1e-9) },
    };
  } finally {
    await p.close();
  }
}

// Replay of sandboxed calls (helmctl replay --modules DIR): every ALLOW whose RESULT records
// `compute` is run again from the pack alone (its recorded arguments, its pinned bundle's profile)
// with the module bytes from DIR, and the output digest, gas and ending code are compared with the
// record. Calls whose profile grants the clock or randomness, or that ended on wall time, cannot be
// compared bit for bit and are reported as skipped with the reason.
import { fromUtf8 } from '../kernel/crypto/bytes.js';
import type { CryptoSuite } from '../kernel/crypto/suite.js';
import type { DecisionReplayer, ReplayGraph, ReplayNode } from '../kernel/evidence/decision-replay.js';
import { compileBundle, type CompiledBundle } from '../kernel/guardian/compile.js';
import { computeToolOf, type ComputeTool } from '../kernel/guardian/sandboxed-tools.js';
import type { ComputeRecord } from '../kernel/pep/types.js';
import type { ComputeInput } from '../kernel/sandbox/types.js';
import { ModuleStore } from '../sidecar/sandbox/modules.js';
import { Sandbox } from './index.js';

export interface RecordedCompute {
  readonly callId: string;
  readonly tool: string;
  readonly origin: string;
  readonly index: number;
  /** What the RESULT recorded. */
  readonly compute: ComputeRecord;
  readonly reasonCode: string | null;
  /** Resolved from the pinned bundle, or why it could not be. */
  readonly run: { tool: ComputeTool; args: Record<string, unknown> } | { skip: string };
}

export interface ComputeReplay {
  readonly callId: string;
  readonly tool: string;
  readonly at: string;
  readonly status: 'identical' | 'diverged' | 'skipped';
  readonly reasons: readonly string[];
  readonly replayed?: { outputDigest: string; gas: number; reasonCode: string | null };
}

const hexOf = (h: string) => h.slice('sha256:'.length);

/** Wraps a decision replayer to also collect the sandboxed calls of the pack (synchronously, as replayPack walks it). */
export function collectComputeCalls(inner: DecisionReplayer, suite: CryptoSuite): { replayer: DecisionReplayer; calls: RecordedCompute[] } {
  const calls: RecordedCompute[] = [];
  const bundles = new Map<string, CompiledBundle | string>();
  const bundleOf = (g: ReplayGraph, digest: string): CompiledBundle | string => {
    let hit = bundles.get(digest);
    if (hit === undefined) {
      const bytes = g.blob('policy', hexOf(digest));
      const c = bytes ? compileBundle(JSON.parse(fromUtf8(bytes)), suite) : null;
      hit = c === null ? `bundle ${digest} is not in the pack` : c.ok ? c.bundle : `bundle ${digest} does not compile`;
      bundles.set(digest, hit);
    }
    return hit;
  };
  const collect = (d: ReplayNode, g: ReplayGraph) => {
    if (d.body.verdict !== 'ALLOW' || typeof d.body.sandbox !== 'string') return;
    const effect = g.children(d.origin, d.entryHash).find((n) => n.kind === 'effect');
    const result = effect ? g.children(effect.origin, effect.entryHash).find((n) => n.kind === 'result') : undefined;
    if (!result || typeof result.body.compute !== 'object' || result.body.compute === null) return;
    const base = { callId: String(d.body.callId), tool: String(d.body.tool), origin: result.origin, index: result.index, compute: result.body.compute as unknown as ComputeRecord, reasonCode: typeof result.body.reasonCode === 'string' ? result.body.reasonCode : null };
    const bundle = typeof d.body.policyDigest === 'string' ? bundleOf(g, d.body.policyDigest) : 'no bundle recorded';
    if (typeof bundle === 'string') return void calls.push({ ...base, run: { skip: bundle } });
    const tool = computeToolOf(bundle, base.tool);
    if (!tool) return void calls.push({ ...base, run: { skip: `${base.tool} is not a wasm tool of its pinned bundle` } });
    const input = g.blob('input', hexOf(String(d.body.inputDigest)));
    if (!input) return void calls.push({ ...base, run: { skip: `input ${String(d.body.inputDigest)} is not in the pack` } });
    const args = (JSON.parse(fromUtf8(input)) as { args: Record<string, unknown> }).args;
    calls.push({ ...base, run: { tool, args } });
  };
  return {
    calls,
    replayer: (d, g) => {
      collect(d, g);
      return inner(d, g);
    },
  };
}

function inputOf(tool: ComputeTool, args: Record<string, unknown>): ComputeInput {
  return tool.stdin === 'args' ? { json: args } : { bytes: new TextEncoder().encode(String(args[tool.stdin.arg])) };
}

/** Runs each collected call again and compares it with its RESULT. */
export async function replayComputeCalls(calls: readonly RecordedCompute[], moduleDir: string): Promise<ComputeReplay[]> {
  const modules = new ModuleStore(moduleDir);
  const sandbox = new Sandbox({ size: 1 });
  const out: ComputeReplay[] = [];
  try {
    for (const c of calls) {
      const at = `${c.origin}#${c.index}`;
      const head = { callId: c.callId, tool: c.tool, at };
      if ('skip' in c.run) {
        out.push({ ...head, status: 'skipped', reasons: [c.run.skip] });
        continue;
      }
      const { tool, args } = c.run;
      if (tool.grants.clock || tool.grants.random) {
        out.push({ ...head, status: 'skipped', reasons: [`profile ${tool.profile} grants the clock or randomness: not replayable bit for bit`] });
        continue;
      }
      if (c.reasonCode === 'ERR_COMPUTE_TIME_EXHAUSTED') {
        out.push({ ...head, status: 'skipped', reasons: ['the call ended on wall time, which depends on the machine'] });
        continue;
      }
      const m = await modules.read(tool.module);
      if (!m.ok) {
        out.push({ ...head, status: 'skipped', reasons: [m.message] });
        continue;
      }
      const o = await sandbox.run({ module: { bytes: m.bytes, sha256: tool.sha256 }, input: inputOf(tool, args), args: tool.argv, limits: tool.limits, grants: tool.grants });
      const replayed = o.ok ? { outputDigest: `sha256:${o.outputDigest}`, gas: o.usage.gas, reasonCode: null } : { outputDigest: c.compute.outputDigest, gas: o.usage?.gas ?? 0, reasonCode: o.reasonCode as string };
      const reasons: string[] = [];
      // A guest that stopped early has no output to compare; its code and gas are what it did.
      if (o.ok && replayed.outputDigest !== c.compute.outputDigest) reasons.push(`output ${c.compute.outputDigest} recorded, ${replayed.outputDigest} replayed`);
      if (replayed.gas !== c.compute.gas) reasons.push(`gas ${c.compute.gas} recorded, ${replayed.gas} replayed`);
      const recordedCode = c.reasonCode;
      // stdout that is not what the tool declares is refused after a clean run (GUEST_FAULT with the output's digest).
      if (o.ok ? recordedCode !== null && recordedCode !== 'ERR_COMPUTE_GUEST_FAULT' : recordedCode !== replayed.reasonCode) reasons.push(`ended ${recordedCode ?? 'ok'} recorded, ${replayed.reasonCode ?? 'ok'} replayed`);
      out.push({ ...head, status: reasons.length ? 'diverged' : 'identical', reasons, replayed });
    }
  } finally {
    await sandbox.close();
  }
  return out;
}

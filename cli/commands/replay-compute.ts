// helmctl replay --modules DIR: re-runs the pack's sandboxed calls (sandbox/replay.ts) and reports
// each divergence in output or gas. Without --modules they are listed as not re-run.
import { replayComputeCalls, type ComputeReplay, type RecordedCompute } from '../../sandbox/replay.js';

export async function replaySandboxed(calls: readonly RecordedCompute[], modules: string | undefined): Promise<ComputeReplay[]> {
  if (modules !== undefined) return replayComputeCalls(calls, modules);
  return calls.map((c) => ({ callId: c.callId, tool: c.tool, at: `${c.origin}#${c.index}`, status: 'skipped' as const, reasons: ['not re-run: pass --modules DIR (the directory holding the pinned modules)'] }));
}

export function computeLines(results: readonly ComputeReplay[], modules: string | undefined): string[] {
  if (results.length === 0) return [];
  const n = (s: ComputeReplay['status']) => results.filter((r) => r.status === s).length;
  const out = ['', `sandboxed calls re-run${modules ? ` with modules from ${modules}` : ''}: ${results.length} (${n('identical')} identical, ${n('diverged')} diverged, ${n('skipped')} skipped)`];
  for (const r of results.filter((x) => x.status !== 'identical')) out.push(`  ${r.status} ${r.at} ${r.callId} (${r.tool}): ${r.reasons.join('; ')}`);
  return out;
}

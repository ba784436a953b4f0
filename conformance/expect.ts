// Small assertions for checks: each returns the failure messages it found (none = pass).
import type { ChatAnswer, RestAnswer, Target } from './target.js';

export type Failures = string[];

export function restVerdict(a: RestAnswer): { verdict: string; reasonCode: string } {
  return { verdict: String(a.body.verdict ?? `(HTTP ${a.status})`), reasonCode: String(a.body.reasonCode ?? (a.body.error as { code?: string } | undefined)?.code ?? '') };
}

export function expectRest(f: Failures, what: string, a: RestAnswer, want: { status?: number; verdict: string; reasonCode?: string }): void {
  const got = restVerdict(a);
  if (got.verdict !== want.verdict || (want.reasonCode !== undefined && got.reasonCode !== want.reasonCode) || (want.status !== undefined && a.status !== want.status)) {
    f.push(`${what}: expected ${want.status ?? ''} ${want.verdict} ${want.reasonCode ?? ''}, got HTTP ${a.status} ${got.verdict} ${got.reasonCode}`.replace(/\s+/g, ' '));
  }
}

/** The decision the proxy reported for one tool of a chat answer. */
export function chatDecision(a: ChatAnswer, tool: string) {
  return a.decisions.find((d) => d.tool === tool);
}

export function expectChat(f: Failures, what: string, a: ChatAnswer, tool: string, want: { verdict: string; reasonCode?: string }): void {
  const d = chatDecision(a, tool);
  const delivered = a.delivered.some((c) => c.name === tool);
  if (!d) f.push(`${what}: the proxy reported no decision for ${tool} (HTTP ${a.status})`);
  else if (d.verdict !== want.verdict || (want.reasonCode !== undefined && d.reasonCode !== want.reasonCode)) f.push(`${what}: expected ${want.verdict} ${want.reasonCode ?? ''}, got ${d.verdict} ${d.reasonCode}`);
  if (want.verdict !== 'ALLOW' && delivered) f.push(`${what}: the ${want.verdict} call of ${tool} was delivered to the agent`);
  if (want.verdict === 'ALLOW' && !delivered) f.push(`${what}: the allowed call of ${tool} was not delivered to the agent`);
}

/** Runs `body` and fails when the upstream executed `tool` a different number of times than `n`. */
export async function executedTimes(f: Failures, t: Target, upstreamTool: string, n: number, what: string, body: () => Promise<void>): Promise<void> {
  const before = (await t.executions()).filter((e) => e.tool === upstreamTool).length;
  await body();
  const after = (await t.executions()).filter((e) => e.tool === upstreamTool).length;
  if (after - before !== n) f.push(`${what}: the upstream executed ${upstreamTool} ${after - before} time(s), expected ${n}`);
}

// The three rounds of `npm run harden`: hostile-input fuzz, concurrent identical calls against a
// budget, and SIGKILL at random moments. Each round returns a JSON-able summary; findings (a 500,
// an unverifiable pack, an over-budget execution, a sidecar that died or did not come back) are
// listed in `failures`.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { hostileCases, type HostileCase } from './hostile.js';
import { between, type Rng } from './rng.js';
import type { SidecarProcess } from './sidecar-proc.js';
import { KILL_TOOL } from './tools.js';

export interface RoundSummary {
  round: string;
  requests: number;
  status: Record<string, number>;
  count500: number;
  rssMiB: number | null;
  failures: string[];
  [extra: string]: unknown;
}

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** POSTs and returns the status code as text, or net:<error> when no response came. */
export async function post(url: string, body: string | Uint8Array, headers: Record<string, string>, timeoutMs = 30_000): Promise<{ status: string; text: string; headers: Headers | null }> {
  try {
    const r = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await r.text();
    return { status: String(r.status), text, headers: r.headers };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { status: `net:${err.cause?.code ?? err.name}`, text: '', headers: null };
  }
}

function tally(status: Record<string, number>, s: string): void {
  status[s] = (status[s] ?? 0) + 1;
}

/** A raw MCP session (initialize + initialized) so hostile tools/call bodies reach the gateway. */
async function mcpSession(base: string): Promise<Record<string, string>> {
  const init = await post(`${base}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'helm-harden', version: '1' } } }), MCP_HEADERS);
  const sid = init.headers?.get('mcp-session-id');
  const h: Record<string, string> = { ...MCP_HEADERS, 'mcp-protocol-version': '2025-03-26', ...(sid ? { 'mcp-session-id': sid } : {}) };
  await post(`${base}/mcp`, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
  return h;
}

async function sendCase(sc: SidecarProcess, c: HostileCase, mcpHeaders: Record<string, string>): Promise<string> {
  const url = c.surface === 'openai' ? `${sc.governedUrl}/v1/chat/completions` : c.surface === 'mcp' ? `${sc.governedUrl}/mcp` : `${sc.governedUrl}/mcp/v1/execute`;
  const headers = c.surface === 'mcp' ? mcpHeaders : { 'content-type': c.contentType ?? 'application/json' };
  return (await post(url, c.body, headers)).status;
}

export async function fuzzRound(sc: SidecarProcess, rng: Rng, count: number, index: number): Promise<RoundSummary> {
  const status: Record<string, number> = {};
  const bySurface: Record<string, Record<string, number>> = {};
  const failures: string[] = [];
  // A connection closed before an answer (e.g. EPIPE while a huge body is still being sent after
  // an early 413) is reported, not a finding: only a dead sidecar is.
  const notes = new Set<string>();
  const sources500 = new Set<string>();
  let requests = 0;
  const mcpHeaders = await mcpSession(sc.governedUrl);
  for (let i = 0; i < count; i++) {
    const cases = hostileCases(rng);
    // A few at a time: concurrency finds shared-state bugs, a bound keeps memory in check.
    for (let j = 0; j < cases.length; j += 4) {
      const batch = cases.slice(j, j + 4);
      const got = await Promise.all(batch.map((c) => sendCase(sc, c, mcpHeaders)));
      got.forEach((s, k) => {
        const c = batch[k]!;
        requests += 1;
        tally(status, s);
        tally((bySurface[c.surface] ??= {}), s);
        if (s === '500') sources500.add(`${c.surface}: ${c.name}`);
        if (s.startsWith('net:')) notes.add(`no answer (${s}) to ${c.surface}: ${c.name}`);
      });
      if (!sc.running) {
        failures.push(`the sidecar exited during the fuzz (after ${requests} requests)`);
        break;
      }
    }
    if (!sc.running) break;
  }
  for (const s of sources500) failures.push(`500 from ${s}`);
  return { round: `fuzz-${index}`, requests, status, bySurface, count500: status['500'] ?? 0, rssMiB: sc.rssMiB(), notes: [...notes], failures: [...new Set(failures)] };
}

/** N identical calls of one budgeted tool at once, over MCP (tools/call) or REST. */
export async function raceRound(sc: SidecarProcess, tool: string, n: number, surface: 'mcp' | 'rest', index: number): Promise<RoundSummary> {
  const status: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  if (surface === 'rest') {
    const body = JSON.stringify({ tool, arguments: { n: 1 } });
    const got = await Promise.all(Array.from({ length: n }, () => post(`${sc.governedUrl}/mcp/v1/execute`, body, { 'content-type': 'application/json' })));
    for (const g of got) {
      tally(status, g.status);
      let verdict = 'unparsed';
      try {
        const j = JSON.parse(g.text) as { verdict?: string; reasonCode?: string; error?: { code?: string } };
        verdict = j.verdict ? `${j.verdict}${j.reasonCode ? ` ${j.reasonCode}` : ''}` : (j.error?.code ?? 'no verdict');
      } catch {
        // counted as unparsed
      }
      tally(outcomes, verdict);
    }
  } else {
    const client = new Client({ name: 'helm-harden-race', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${sc.governedUrl}/mcp`)));
    const got = await Promise.allSettled(Array.from({ length: n }, () => client.callTool({ name: tool, arguments: { n: 1 } })));
    for (const g of got) {
      const key = g.status === 'fulfilled' ? (g.value.isError ? 'tool error' : 'result') : `refused: ${String((g.reason as Error).message).slice(0, 60)}`;
      tally(outcomes, key);
      tally(status, g.status === 'fulfilled' ? 'ok' : 'rejected');
    }
    await client.close();
  }
  return { round: `race-${index}`, surface, tool, requests: n, status, outcomes, count500: status['500'] ?? 0, rssMiB: sc.rssMiB(), failures: status['500'] ? [`${status['500']} answers of 500 in the race`] : [] };
}

/** Load (REST calls of the kill tool and chat completions) until stopped. */
function startLoad(sc: SidecarProcess, status: Record<string, number>): { stop(): Promise<void> } {
  let running = true;
  let n = 0;
  const worker = async (kind: 'rest' | 'openai') => {
    while (running) {
      const r =
        kind === 'rest'
          ? await post(`${sc.governedUrl}/mcp/v1/execute`, JSON.stringify({ tool: KILL_TOOL, arguments: { n: ++n } }), { 'content-type': 'application/json' }, 10_000)
          : await post(`${sc.governedUrl}/v1/chat/completions`, JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'look up cus_12345678' }] }), { 'content-type': 'application/json' }, 10_000);
      tally(status, r.status);
      if (r.status.startsWith('net:')) await new Promise((res) => setTimeout(res, 20));
    }
  };
  const all = Promise.all([worker('rest'), worker('rest'), worker('openai'), worker('openai')]);
  return {
    async stop() {
      running = false;
      await all;
    },
  };
}

export async function killRound(sc: SidecarProcess, rng: Rng, kills: number, index: number): Promise<RoundSummary> {
  const status: Record<string, number> = {};
  const failures: string[] = [];
  const restarts: Array<{ afterMs: number; restartMs: number | null; rssMiB: number | null }> = [];
  for (let k = 0; k < kills; k++) {
    const load = startLoad(sc, status);
    const afterMs = between(rng, 50, 1500);
    await new Promise((r) => setTimeout(r, afterMs));
    await sc.kill9();
    await load.stop();
    let restartMs: number | null = null;
    try {
      restartMs = await sc.start();
    } catch (e) {
      failures.push(`restart after SIGKILL #${k + 1} failed: ${(e as Error).message}`);
      restarts.push({ afterMs, restartMs, rssMiB: null });
      break;
    }
    restarts.push({ afterMs, restartMs, rssMiB: sc.rssMiB() });
  }
  if (status['500']) failures.push(`${status['500']} answers of 500 under load around the kills`);
  return { round: `kill-${index}`, requests: Object.values(status).reduce((a, b) => a + b, 0), status, count500: status['500'] ?? 0, rssMiB: sc.rssMiB(), restarts, failures };
}

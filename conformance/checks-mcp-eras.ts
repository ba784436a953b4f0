// L3-MCP-ERAS: a 2026-07-28 client (v2 SDK, no initialize), a 2025 client over Streamable HTTP
// and a legacy HTTP+SSE client each list the gateway's tools (granted ones only) and call one
// allowed and one refused tool; the refusal must be the JSON-RPC denial with the reason code.
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Failures } from './expect.js';
import type { Target } from './target.js';

interface EraClient {
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<{ content?: unknown; _meta?: Record<string, unknown> }>;
  close(): Promise<void>;
}

export const DENIED = -32060;

/** Calls a tool; a refusal (JSON-RPC error) is noted in the target's observations. */
export async function mcpCall(t: Target, c: EraClient, name: string, args: Record<string, unknown>): Promise<{ verdict: string; reasonCode: string; code: number | null }> {
  try {
    const r = await c.callTool({ name, arguments: args });
    const rc = r._meta?.['helm.mindburn.org/receipt'] as { verdict?: string; reasonCode?: string; callId?: string; decision?: string } | undefined;
    if (rc?.verdict) t.observed.push({ surface: 'mcp', tool: name, callId: String(rc.callId ?? ''), verdict: rc.verdict, reasonCode: String(rc.reasonCode ?? ''), receipt: rc.decision ?? null });
    return { verdict: rc?.verdict ?? '(no receipt)', reasonCode: String(rc?.reasonCode ?? ''), code: null };
  } catch (e) {
    const err = e as { code?: number; data?: { reasonCode?: string; verdict?: string; callId?: string; receipts?: { decision?: string } } };
    const d = err.data ?? {};
    if (typeof d.verdict === 'string') t.observed.push({ surface: 'mcp', tool: name, callId: String(d.callId ?? ''), verdict: d.verdict, reasonCode: String(d.reasonCode ?? ''), receipt: d.receipts?.decision ?? null });
    const code = Number(err.code);
    return { verdict: code === DENIED ? 'DENY' : code === -32061 ? 'ESCALATE' : `(JSON-RPC ${code})`, reasonCode: String(d.reasonCode ?? ''), code };
  }
}

export async function connectEra(t: Target, era: '2026' | '2025' | 'sse'): Promise<EraClient> {
  if (era === '2026') {
    const c = new ModernClient({ name: 'helm-conformance', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await c.connect(new ModernHttp(new URL(`${t.governedUrl}/mcp`)));
    return { listTools: () => c.listTools(undefined, { cacheMode: 'refresh' }) as Promise<{ tools: Array<{ name: string }> }>, callTool: (p) => c.callTool(p) as never, close: () => c.close() };
  }
  const c = new LegacyClient({ name: 'helm-conformance', version: '1.0.0' });
  await c.connect(era === '2025' ? new LegacyHttp(new URL(`${t.governedUrl}/mcp`)) : new SSEClientTransport(new URL(`${t.governedUrl}/sse`)));
  return { listTools: () => c.listTools(), callTool: (p) => c.callTool(p) as never, close: () => c.close() };
}

export async function checkMcpEras(t: Target): Promise<Failures> {
  const f: Failures = [];
  for (const era of ['2026', '2025', 'sse'] as const) {
    let c: EraClient;
    try {
      c = await connectEra(t, era);
    } catch (e) {
      f.push(`${era}: could not connect: ${(e as Error).message}`);
      continue;
    }
    try {
      const names = (await c.listTools()).tools.map((x) => x.name);
      if (!names.includes('conf__echo')) f.push(`${era}: tools/list lacks the granted conf__echo`);
      for (const hidden of ['conf__secrets', 'conf__wipe']) if (names.includes(hidden)) f.push(`${era}: tools/list shows ${hidden}, which the principal may not call`);
      const ok = await mcpCall(t, c, 'conf__echo', { text: `era ${era}` });
      if (ok.verdict !== 'ALLOW') f.push(`${era}: the allowed call: expected an ALLOW receipt, got ${JSON.stringify(ok)}`);
      const r = await mcpCall(t, c, 'conf__echo', { text: 'x', smuggled: 'y' });
      if (r.code !== DENIED || r.reasonCode !== 'ERR_TOOL_ARGS_UNKNOWN_FIELD') f.push(`${era}: a call with an extra field: expected error ${DENIED} ERR_TOOL_ARGS_UNKNOWN_FIELD, got ${JSON.stringify(r)}`);
    } catch (e) {
      f.push(`${era}: ${(e as Error).message}`);
    } finally {
      await c.close().catch(() => undefined);
    }
  }
  return f;
}

// The proxy under test, wired as in a pod: a real PEP (real ProofGraph writer on a temp volume,
// the signed example bundle), the scripted model as upstream, the proxy mounted on a node:http
// server, and the real openai SDK as the agent. Plus readers for the receipts it leaves.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { decodeNode, type DecodedNode } from '../../../kernel/contracts/node.js';
import { readLog } from '../../../kernel/proofgraph/store/index.js';
import { createOpenAiProxy, type OpenAiProxy, type OpenAiProxyOptions, type ProxyObserver } from '../../../sidecar/openai/index.js';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../../../sidecar/scripted-model/server.js';
import { openHarness, SUPPORT, type Harness, type HarnessOptions } from '../../pep/support.js';

/** How the support agent's executor reaches each tool of the example bundle. */
export const ROUTES = {
  'crm.lookup_customer': { connector: 'crm-api' },
  'tickets.update': { connector: 'helpdesk-mcp' },
  'mail.send': { connector: 'mailer' },
  'billing.refund': { connector: 'payments-api' },
  'kb.fetch_article': { sandbox: 'egress-only' },
};

export type Observed = { decisions: unknown[]; filtered: unknown[]; upstream: unknown[] };

export interface Lab {
  h: Harness;
  model: ScriptedModel;
  proxy: OpenAiProxy;
  server: Server;
  /** The proxy's base URL (…/v1). */
  url: string;
  client: OpenAI;
  observed: Observed;
  /** Replaces the script for the following turns. */
  script(next: (request: unknown, turn: number) => ScriptedTurn): void;
  close(): Promise<void>;
}

export interface LabOptions {
  script?: (request: unknown, turn: number) => ScriptedTurn;
  proxy?: Partial<OpenAiProxyOptions>;
  harness?: HarnessOptions;
  /** Upstream base URL instead of the scripted model's. */
  upstreamUrl?: string;
  /** Upstream timeout (default 5 s). */
  timeoutMs?: number;
  /** The sidecar's upstream key (credential isolation). */
  apiKey?: string;
}

export async function openLab(o: LabOptions = {}): Promise<Lab> {
  const h = await openHarness(o.harness);
  let current = o.script ?? (() => ({ content: 'hello' }));
  const model = await startScriptedModel({ script: (r, t) => current(r, t) });
  const observed: Observed = { decisions: [], filtered: [], upstream: [] };
  const observer: ProxyObserver = {
    decision: (e) => observed.decisions.push(e),
    toolsFiltered: (e) => observed.filtered.push(e),
    upstream: (e) => observed.upstream.push(e),
  };
  const proxy = createOpenAiProxy({
    pep: h.pep,
    principal: SUPPORT,
    upstream: { baseUrl: o.upstreamUrl ?? model.url, timeoutMs: o.timeoutMs ?? 5000, ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}) },
    toolRoutes: ROUTES,
    observer,
    ...o.proxy,
  });
  const server = createServer((req, res) => void proxy.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const client = new OpenAI({ baseURL: url, apiKey: 'agent-key', maxRetries: 0, timeout: 20_000 });
  return {
    h,
    model,
    proxy,
    server,
    url,
    client,
    observed,
    script(next) {
      current = next;
    },
    async close() {
      await proxy.drain();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await model.close();
      // A test may have broken the store on purpose: closing then fails, removal must still run.
      await h.cleanup().catch(() => h.cleanup());
    },
  };
}

export const TOOLS = ['crm.lookup_customer', 'billing.refund', 'mail.send', 'ops.purge_cache'].map((name) => ({
  type: 'function' as const,
  function: { name, description: `the ${name} tool`, parameters: { type: 'object', properties: {} } },
}));

export const call = (id: string, name: string, args: unknown) => ({ id, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** A request with fetch, for assertions on the exact bytes. */
export async function raw(url: string, body: unknown, init: { headers?: Record<string, string>; method?: string } = {}): Promise<RawResponse> {
  const r = await fetch(`${url}/chat/completions`, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer agent-key', ...init.headers },
    ...(init.method === 'GET' ? {} : { body: typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body) }),
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

/** The data payloads of an SSE body. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((f) => f.trim())
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice('data: '.length));
}

export interface Graph {
  nodes: DecodedNode[];
  byHash: Map<string, DecodedNode>;
  body(n: DecodedNode): Record<string, unknown>;
  parents(n: DecodedNode): DecodedNode[];
  children(n: DecodedNode): DecodedNode[];
  decisionsOf(callId: string): DecodedNode[];
}

/** Decodes the whole log and checks every node's signature by the node key. */
export async function readGraph(h: Harness): Promise<Graph> {
  const log = await readLog(h.logDir);
  const nodes = log.entries.map((e) => decodeNode(nodeSuite, e));
  for (const n of nodes) {
    const sig = n.signatures[0]!;
    if (n.kind !== 'trust' && (sig.keyid !== h.node.verifier.handle || !nodeSuite.verifyEd25519(h.node.publicKey, n.pae, sig.sig))) throw new Error(`node ${n.entryHash} is not signed by the node key`);
  }
  const byHash = new Map(nodes.map((n) => [n.entryHash as string, n]));
  const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;
  const parents = (n: DecodedNode) => (n.statement.predicate.parents as Array<{ hash: string }>).map((p) => byHash.get(p.hash)!).filter(Boolean);
  return {
    nodes,
    byHash,
    body,
    parents,
    children: (n) => nodes.filter((c) => (c.statement.predicate.parents as Array<{ hash: string }>).some((p) => p.hash === n.entryHash)),
    decisionsOf: (callId) => nodes.filter((n) => n.kind === 'decision' && body(n).callId === callId),
  };
}

/** The DECISION with this receipt id, checked to sit on the INTENT of the same call. */
export function receipt(g: Graph, receiptId: string | null | undefined): { decision: Record<string, unknown>; intent: Record<string, unknown>; node: DecodedNode } {
  const d = receiptId ? g.byHash.get(receiptId) : undefined;
  if (!d || d.kind !== 'decision') throw new Error(`no decision ${receiptId}`);
  const intents = g.parents(d).filter((p) => p.kind === 'intent');
  if (intents.length !== 1) throw new Error(`decision ${receiptId} has ${intents.length} intent parents`);
  const intent = g.body(intents[0]!);
  const decision = g.body(d);
  if (intent.callId !== decision.callId || intent.tool !== decision.tool) throw new Error('intent and decision are about different calls');
  return { decision, intent, node: d };
}

export function header(h: Headers | IncomingHttpHeaders, name: string): string | null {
  if (h instanceof Headers) return h.get(name);
  const v = h[name];
  return typeof v === 'string' ? v : null;
}

// The runner's side of a sidecar under test: its own scripted model (the sidecar's upstream LLM),
// clients for the governed OpenAI proxy, the MCP REST surface and the admin API, and the log of
// every verdict the surfaces reported, which the evidence checks match against the exported pack.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../sidecar/scripted-model/server.js';
import type { KitManifest } from './kit.js';
import { UPSTREAM } from './tools.js';
import type { KitPaths } from './kit-paths.js';
import type { Rotation } from './rotation.js';

/** One verdict a surface reported, with the DECISION receipt it named. */
export interface Observed {
  surface: 'openai' | 'mcp' | 'rest';
  tool: string;
  callId: string;
  verdict: string;
  reasonCode: string;
  receipt: string | null;
}

export interface ChatDecision {
  toolCallId: string;
  tool: string;
  verdict: string;
  reasonCode: string;
  receiptId?: string;
  delivered?: boolean;
  approval?: { nonce: string; decision: string; policyDigest: string };
}

export interface ChatAnswer {
  status: number;
  decisions: ChatDecision[];
  /** Tool calls the agent received: name and arguments text. */
  delivered: Array<{ id: string; name: string; arguments: string }>;
  content: string;
}

export interface RestAnswer {
  status: number;
  body: Record<string, unknown>;
}

export const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

export class Target {
  readonly observed: Observed[] = [];
  /** Set once the crash command ran: how many observations came before it. */
  crashedAfter: number | null = null;
  /** Set once the node key was rotated (L2-TRUST-ROTATION, before the crash command). */
  rotation: Rotation | null = null;
  private readonly turns = new Map<string, ScriptedTurn>();

  private constructor(
    readonly governedUrl: string,
    readonly adminUrl: string,
    readonly kit: { manifest: KitManifest; paths: KitPaths },
    readonly model: ScriptedModel,
  ) {}

  static async open(governedUrl: string, adminUrl: string, kit: { manifest: KitManifest; paths: KitPaths }): Promise<Target> {
    const [host, port] = splitHostPort(kit.manifest.modelListen);
    let t: Target | null = null;
    const model = await startScriptedModel({
      host,
      port,
      model: 'helm-conformance-model',
      script: (req) => {
        const messages = (req as { messages?: Array<{ content?: unknown }> }).messages ?? [];
        const key = String(messages.at(-1)?.content ?? '');
        return t!.turns.get(key) ?? { content: 'no scripted turn' };
      },
    });
    t = new Target(governedUrl.replace(/\/+$/, ''), adminUrl.replace(/\/+$/, ''), kit, model);
    return t;
  }

  /** Waits until /readyz is 200 and the conformance MCP upstream is ready (it starts after the sidecar). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    let why = '';
    for (;;) {
      try {
        const ready = await this.admin('/readyz');
        const caps = ready.status === 200 ? await fetch(`${this.governedUrl}/mcp/v1/capabilities`).then((r) => r.json() as Promise<{ upstreams?: Array<{ name: string; state: string }> }>) : null;
        const conf = caps?.upstreams?.find((u) => u.name === UPSTREAM);
        if (conf?.state === 'ready') return;
        why = ready.status !== 200 ? `${this.adminUrl}/readyz answered ${ready.status}` : `the MCP upstream ${UPSTREAM} is ${conf?.state ?? 'not configured'}`;
      } catch (e) {
        why = (e as Error).message;
      }
      if (Date.now() - t0 > timeoutMs) {
        throw Object.assign(new Error(`the sidecar under test is not ready (${why}): start it with helmctl serve --config ${this.kit.paths.sidecarConfig}`), { code: 'ERR_CONFORMANCE_TARGET' });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    await this.model.close();
  }

  /** One chat completion whose model answer is `turn` (tool calls get fresh ids unless given). */
  async chat(turn: ScriptedTurn, o: { stream?: boolean } = {}): Promise<ChatAnswer> {
    const key = newId('conformance-turn');
    this.turns.set(key, turn);
    const r = await fetch(`${this.governedUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'helm-conformance-model', messages: [{ role: 'user', content: key }], ...(o.stream ? { stream: true } : {}) }),
    });
    const text = await r.text();
    const answer = o.stream ? parseStream(r.status, text) : parseWhole(r.status, text);
    for (const d of answer.decisions) this.observed.push({ surface: 'openai', tool: d.tool, callId: d.toolCallId, verdict: d.verdict, reasonCode: d.reasonCode, receipt: d.receiptId ?? null });
    return answer;
  }

  /** POST /mcp/v1/execute with a body object, or raw body text (hostile input). */
  async execute(tool: string, args: unknown, extra: { callId?: string; idempotencyKey?: string; raw?: string } = {}): Promise<RestAnswer> {
    const callId = extra.callId ?? newId('call');
    const body = extra.raw ?? JSON.stringify({ tool, arguments: args, callId, ...(extra.idempotencyKey ? { idempotencyKey: extra.idempotencyKey } : {}) });
    const r = await fetch(`${this.governedUrl}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const parsed = await jsonOf(r);
    this.noteRest(tool, parsed);
    return { status: r.status, body: parsed };
  }

  noteRest(tool: string, b: Record<string, unknown>, surface: 'rest' | 'mcp' = 'rest'): void {
    if (typeof b.verdict !== 'string') return;
    const receipts = (b.receipts ?? {}) as { decision?: string; result?: string };
    // A withheld output and a sandboxed run that hit a limit are receipted by their RESULT (the decision was ALLOW).
    const byResult = b.reasonCode === 'ERR_CONNECTOR_CONTRACT_DRIFT' || String(b.reasonCode).startsWith('ERR_COMPUTE_');
    const receipt = byResult ? receipts.result : receipts.decision;
    this.observed.push({ surface, tool, callId: String(b.callId ?? ''), verdict: b.verdict, reasonCode: String(b.reasonCode ?? ''), receipt: receipt ?? null });
  }

  async admin(path: string, init?: RequestInit): Promise<RestAnswer> {
    const r = await fetch(`${this.adminUrl}${path}`, init);
    return { status: r.status, body: await jsonOf(r) };
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.adminUrl}/metrics`)).text();
  }

  /** Executions the conformance upstream recorded, by upstream tool name. */
  async executions(): Promise<Array<{ tool: string; args: Record<string, unknown> }>> {
    const text = await readFile(this.kit.paths.executions, 'utf8');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { tool: string; args: Record<string, unknown> });
  }
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), Number(hp.slice(i + 1))];
}

async function jsonOf(r: Response): Promise<Record<string, unknown>> {
  const text = await r.text();
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { text };
  }
}

interface HelmField {
  decisions?: ChatDecision[];
}

function parseWhole(status: number, text: string): ChatAnswer {
  let b: { choices?: Array<{ message?: { content?: string; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> } }>; helm?: HelmField; error?: { helm?: HelmField } } = {};
  try {
    b = JSON.parse(text);
  } catch {
    // not JSON: no decisions, nothing delivered
  }
  const msg = b.choices?.[0]?.message;
  return {
    status,
    decisions: b.helm?.decisions ?? b.error?.helm?.decisions ?? [],
    delivered: (msg?.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
    content: msg?.content ?? '',
  };
}

function parseStream(status: number, text: string): ChatAnswer {
  const delivered = new Map<number, { id: string; name: string; arguments: string }>();
  let decisions: ChatDecision[] = [];
  let content = '';
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    let ev: { choices?: Array<{ delta?: { content?: string; tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> } }>; helm?: HelmField };
    try {
      ev = JSON.parse(line.slice(6));
    } catch {
      continue;
    }
    if (ev.helm?.decisions) decisions = ev.helm.decisions;
    for (const c of ev.choices ?? []) {
      content += c.delta?.content ?? '';
      for (const tc of c.delta?.tool_calls ?? []) {
        const cur = delivered.get(tc.index) ?? { id: '', name: '', arguments: '' };
        delivered.set(tc.index, { id: tc.id ?? cur.id, name: cur.name + (tc.function?.name ?? ''), arguments: cur.arguments + (tc.function?.arguments ?? '') });
      }
    }
  }
  return { status, decisions, delivered: [...delivered.values()], content };
}

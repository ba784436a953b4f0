// An upstream MCP server that records what reaches it, for tests of what the gateway relays to an
// upstream: the official 2.x server SDK (low-level Server) over stateful Streamable HTTP, in
// process so a test reads its record directly. Tools:
// - hang: runs until the request is cancelled (records the start and the cancellation);
// - sample_later: answers at once, then sends sampling/createMessage outside any request;
// - list_roots: asks the client for its roots and returns them as JSON text;
// - log_levels: logs one message at each of debug, info, warning, error (the SDK filters them by
//   the level the connection set with logging/setLevel), then returns.
// At `modernUrl` the same process serves the 2026-07-28 era statelessly (createMcpHandler) with one
// tool, sample_mrtr, which asks for sampling the way that era does: an input_required result.
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, inputRequired, isInitializeRequest, Server, type CallToolResult, type CreateMessageResult } from '@modelcontextprotocol/server';

const EMPTY = { type: 'object' as const, properties: {} };
export const PROBE_TOOLS = ['hang', 'sample_later', 'list_roots', 'log_levels'].map((name) => ({ name, description: `probe: ${name}`, inputSchema: EMPTY }));

export interface ProbeRecord {
  hangsStarted: number;
  /** Reasons of the hang calls the upstream saw cancelled. */
  hangsCancelled: string[];
  /** How the client answered the sampling request sample_later sent (result or error message). */
  unsolicited: Promise<{ result?: unknown; error?: string }> | null;
  /** notifications/roots/list_changed received. */
  rootsChanged: number;
}

export const MRTR_TOOL = { name: 'sample_mrtr', description: 'probe: sampling as an input_required round', inputSchema: EMPTY };

export interface ProbeServer {
  url: string;
  /** The 2026-07-28 endpoint (stateless). */
  modernUrl: string;
  record: ProbeRecord;
  close(): Promise<void>;
}

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

export async function startProbeServer(): Promise<ProbeServer> {
  const record: ProbeRecord = { hangsStarted: 0, hangsCancelled: [], unsolicited: null, rootsChanged: 0 };
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();

  function build(): Server {
    const server = new Server({ name: 'helm-probe-server', version: '1.0.0' }, { capabilities: { tools: {}, logging: {} } });
    server.setRequestHandler('tools/list', async () => ({ tools: PROBE_TOOLS }));
    server.setNotificationHandler('notifications/roots/list_changed', () => void (record.rootsChanged += 1));
    server.setRequestHandler('tools/call', async (req, ctx) => {
      switch (req.params.name) {
        case 'hang':
          record.hangsStarted += 1;
          await new Promise<void>((resolve) => {
            const s = ctx.mcpReq.signal;
            const done = () => {
              record.hangsCancelled.push(String((s.reason as Error)?.message ?? s.reason));
              resolve();
            };
            if (s.aborted) done();
            else s.addEventListener('abort', done, { once: true });
          });
          return text('cancelled');
        case 'sample_later':
          record.unsolicited = new Promise((resolve) =>
            setTimeout(() => {
              server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'unasked' } }], maxTokens: 10 }).then(
                (result) => resolve({ result }),
                (e: unknown) => resolve({ error: (e as Error).message }),
              );
            }, 50),
          );
          return text('scheduled');
        case 'list_roots': {
          const r = await ctx.mcpReq.send({ method: 'roots/list' });
          return text(JSON.stringify(r.roots));
        }
        case 'log_levels':
          for (const level of ['debug', 'info', 'warning', 'error'] as const) await ctx.mcpReq.log(level, `probe ${level}`);
          return text('logged');
        default:
          throw new Error(`unknown tool ${req.params.name}`);
      }
    });
    return server;
  }

  const modern = toNodeHandler(
    createMcpHandler(() => {
      const server = new Server({ name: 'helm-probe-server-2026', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler('tools/list', async () => ({ tools: [MRTR_TOOL] }));
      server.setRequestHandler('tools/call', async (_req, ctx) => {
        const answer = ctx.mcpReq.inputResponses?.sample as CreateMessageResult | undefined;
        if (answer === undefined) return inputRequired({ inputRequests: { sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'asked in a round' } }], maxTokens: 10 }) } }) as never;
        const c = answer.content as { type: string; text?: string };
        return text(`round answer: ${c.text ?? c.type}`);
      });
      return server;
    }),
  );

  const http: HttpServer = createServer((req, res) => {
    if (req.url?.startsWith('/modern')) {
      void modern(req, res);
      return;
    }
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined;
      const sid = req.headers['mcp-session-id'];
      const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (existing) return existing.handleRequest(req, res, body);
      if (req.method === 'POST' && isInitializeRequest(body)) {
        const t: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void sessions.set(id, t) });
        await build().connect(t);
        return t.handleRequest(req, res, body);
      }
      res.writeHead(404).end();
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  return {
    url: `${base}/mcp`,
    modernUrl: `${base}/modern`,
    record,
    async close() {
      await Promise.allSettled([...sessions.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

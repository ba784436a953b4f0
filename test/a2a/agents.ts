// A real A2A agent built on @a2a-js/sdk (express server: agent card + JSON-RPC) and a real SDK
// client. The agent answers by skill: "summarize" with one message that echoes what HELM told it
// (caller, delegation), "report" with a streamed task (status, two artifact chunks, completion),
// "flood" with a streamed artifact larger than any sane limit.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Role, TaskState, type AgentCard } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { ClientFactory, type Client } from '@a2a-js/sdk/client';

export interface TestAgent {
  url: string;
  /** Metadata of every message the agent received. */
  seen: Array<Record<string, unknown>>;
  /** How many times its card was fetched. */
  cardFetches: () => number;
  close(): Promise<void>;
}

const text = (value: string) => ({ content: { $case: 'text' as const, value }, metadata: undefined, filename: '', mediaType: '' });

/** What an agent does with a plain task before it answers (an agent that delegates on: call another agent). */
export type OnTask = (metadata: Record<string, unknown>, said: string) => Promise<string>;

function executor(seen: TestAgent['seen'], onTask: OnTask | null): AgentExecutor {
  return {
    async execute(rc, bus) {
      const m = rc.userMessage;
      const meta = { ...(rc.request.metadata ?? {}) } as Record<string, unknown>;
      seen.push(meta);
      const skill = meta['helm.skill'];
      const reply = (value: string) => ({ messageId: `r-${rc.taskId}`, contextId: rc.contextId, taskId: '', role: Role.ROLE_AGENT, parts: [text(value)], metadata: undefined, extensions: [], referenceTaskIds: [] });
      if (skill !== 'report' && skill !== 'flood') {
        const said = m.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join(' ');
        const extra = onTask ? `; ${await onTask(meta, said)}` : '';
        bus.publish(AgentEvent.message(reply(`summary of: ${said}; caller ${String(meta['helm.caller'])}${extra}`)));
        bus.finished();
        return;
      }
      const status = (state: TaskState) => ({ state, message: undefined, timestamp: undefined });
      bus.publish(AgentEvent.task({ id: rc.taskId, contextId: rc.contextId, status: status(TaskState.TASK_STATE_SUBMITTED), artifacts: [], history: [m], metadata: undefined }));
      bus.publish(AgentEvent.statusUpdate({ taskId: rc.taskId, contextId: rc.contextId, status: status(TaskState.TASK_STATE_WORKING), metadata: undefined }));
      const chunks = skill === 'flood' ? ['x'.repeat(200_000)] : ['part one', 'part two'];
      chunks.forEach((c, i) =>
        bus.publish(AgentEvent.artifactUpdate({ taskId: rc.taskId, contextId: rc.contextId, artifact: { artifactId: 'a1', name: 'report', description: '', parts: [text(c)], metadata: undefined, extensions: [] }, append: i > 0, lastChunk: i === chunks.length - 1, metadata: undefined })),
      );
      bus.publish(AgentEvent.statusUpdate({ taskId: rc.taskId, contextId: rc.contextId, status: status(TaskState.TASK_STATE_COMPLETED), metadata: undefined }));
      bus.finished();
    },
    cancelTask: async () => undefined,
  };
}

export async function startAgent(name: string, onTask: OnTask | null = null): Promise<TestAgent> {
  const seen: TestAgent['seen'] = [];
  const app = express();
  const server: Server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card = {
    name,
    description: `${name} test agent`,
    version: '1.0.0',
    supportedInterfaces: [{ url: `${url}/rpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' }],
    provider: undefined,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: ['summarize', 'translate', 'report', 'flood'].map((id) => ({ id, name: id, description: `${id} things`, tags: [id], examples: [], inputModes: [], outputModes: [], securityRequirements: [] })),
    signatures: [],
  } as unknown as AgentCard;
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor(seen, onTask));
  let cardFetches = 0;
  app.use('/.well-known/agent-card.json', (_req, _res, next) => {
    cardFetches++;
    next();
  });
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }));
  app.use('/rpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return {
    url,
    seen,
    cardFetches: () => cardFetches,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The agent's own SDK client, pointed at an A2A base URL (its sidecar's /a2a/out/<agent>). */
export function client(baseUrl: string): Promise<Client> {
  return new ClientFactory().createFromUrl(baseUrl);
}

/** A user message naming a skill (and any other HELM metadata). */
export function message(said: string, metadata: Record<string, unknown>) {
  return { tenant: '', message: { messageId: `m-${Math.random().toString(36).slice(2)}`, contextId: '', taskId: '', role: Role.ROLE_USER, parts: [text(said)], metadata: undefined, extensions: [], referenceTaskIds: [] }, configuration: undefined, metadata };
}

// A stdio MCP server for the race and kill rounds: tools bump_0..bump_9 each append one line to a
// counter file BEFORE answering, so the harness can count real executions and compare them with
// the ALLOW decisions in the ProofGraph (an execution without its own ALLOW, or beyond a budget,
// is a governance failure). Started by the sidecar as an MCP upstream: argv[2] is the file.
import { appendFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { COUNTER_TOOLS } from './tools.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: counting-mcp <counter-file>\n');
  process.exit(2);
}

const server = new Server({ name: 'harden-counter', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: COUNTER_TOOLS.map((name) => ({ name, description: 'Counts one execution.', inputSchema: { type: 'object' as const, properties: { n: { type: 'integer' } }, required: ['n'] } })),
}));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  appendFileSync(file, `${JSON.stringify({ tool: req.params.name, args: req.params.arguments ?? null })}\n`);
  // A short, real execution time: a second identical call arrives while the first still runs.
  await new Promise((r) => setTimeout(r, 30));
  return { content: [{ type: 'text' as const, text: 'counted' }] };
});
await server.connect(new StdioServerTransport());

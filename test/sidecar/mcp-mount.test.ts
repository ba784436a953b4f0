// `helmctl serve` with MCP upstreams configured: the gateway is mounted on the governed listener
// next to the OpenAI proxy, governs a real MCP server, and its receipts land in the pod's
// ProofGraph, which then exports and verifies.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { addMcpDemoPolicy, everythingServerPath } from '../../sidecar/mcp/demo-part.js';
import { body, call, decisions, Pod, sidecarBundle } from './support.js';

describe('helmctl serve mounts the MCP gateway', () => {
  it('lists only granted tools, runs an allowed call, refuses a denied one, and the pack verifies', async () => {
    const server = everythingServerPath();
    expect(server).not.toBeNull();
    const pod = await Pod.create();
    try {
      await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
      const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [server!, 'stdio'], protocol: 'legacy' }];
      const { sidecar } = await pod.start({ env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
      // Readiness reports each MCP upstream without waiting for it (upstreams start in the background).
      const readiness = sidecar.readiness();
      expect(readiness.checks.mcp).toMatchObject({ ok: true, upstreams: [{ name: 'everything', state: expect.stringMatching(/^(starting|ready)$/) }] });
      const client = new Client({ name: 'mount-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${sidecar.governedUrl}/mcp`)));
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['everything__echo', 'everything__get-sum']);
      expect(sidecar.readiness().checks.mcp).toMatchObject({ upstreams: [{ name: 'everything', state: 'ready', ready: true, restarts: 0 }] });
      const ok = await client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
      expect(JSON.stringify(ok.content)).toContain('hi');
      await expect(client.callTool({ name: 'everything__echo', arguments: { message: 'my password is x' } })).rejects.toThrow(/POLICY_VIOLATION|DENY|denied/i);
      await client.close();
      await sidecar.stop();
      const verified = await pod.exportAndVerify();
      expect(verified.code).toBe(0);
      expect(verified.out).toMatch(/VALID/);
    } finally {
      await pod.cleanup();
    }
  }, 60_000);

  it('one causal chain across both surfaces: proposed through the proxy, executed through the gateway', async () => {
    const server = everythingServerPath()!;
    const pod = await Pod.create();
    try {
      await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
      const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [server, 'stdio'], protocol: 'legacy' }];
      const { sidecar, client } = await pod.start({ env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
      pod.script((_r, turn) => (turn === 0 ? { toolCalls: [call('call_echo_1', 'everything__echo', { message: 'linked' })] } : { content: 'done' }));
      const first = await client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'echo it' }] });
      const proposed = first.choices[0]!.message;
      expect(proposed.tool_calls?.map((t) => t.id)).toEqual(['call_echo_1']);

      const mcp = new Client({ name: 'mount-test', version: '1.0.0' });
      await mcp.connect(new StreamableHTTPClientTransport(new URL(`${sidecar.governedUrl}/mcp`)));
      // Other arguments than the ones decided on get a decision of their own.
      await mcp.callTool({ name: 'everything__echo', arguments: { message: 'something else' } });
      const executed = await mcp.callTool({ name: 'everything__echo', arguments: { message: 'linked' } });
      expect(JSON.stringify(executed.content)).toContain('linked');
      await mcp.close();

      const second = await client.chat.completions.create({
        model: 'scripted-model',
        messages: [{ role: 'user', content: 'echo it' }, proposed as never, { role: 'tool', tool_call_id: 'call_echo_1', content: 'Echo: linked' }],
      });
      expect(second.choices[0]!.message.content).toBe('done');
      await sidecar.stop();

      const nodes = await pod.nodes();
      const echo = decisions(nodes).filter(([, tool]) => tool === 'everything__echo');
      expect(echo.map(([id, , verdict]) => [id.startsWith('mcp:') ? 'mcp' : id, verdict])).toEqual([['call_echo_1', 'ALLOW'], ['mcp', 'ALLOW']]);
      const decision = nodes.find((n) => n.kind === 'decision' && body(n).callId === 'call_echo_1')!;
      const effects = nodes.filter((n) => n.kind === 'effect' && n.statement.predicate.parents.some((p) => p.hash === decision.entryHash));
      expect(effects).toHaveLength(1);
      const results = nodes.filter((n) => n.kind === 'result' && n.statement.predicate.parents.some((p) => p.hash === effects[0]!.entryHash));
      expect(results).toHaveLength(1);
      expect((await pod.exportAndVerify()).code).toBe(0);
    } finally {
      await pod.cleanup();
    }
  }, 60_000);
});

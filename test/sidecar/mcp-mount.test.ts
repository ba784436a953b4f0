// `helmctl serve` with MCP upstreams configured: the gateway is mounted on the governed listener
// next to the OpenAI proxy, governs a real MCP server, and its receipts land in the pod's
// ProofGraph, which then exports and verifies.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { addMcpDemoPolicy, everythingServerPath } from '../../sidecar/mcp/demo-part.js';
import { Pod, sidecarBundle } from './support.js';

describe('helmctl serve mounts the MCP gateway', () => {
  it('lists only granted tools, runs an allowed call, refuses a denied one, and the pack verifies', async () => {
    const server = everythingServerPath();
    expect(server).not.toBeNull();
    const pod = await Pod.create();
    try {
      await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
      const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [server!, 'stdio'], protocol: 'legacy' }];
      const { sidecar } = await pod.start({ env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
      const client = new Client({ name: 'mount-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${sidecar.governedUrl}/mcp`)));
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['everything__echo', 'everything__get-sum']);
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
});

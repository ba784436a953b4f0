// The MCP SDK's own reports (a rejected inbound request, transport errors) become JSON log lines
// of the sidecar's logger; nothing is written to stderr as plain text.
import { addMcpDemoPolicy, everythingServerPath } from '../../sidecar/mcp/demo-part.js';
import { Pod, sidecarBundle } from './support.js';

it('logs a rejected inbound MCP request as one JSON line, with nothing on stderr', async () => {
  const pod = await Pod.create();
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  try {
    await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
    const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [everythingServerPath()!, 'stdio'], protocol: 'legacy' }];
    const { sidecar, log } = await pod.start({ env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    // A 2026-07-28 request whose Mcp-Name header contradicts its body: the SDK rejects and reports it.
    const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'x', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const bad = [
      {
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'everything__get-sum' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x' }, _meta: envelope } }),
      },
    ];
    for (const b of bad) {
      const r = await fetch(`${sidecar.governedUrl}/mcp`, { method: 'POST', headers: b.headers, body: b.body });
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    process.stderr.write = original;
    expect(written).toEqual([]);
    const reports = log.lines.filter((l) => l.msg === 'mcp gateway report');
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.map((l) => String(l.report)).join('\n')).toMatch(/Rejected inbound/);
  } finally {
    process.stderr.write = original;
    await pod.cleanup();
  }
}, 60_000);

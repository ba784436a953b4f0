// The MCP rows of `npm run demo`: a real server-everything behind the gateway, one allowed call
// and two denials, each with its receipt.
import { addMcpDemoPolicy, runMcpDemo } from '../../../sidecar/mcp/demo-part.js';
import { Lab, pepBundle, signed } from '../../pep/support.js';

it('runs an allowed and denied MCP calls with receipts for the demo summary', async () => {
  const lab = await Lab.create();
  try {
    const h = await lab.harness('demo-mcp', { policy: signed(addMcpDemoPolicy(pepBundle(), ['demo-agent'])) });
    const rows = await runMcpDemo({ pep: h.pep, principal: { id: 'agent:demo', roles: ['demo-agent'] } });
    expect(rows.map((r) => [r.tool, r.verdict, r.reasonCode])).toEqual([
      ['(tools/list)', '-', '-'],
      ['everything__echo', 'ALLOW', 'ALLOWED'],
      ['everything__echo', 'DENY', 'POLICY_VIOLATION'],
      ['everything__get-sum', 'DENY', 'SCHEMA_VIOLATION'],
    ]);
    expect(rows[0]!.detail).toBe('everything__echo, everything__get-sum');
    expect(rows[1]!.detail).toBe('Echo: hello from the governed MCP gateway');
    for (const r of rows.slice(1)) expect(r.receipt).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set(rows.slice(1).map((r) => r.receipt)).size).toBe(3);
    expect(h.writer.failed).toBeFalsy();
  } finally {
    await lab.cleanup();
  }
});

// Heartbeats are on time from the moment the log is open (issue 10 item 5): a slow part of the start
// (here an MCP upstream that takes seconds to come up, which no longer holds readiness back) must
// not leave a silence that verify reports as ERR_COMPLETENESS_SILENCE. Silence stays a real
// signal: the rule itself is unchanged.
import { addMcpDemoPolicy, everythingServerPath } from '../../sidecar/mcp/demo-part.js';
import { body, Pod, sidecarBundle } from './support.js';

const INTERVAL_MS = 1000;
const UPSTREAM_DELAY_MS = 4000;

it('a slow upstream neither delays readiness nor leaves a silence: beats cover the wait, and the pack verifies', async () => {
  const server = everythingServerPath();
  expect(server).not.toBeNull();
  const pod = await Pod.create();
  try {
    await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
    // The upstream starts the real server only after a delay (upstreams connect in the background).
    const slow = `setTimeout(() => import(${JSON.stringify(server)}), ${UPSTREAM_DELAY_MS})`;
    const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: ['-e', slow, 'stdio'], protocol: 'legacy' }];
    const r = await pod.start({ flags: ['--heartbeat-interval-ms', String(INTERVAL_MS)], env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
    // Ready before the upstream is: readiness reports it per upstream instead of waiting for it.
    const first = (await (await r.admin('/readyz')).json()) as { checks: { mcp: { upstreams: Array<{ name: string; ready: boolean }> } } };
    expect(first.checks.mcp.upstreams).toEqual([expect.objectContaining({ name: 'everything', ready: false })]);
    for (let i = 0; i < 300; i++) {
      const ready = (await (await r.admin('/readyz')).json()) as typeof first;
      if (ready.checks.mcp.upstreams[0]?.ready) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await r.sidecar.stop();
    const nodes = await pod.nodes();
    const reasons = nodes.filter((n) => n.kind === 'heartbeat').map((n) => body(n).reason);
    expect(reasons[0]).toBe('start');
    // Periodic beats were written while the upstream was still coming up.
    expect(reasons.filter((x) => x === 'periodic').length).toBeGreaterThan(0);
    const verified = await pod.exportAndVerify();
    expect(verified.out).not.toContain('ERR_COMPLETENESS_SILENCE');
    expect(verified.code).toBe(0);
  } finally {
    await pod.cleanup();
  }
}, 90_000);

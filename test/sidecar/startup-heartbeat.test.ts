// Heartbeats are on time from the moment the log is open (issue 10 item 5): a slow start-up (here an
// MCP upstream that takes seconds to come up) must not leave a silence that verify reports as
// ERR_COMPLETENESS_SILENCE. Silence stays a real signal: the rule itself is unchanged.
import { addMcpDemoPolicy, everythingServerPath } from '../../sidecar/mcp/demo-part.js';
import { body, Pod, sidecarBundle } from './support.js';

const INTERVAL_MS = 1000;
const UPSTREAM_DELAY_MS = 4000;

it('a slow start-up is covered by heartbeats, and the pack verifies', async () => {
  const server = everythingServerPath();
  expect(server).not.toBeNull();
  const pod = await Pod.create();
  try {
    await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
    // The upstream starts the real server only after a delay: the gateway waits for it at start-up.
    const slow = `setTimeout(() => import(${JSON.stringify(server)}), ${UPSTREAM_DELAY_MS})`;
    const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: ['-e', slow, 'stdio'], protocol: 'legacy' }];
    const { sidecar } = await pod.start({ flags: ['--heartbeat-interval-ms', String(INTERVAL_MS)], env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
    await sidecar.stop();
    const nodes = await pod.nodes();
    const reasons = nodes.filter((n) => n.kind === 'heartbeat').map((n) => body(n).reason);
    expect(reasons[0]).toBe('start');
    const verified = await pod.exportAndVerify();
    expect(verified.out).not.toContain('ERR_COMPLETENESS_SILENCE');
    expect(verified.code).toBe(0);
    // Periodic beats were written while the start-up waited for the upstream.
    expect(reasons.filter((r) => r === 'periodic').length).toBeGreaterThan(0);
  } finally {
    await pod.cleanup();
  }
}, 90_000);

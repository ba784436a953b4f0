// A bundle reload that changes which tools a client may see is announced: connected clients of
// both eras get notifications/tools/list_changed after the bundle file changes (the sidecar's
// watcher puts the new bundle in force; no upstream changed), and the next listing withholds the
// tool the new bundle no longer declares.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { addMcpDemoPolicy, everythingServerPath } from '../../../sidecar/mcp/demo-part.js';
import { Pod, sidecarBundle } from '../support.js';

const until = async (f: () => boolean) => {
  for (let i = 0; i < 250 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
};

it('a bundle reload that withholds a tool sends tools/list_changed to clients of both eras', async () => {
  const pod = await Pod.create();
  try {
    const granted = addMcpDemoPolicy(sidecarBundle(), ['support']);
    await pod.writeBundle(granted);
    const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [everythingServerPath()!, 'stdio'], protocol: 'legacy' }];
    const { sidecar } = await pod.start({ env: { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams) } });
    const url = new URL(`${sidecar.governedUrl}/mcp`);
    const changed = { v1: 0, legacy: 0, modern: 0 };

    const v1 = new ClientV1({ name: 'reload-v1', version: '1.0.0' });
    v1.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed.v1 += 1));
    await v1.connect(new TransportV1(url));
    const legacy = new ClientV2({ name: 'reload-v2', version: '2.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    legacy.setNotificationHandler('notifications/tools/list_changed', () => void (changed.legacy += 1));
    await legacy.connect(new TransportV2(url));
    const modern = new ClientV2({ name: 'reload-v2-modern', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' }, listChanged: { tools: { onChanged: () => void (changed.modern += 1) } } });
    await modern.connect(new TransportV2(url));

    const names = async () => (await v1.listTools()).tools.map((t) => t.name).sort();
    expect(await names()).toEqual(['everything__echo', 'everything__get-sum']);
    await new Promise((r) => setTimeout(r, 300)); // the 2026-07-28 client's subscriptions/listen stream opens
    // server-everything announces its own list changes while it starts: count from here.
    const before = { ...changed };

    const { 'everything__get-sum': _dropped, ...tools } = granted.tools;
    await pod.writeBundle({ ...granted, metadata: { ...granted.metadata, version: 'reloaded' }, tools });
    await until(() => changed.v1 > before.v1 && changed.legacy > before.legacy && changed.modern > before.modern);
    expect(changed.v1).toBeGreaterThan(before.v1);
    expect(changed.legacy).toBeGreaterThan(before.legacy);
    expect(changed.modern).toBeGreaterThan(before.modern);
    expect(await names()).toEqual(['everything__echo']);

    await Promise.all([v1.close(), legacy.close(), modern.close()]);
    await sidecar.stop();
  } finally {
    await pod.cleanup();
  }
}, 60_000);

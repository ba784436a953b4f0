// roots/list from an upstream to the client, through the governed gateway with the real SDK
// clients of both eras and the probe upstream (official 2.x server SDK): relayed only to an
// upstream configured with `roots: true` (off by default), decided as mcp:roots/list and linked to
// the call in flight (the bundle's switch: a bundle that does not allow mcp:roots/list denies it),
// and the client's notifications/roots/list_changed reaches the upstream.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { grantEverythingBundle } from './conformance-bundle.js';
import { PROBE_TOOLS, startProbeServer, type ProbeServer } from './probe-server.js';
import { decodedLog, nodeBody, startRig, type Rig } from './support.js';

const ROOTS = [{ uri: 'file:///work/project', name: 'project' }];

interface Host {
  listRoots(): Promise<string>;
  asked: number;
  rootsChanged(): Promise<void>;
  close(): Promise<void>;
}

async function v1(url: string): Promise<Host> {
  const c = new ClientV1({ name: 'roots-v1', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
  const host: Host = {
    asked: 0,
    listRoots: async () => ((await c.callTool({ name: 'list_roots', arguments: {} }, CallToolResultSchema)).content as Array<{ text: string }>)[0]!.text,
    rootsChanged: () => c.sendRootsListChanged(),
    close: () => c.close(),
  };
  c.setRequestHandler(ListRootsRequestSchema, async () => ((host.asked += 1), { roots: ROOTS }));
  await c.connect(new TransportV1(new URL(url)));
  return host;
}

async function v2(url: string, mode: 'legacy' | 'auto'): Promise<Host> {
  const c = new ClientV2({ name: 'roots-v2', version: '2.0.0' }, { capabilities: { roots: { listChanged: true } }, versionNegotiation: { mode } });
  const host: Host = {
    asked: 0,
    listRoots: async () => ((await c.callTool({ name: 'list_roots', arguments: {} })).content as Array<{ text: string }>)[0]!.text,
    rootsChanged: () => c.sendRootsListChanged(),
    close: () => c.close(),
  };
  c.setRequestHandler('roots/list', async () => ((host.asked += 1), { roots: ROOTS }));
  await c.connect(new TransportV2(new URL(url)));
  return host;
}

const hosts: Array<[string, (url: string) => Promise<Host>]> = [
  ['sdk 1.x', v1],
  ['client 2.x (2025 era)', (u) => v2(u, 'legacy')],
  ['client 2.x (2026-07-28)', (u) => v2(u, 'auto')],
];

async function rootsDecisions(rig: Rig) {
  return [...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision' && nodeBody(n).tool === 'mcp:roots/list').map((n) => nodeBody(n));
}

describe.each([
  ['roots: true, bundle allows mcp:roots/list', true, true],
  ['roots: true, bundle without mcp:roots/list', true, false],
  ['roots not configured (the default)', false, true],
])('%s', (_what, roots: boolean, allowed: boolean) => {
  let probe: ProbeServer;
  let rig: Rig;
  beforeAll(async () => {
    probe = await startProbeServer();
    const bundle = grantEverythingBundle(PROBE_TOOLS);
    if (!allowed) delete bundle.tools['mcp:roots/list'];
    rig = await startRig({
      upstreams: () => [{ name: 'probe', transport: 'http', url: probe.url, protocol: 'legacy', ...(roots ? { roots: true } : {}) }],
      bundleDoc: bundle,
      gateway: { naming: 'own' },
    });
  });
  afterAll(async () => {
    await rig?.close();
    await probe?.close();
  });

  it.each(hosts)('%s', async (_name, connect) => {
    const host = await connect(`${rig.url}/mcp`);
    const before = (await rootsDecisions(rig)).length;
    if (roots && allowed) {
      expect(JSON.parse(await host.listRoots())).toEqual(ROOTS);
      expect(host.asked).toBe(1);
      const [d] = (await rootsDecisions(rig)).slice(before);
      // Linked to the tools/call in flight: the request's callId ends with that call's decision.
      expect(d).toMatchObject({ verdict: 'ALLOW', callId: expect.stringMatching(/^mcp:roots\/list:[0-9a-f-]+@.+/) });
    } else {
      await expect(host.listRoots()).rejects.toThrow();
      expect(host.asked).toBe(0);
      const after = (await rootsDecisions(rig)).slice(before);
      // Off: the upstream cannot even ask (no roots capability). On but not allowed: asked, denied, receipted.
      expect(after.map((d) => d.verdict)).toEqual(roots ? ['DENY'] : []);
    }
    await host.close();
  });

  if (roots) {
    it("relays the client's notifications/roots/list_changed to the upstream", async () => {
      const host = await v1(`${rig.url}/mcp`);
      const seen = probe.record.rootsChanged;
      await host.rootsChanged();
      for (let i = 0; i < 100 && probe.record.rootsChanged === seen; i++) await new Promise((r) => setTimeout(r, 20));
      expect(probe.record.rootsChanged).toBe(seen + 1);
      await host.close();
    });
  }
});

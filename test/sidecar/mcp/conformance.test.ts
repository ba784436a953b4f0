// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against the
// conformance server directly and through the governed gateway (a bundle that grants everything,
// the server's own names): every scenario that passes directly must pass through the gateway, and
// every request the gateway relayed left a receipt chain.
import { CONFORMANCE_VERSION, installedConformanceVersion, passing, runServerSuite } from './conformance-run.js';
import { grantEverythingBundle } from './conformance-bundle.js';
import { startConformanceServer, type ConformanceServer } from './conformance-server.js';
import { decodedLog, nodeBody, startRig, expectVerifiesAndReplays, type Rig } from './support.js';

import { jest } from '@jest/globals';

jest.setTimeout(150_000);

let server: ConformanceServer;
let rig: Rig;

beforeAll(async () => {
  server = await startConformanceServer();
  rig = await startRig({
    upstreams: () => [{ name: 'conformance', transport: 'http', url: server.url, protocol: 'legacy' }],
    bundleDoc: grantEverythingBundle(),
    gateway: { naming: 'own', callTimeoutMs: 20_000 },
  });
});

afterAll(async () => {
  await rig?.close();
  await server?.close();
});

it('runs the pinned suite version', async () => {
  expect(await installedConformanceVersion()).toBe(CONFORMANCE_VERSION);
});

it('passes through the gateway every server scenario the server passes directly', async () => {
  const [direct, governed] = await Promise.all([runServerSuite(server.url), runServerSuite(`${rig.url}/mcp`)]);
  const ok = passing(direct.results);
  const through = passing(governed.results);
  const checks = (r: typeof direct) => [...r.results.values()].reduce((a, x) => [a[0]! + x.passed, a[1]! + x.failed], [0, 0]).join('/');
  process.stdout.write(`conformance ${CONFORMANCE_VERSION}: direct ${ok.length}/${direct.results.size} scenarios (${checks(direct)} checks passed/failed), through the gateway ${through.length}/${governed.results.size} (${checks(governed)})\n`);
  expect(direct.results.size).toBeGreaterThanOrEqual(30);
  expect(ok.length).toBeGreaterThanOrEqual(30);
  const lost = ok.filter((n) => !through.includes(n));
  if (lost.length > 0) process.stdout.write(governed.output);
  expect(lost).toEqual([]);

  // Governed, not passed through: the relayed kinds were decided and receipted.
  const tools = new Set([...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision').map((n) => nodeBody(n).tool as string));
  for (const t of ['test_simple_text', 'mcp:resources/read', 'mcp:prompts/get', 'mcp:completion/complete', 'mcp:logging/setLevel', 'mcp:sampling/createMessage', 'mcp:elicitation/create', 'mcp:resources/subscribe']) expect(tools).toContain(t);
});

it('every relayed decision verifies offline and replays identically (helmctl verify / replay)', async () => {
  const r = await expectVerifiesAndReplays(rig);
  const kinds = new Set(r.chains.filter((c) => c.decision !== null).map((c) => c.tool));
  for (const t of ['mcp:resources/read', 'mcp:prompts/get', 'mcp:sampling/createMessage', 'mcp:elicitation/create']) expect(kinds).toContain(t);
});

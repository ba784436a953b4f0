// `helmctl mcp --stdio` as a desktop MCP client runs it: a child process whose stdin/stdout carry
// MCP, driven by the SDK's stdio client, with server-everything and server-filesystem (rooted in a
// temp workspace) behind it. Its receipts land in a ProofGraph volume whose pack verifies.
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { exportPack } from '../../../kernel/evidence/export.js';
import { parseTrustPolicy } from '../../../kernel/evidence/trust-policy.js';
import { verifyPackNode } from '../../../kernel/evidence/verify-node.js';
import { META_RECEIPT } from '../../../sidecar/mcp/call.js';
import { makeKeys, policyText, publishEvent, testKey } from '../../evidence/fixtures.js';
import { bundleSigner } from '../../guardian/helpers.js';
import { repoRoot } from '../../support/shared.js';
import { BUNDLE_SIG, BUNDLE_YAML, chainOf, everything, filesystem, FIXTURES, nodeBody } from './support.js';

const ORIGIN = 'helm.test/mcp-stdio';
const WRITER = 'mcp-stdio';

let dir: string;
let workspace: string;
let client: Client;
let stderr = '';
const keys = makeKeys([]);
keys.logs[ORIGIN] = { log: testKey(ORIGIN), node: testKey(`node-${WRITER}`) };
const log = () => ({ logDir: join(dir, 'volume', WRITER), node: keys.logs[ORIGIN]!.node });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helm-mcp-stdio-'));
  workspace = await realpath(await mkdtemp(join(tmpdir(), 'helm-mcp-ws-')));
  await writeFile(join(workspace, 'notes.txt'), 'stdio notes\n');
  const k = keys.logs[ORIGIN]!;
  await writeFile(join(dir, 'node.key'), `${k.node.privateText}\n`);
  await writeFile(join(dir, 'log.key'), `${k.log.privateText}\n`);
  await writeFile(join(dir, 'publish.json'), JSON.stringify(publishEvent(keys, ORIGIN)));
  const args = [
    '--import', 'tsx', join(FIXTURES, 'run-mcp.ts'), '--stdio',
    '--proofgraph-dir', join(dir, 'volume'), '--writer-id', WRITER, '--node-key', join(dir, 'node.key'), '--log-key', join(dir, 'log.key'), '--trust-event', join(dir, 'publish.json'),
    '--bundle', BUNDLE_YAML, '--bundle-signature', BUNDLE_SIG, '--bundle-trust-root', bundleSigner.verifier.vkey,
    '--principal-id', 'agent:desktop', '--principal-role', 'agent', '--principal-attr', `workspace=${workspace}`,
    '--mcp-upstream', JSON.stringify(everything()), '--mcp-upstream', JSON.stringify(filesystem(workspace)),
  ];
  const transport = new StdioClientTransport({ command: process.execPath, args, cwd: repoRoot, env: { ...(process.env as Record<string, string>) }, stderr: 'pipe' });
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: 'desktop-host', version: '1.0.0' });
  await client.connect(transport);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(workspace, { recursive: true, force: true });
});

const receipt = (r: { _meta?: Record<string, unknown> }) => r._meta?.[META_RECEIPT] as { callId: string };

it('serves the governed tools over stdio', async () => {
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toContain('everything__echo');
  expect(names).toContain('fs__read_text_file');
  expect(names).not.toContain('everything__get-env');
  expect(names.some((n) => n.startsWith('mutable__'))).toBe(false);
});

it('carries out allowed calls and refuses denied ones with their reasons', async () => {
  const ok = await client.callTool({ name: 'fs__read_text_file', arguments: { path: join(workspace, 'notes.txt') } });
  expect(JSON.stringify(ok.content)).toContain('stdio notes');
  const chain = await chainOf(log(), receipt(ok).callId);
  expect(nodeBody(chain.result!)).toMatchObject({ status: 'ok' });

  const denied = await client.callTool({ name: 'fs__read_text_file', arguments: { path: '/etc/hostname' } }).then(
    () => null,
    (e: unknown) => e as McpError,
  );
  expect(denied).toBeInstanceOf(McpError);
  expect(denied!.data).toMatchObject({ verdict: 'DENY', reasonCode: 'POLICY_VIOLATION' });
  expect(nodeBody((await chainOf(log(), (denied!.data as { callId: string }).callId)).decision)).toMatchObject({ ruleIds: ['fs-outside-workspace'] });
});

it('shuts down cleanly when the client goes away, and the pack of its volume verifies', async () => {
  await client.close();
  // The child flushes and closes its log after stdin ends; wait for the shutdown heartbeat.
  for (let i = 0; i < 100; i++) {
    const { bytes } = await exportPack({ store: join(dir, 'volume'), exporterKey: keys.exporter });
    const report = await verifyPackNode(bytes, parseTrustPolicy(policyText(keys), 'stdio.policy'), { workers: 0 });
    if (report.ok && (report.logs[0]?.kinds.result ?? 0) >= 1 && (report.logs[0]?.kinds.decision ?? 0) >= 2) {
      expect(report.problems).toEqual([]);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the pack never verified; child stderr:\n${stderr}`);
}, 30_000);

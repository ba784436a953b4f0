// The gateway removes configured upstream secrets from what an upstream returns before the RESULT
// is recorded and the output released (docs/sidecar.md, "Secret redaction").
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { configuredSecrets, Redactor, REDACTED } from '../../../sidecar/redact.js';
import { everything, startRig, type Rig } from './support.js';

const TOKEN = 'mcp_tok_8Hq2Lx7Vb3Nc9Zr4Wt6Yp1Ks5';

let rig: Rig;
let client: Client;
beforeAll(async () => {
  rig = await startRig({ upstreams: () => [everything()], gateway: { redact: new Redactor([`Bearer ${TOKEN}`]) } });
  client = new Client({ name: 'host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
});
afterAll(async () => {
  await client?.close();
  await rig?.close();
});

it('an upstream result that echoes the upstream token is released and recorded without it', async () => {
  const r = await client.callTool({ name: 'everything__echo', arguments: { message: `the token is ${TOKEN}` } });
  expect(JSON.stringify(r)).not.toContain(TOKEN);
  expect(r.content).toEqual([{ type: 'text', text: `Echo: the token is ${REDACTED}` }]);
});

it('takes the credential header values of an http upstream as secrets, not ordinary headers', () => {
  const headers = { authorization: `Bearer ${TOKEN}`, 'x-api-key': 'k_1234567890', accept: 'application/json', 'user-agent': 'helm-sidecar/0.1.0' };
  const secrets = configuredSecrets({ mcpUpstreams: [{ name: 'a', transport: 'http', url: 'https://x', headers }, { name: 'b', transport: 'stdio', command: 'x' }] });
  expect(secrets).toEqual([`Bearer ${TOKEN}`, 'k_1234567890']);
  expect(new Redactor(secrets).text(`401: invalid token ${TOKEN}`)).toBe(`401: invalid token ${REDACTED}`);
});

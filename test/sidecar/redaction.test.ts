// Secret redaction (docs/sidecar.md, "Secret redaction"): a provider that echoes the sidecar's API
// key, in its error body, its response headers, a streamed error and a completion, never gets the
// key (or the masked and truncated echoes providers print) to the agent, into the log, into the
// ProofGraph store or into the exported evidence pack.
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { main as helmctl } from '../../cli/helmctl.js';
import { loadConfig } from '../../sidecar/config/load.js';
import { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { memoryLogger } from '../../sidecar/log.js';
import { Redactor, REDACTED } from '../../sidecar/redact.js';
import { Pod, ROUTES } from './support.js';

const KEY = 'sk-proj-Q7vX2mN9pL4rT8wY1zK5bH3jF6dS0aG2cV7eR4uI9oP1';
const MASKED = `sk-proj-${'*'.repeat(20)}${KEY.slice(-4)}`;
const SHORT = `sk-...${KEY.slice(-4)}`;

/** Every form of the key that must never leave the sidecar: the key, its secret part, any 16-character window. */
function leaks(text: string): string[] {
  const found: string[] = [];
  if (text.includes(KEY)) found.push('the key');
  if (text.includes(KEY.slice(8))) found.push('the key without its prefix');
  for (let i = 0; i + 16 <= KEY.length; i++) if (text.includes(KEY.slice(i, i + 16))) found.push(`window ${i}`);
  if (text.includes(MASKED)) found.push('the masked key');
  if (text.includes(SHORT)) found.push('the short masked key');
  return found;
}

/** A provider that answers every request by echoing the key it was sent, in the way the request asks for. */
async function echoingProvider(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { stream?: boolean; messages?: Array<{ content?: string }> };
      const ask = String(body.messages?.at(-1)?.content ?? '');
      const echo = { 'x-request-id': `req-${auth}`, 'openai-organization': `org ${KEY.slice(0, 24)}`, 'x-ratelimit-limit-requests': SHORT };
      if (ask === 'unauthorized') {
        res.writeHead(401, { 'content-type': 'application/json', ...echo });
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${auth}. Also known as ${MASKED} or ${SHORT}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
      } else if (ask === 'stream' && body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', ...echo });
        res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: `your key starts ${KEY.slice(0, 20)}` }, finish_reason: null }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ error: { message: `Incorrect API key provided: ${auth}` } })}\n\n`);
        res.end('data: [DONE]\n\n');
      } else {
        res.writeHead(200, { 'content-type': 'application/json', ...echo });
        res.end(
          JSON.stringify({
            id: 'c2',
            object: 'chat.completion',
            created: 1,
            model: 'm',
            choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: `I was called with ${auth}`, tool_calls: [{ id: 'call_leak', type: 'function', function: { name: 'crm.lookup_customer', arguments: JSON.stringify({ customerId: KEY }) } }] } }],
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, server };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('Redactor', () => {
  const r = new Redactor([KEY, 'Bearer tok_0123456789abcdef0123', 'short']);
  it.each([
    ['the whole key', `key ${KEY} end`, `key ${REDACTED} end`],
    ['a bearer header value and its token alone', 'Bearer tok_0123456789abcdef0123 / tok_0123456789abcdef0123', `${REDACTED} / ${REDACTED}`],
    ['a truncated prefix', `starts ${KEY.slice(0, 20)}…`, `starts ${REDACTED}…`],
    ['a suffix', `ends ${KEY.slice(-14)}`, `ends ${REDACTED}`],
    ['a masked echo', `Incorrect API key provided: ${MASKED}.`, `Incorrect API key provided: ${REDACTED}.`],
    ['a short masked echo', `(${SHORT})`, `(${REDACTED})`],
  ])('redacts %s', (_name, input, expected) => {
    expect(r.text(input)).toBe(expected);
  });
  it('scans a multi-megabyte single token without failing, and redacts the token that holds an echo', () => {
    const blob = Buffer.alloc(6 * 1024 * 1024, 7).toString('base64');
    expect(r.text(blob)).toBe(blob);
    expect(r.text(`data ${blob}${KEY.slice(10, 30)}${blob} end`)).toBe(`data ${REDACTED} end`);
  });
  it.each([
    ['ordinary text', 'the customer cus_12345678 asked about sk-proj plans'],
    ['values under 8 characters', 'a short word'],
    ['the last 4 characters alone', `code ${KEY.slice(-4)}`],
    ['a common prefix', 'sk-proj-'],
  ])('leaves %s alone', (_name, input) => {
    expect(r.text(input)).toBe(input);
  });
});

describe('a provider that echoes the upstream API key', () => {
  let pod: Pod;
  let provider: { url: string; server: Server };
  let sidecar: GuardianSidecar;
  const log = memoryLogger();
  const seen: string[] = [];

  beforeAll(async () => {
    pod = await Pod.create();
    provider = await echoingProvider();
    const flags = pod.flags();
    flags[flags.indexOf('--upstream-url') + 1] = provider.url;
    const env = { HELM_TOOL_ROUTES: ROUTES, HELM_UPSTREAM_API_KEY: KEY };
    const { config } = await loadConfig(flags, env);
    sidecar = await GuardianSidecar.start({ config, log, env });
  });
  afterAll(async () => {
    await sidecar?.stop();
    provider?.server.close();
    await pod?.cleanup();
  });

  const ask = async (content: string, stream = false) => {
    const r = await fetch(`${sidecar.governedUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer agent-own-key' },
      body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content }] }),
    });
    const text = `${r.status}\n${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await r.text()}`;
    seen.push(text);
    return { status: r.status, text };
  };

  it('passes on a 401 without the key in its body or headers', async () => {
    const r = await ask('unauthorized');
    expect(r.status).toBe(401);
    expect(r.text).toContain('Incorrect API key provided');
    expect(r.text).toContain(REDACTED);
    expect(leaks(r.text)).toEqual([]);
  });

  it('passes on a streamed error and content without the key', async () => {
    const r = await ask('stream', true);
    expect(r.text).toContain(REDACTED);
    expect(leaks(r.text)).toEqual([]);
  });

  it('governs and records a completion that echoes the key with the key removed', async () => {
    const r = await ask('completion');
    expect(r.status).toBe(200);
    expect(leaks(r.text)).toEqual([]);
  });

  it('leaves the key nowhere: not in the log, the store directory or the exported pack', async () => {
    expect(seen).toHaveLength(3);
    expect(leaks(JSON.stringify(log.lines))).toEqual([]);
    await sidecar.stop();
    for (const f of await filesUnder(pod.path('proofgraph'))) expect([f, leaks((await readFile(f)).toString('latin1'))]).toEqual([f, []]);
    const pack = pod.path('pack.tar.gz');
    const io = { stdout: { write: () => true }, stderr: { write: () => true } };
    expect(await helmctl(['export', '--store', pod.path('proofgraph'), '--out', pack, '--key', pod.path('keys/exporter.key')], io)).toBe(0);
    const tar = gunzipSync(await readFile(pack)).toString('latin1');
    expect(tar).toContain('inputs/');
    expect(leaks(tar)).toEqual([]);
  });
});

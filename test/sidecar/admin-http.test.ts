// The admin listener's HTTP behaviour, pinned request by request (it was an Express app; it is a
// plain node:http listener now, and must answer exactly as before): probes, metrics, the approvals
// API with its body rules, HEAD, trailing slashes, case, unknown paths and failures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { adminApp, type Readiness } from '../../sidecar/admin/server.js';
import { memoryLogger } from '../../sidecar/log.js';
import type { SidecarMetrics } from '../../sidecar/observe/metrics.js';

const submissions: unknown[] = [];
const results: string[] = [];
let ready: Readiness = { ready: true, checks: { store: { ok: true } } };
let metricsFail = false;
const log = memoryLogger();
// The metrics registry is prom-client's (tested elsewhere); here only its text and type matter.
const metrics = {
  text: async () => {
    if (metricsFail) throw new Error('registry broke');
    return 'helm_up 1\n';
  },
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  approvalSubmission: (r: string) => results.push(r),
} as unknown as SidecarMetrics;

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer(
    adminApp({
      readiness: () => ready,
      liveness: () => (ready.ready ? { live: true } : { live: false, reason: 'store_unavailable', detail: 'disk full' }),
      metrics,
      log,
      approvals: {
        list: () => [{ nonce: 'n1' } as never],
        get: (nonce) => (nonce === 'n 1/é' || nonce === 'n1' ? ({ nonce } as never) : null),
        submit: async (s) => {
          submissions.push(s);
          if ((s as { boom?: boolean })?.boom) throw new Error('store down');
          return (s as { ok?: boolean })?.ok
            ? ({ accepted: true, node: { entryHash: 'sha256:00', index: 7 }, approvals: 1, quorum: 2, allowedFrom: null } as never)
            : ({ accepted: false, code: 'ERR_APPROVAL_BAD_SIGNATURE', message: 'bad signature' } as never);
        },
      },
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(path: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(base + path, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}
const JSON_TYPE = 'application/json; charset=utf-8';
const post = (body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) => call('/v1/approvals', { method: 'POST', headers, body });

describe('admin listener', () => {
  it('answers the probes and metrics', async () => {
    expect(await call('/healthz')).toEqual({ status: 200, type: JSON_TYPE, body: '{"status":"ok"}' });
    expect(await call('/readyz')).toEqual({ status: 200, type: JSON_TYPE, body: JSON.stringify(ready) });
    expect(await call('/metrics')).toEqual({ status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: 'helm_up 1\n' });
    ready = { ready: false, checks: { store: { ok: false } } };
    expect(await call('/readyz')).toEqual({ status: 503, type: JSON_TYPE, body: JSON.stringify(ready) });
    expect(await call('/healthz')).toEqual({ status: 503, type: JSON_TYPE, body: '{"status":"failing","reason":"store_unavailable","detail":"disk full"}' });
    ready = { ready: true, checks: { store: { ok: true } } };
  });

  it('routes like before: HEAD, a trailing slash, any case and a query string reach the same route', async () => {
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), head.headers.get('content-length'), await head.text()]).toEqual([200, JSON_TYPE, '15', '']);
    expect((await call('/healthz/')).status).toBe(200);
    expect((await call('/HEALTHZ')).status).toBe(200);
    expect((await call('/readyz?verbose=1')).status).toBe(200);
    const res = await fetch(`${base}/healthz`);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('etag')).toBeNull();
  });

  it('answers 404 with the method and path for anything else', async () => {
    expect(await call('/nope?x=1')).toEqual({ status: 404, type: JSON_TYPE, body: '{"error":{"code":"ERR_NOT_FOUND","message":"no admin endpoint GET /nope"}}' });
    expect((await call('/healthz', { method: 'POST' })).body).toBe('{"error":{"code":"ERR_NOT_FOUND","message":"no admin endpoint POST /healthz"}}');
    expect((await call('/v1/approvals/a/b')).status).toBe(404);
  });

  it('lists and looks up pending approvals (the nonce is percent-decoded)', async () => {
    expect(await call('/v1/approvals')).toEqual({ status: 200, type: JSON_TYPE, body: '{"pending":[{"nonce":"n1"}]}' });
    expect(await call('/v1/approvals/n%201%2F%C3%A9')).toEqual({ status: 200, type: JSON_TYPE, body: JSON.stringify({ nonce: 'n 1/é' }) });
    const unknown = await call('/v1/approvals/zz');
    expect([unknown.status, JSON.parse(unknown.body)]).toEqual([404, { accepted: false, code: 'ERR_APPROVAL_UNKNOWN_NONCE', message: 'no pending approval has nonce "zz"' }]);
  });

  it('takes a JSON submission and maps refusals to status codes', async () => {
    const ok = await post('{"ok":true}');
    expect([ok.status, JSON.parse(ok.body)]).toEqual([201, { accepted: true, receipt: 'sha256:00', index: 7, approvals: 1, quorum: 2, allowedFrom: null }]);
    const bad = await post('{"ok":false}', { 'content-type': 'application/json; charset=utf-8' });
    expect([bad.status, JSON.parse(bad.body).code]).toEqual([403, 'ERR_APPROVAL_BAD_SIGNATURE']);
    const zipped = await post(gzipSync('{"ok":true}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(zipped.status).toBe(201);
    const failed = await post('{"boom":true}');
    expect([failed.status, JSON.parse(failed.body).code]).toEqual([503, 'ERR_APPROVAL_UNRECORDED']);
    expect(submissions.slice(-4)).toEqual([{ ok: true }, { ok: false }, { ok: true }, { boom: true }]);
  });

  it('refuses bodies that are not a JSON object or array, too large, or not JSON at all', async () => {
    const before = results.length;
    const codes = async (p: Promise<{ status: number; body: string }>) => {
      const r = await p;
      return [r.status, (JSON.parse(r.body) as { code: string }).code];
    };
    expect(await codes(post('{"a":', { 'content-type': 'text/plain' }))).toEqual([415, 'ERR_APPROVAL_MALFORMED']);
    expect(await codes(post('{"a":'))).toEqual([400, 'ERR_APPROVAL_MALFORMED']);
    expect(await codes(post('"just a string"'))).toEqual([400, 'ERR_APPROVAL_MALFORMED']);
    expect(await codes(post(`{"x":"${'a'.repeat(17 * 1024)}"}`))).toEqual([413, 'ERR_APPROVAL_MALFORMED']);
    expect(await codes(post('{}', { 'content-type': 'application/json; charset=latin1' }))).toEqual([400, 'ERR_APPROVAL_MALFORMED']);
    expect(await codes(post('{}', { 'content-type': 'application/json', 'content-encoding': 'br-nope' }))).toEqual([400, 'ERR_APPROVAL_MALFORMED']);
    expect(results.slice(before)).toEqual(Array(6).fill('ERR_APPROVAL_MALFORMED'));
  });

  it('answers 500 without details when a handler fails', async () => {
    metricsFail = true;
    expect(await call('/metrics')).toEqual({ status: 500, type: JSON_TYPE, body: '{"error":{"code":"ERR_INTERNAL","message":"internal error"}}' });
    metricsFail = false;
    expect(log.lines.some((l) => l.msg === 'admin request failed' && l.error === 'registry broke')).toBe(true);
  });
});

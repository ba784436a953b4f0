// The API-server double's own semantics, exercised over HTTP with plain fetch (exact status codes
// and bodies) and with @kubernetes/client-node where the operator relies on its behaviour.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { ApiServerDouble, type Obj } from './api-server-double.js';

let d: ApiServerDouble;

beforeEach(async () => {
  d = await ApiServerDouble.start({ historyLimit: 50, bookmarkIntervalMs: 100 });
  d.seed('', 'namespaces', { metadata: { name: 'ns' } });
});

afterEach(async () => {
  await d.stop();
});

const PB = '/apis/helm.mindburn.org/v1alpha1/namespaces/ns/policybundles';
const GS = '/apis/helm.mindburn.org/v1alpha1/namespaces/ns/guardiansidecars';
const CMS = '/api/v1/namespaces/ns/configmaps';
const HASH = `sha256:${'ab'.repeat(32)}`;

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; body: Obj }> {
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers: { authorization: 'Bearer double-token', 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { code: res.status, body: (await res.json()) as Obj };
}

function bundle(name: string, spec: Obj = {}): Obj {
  return {
    apiVersion: 'helm.mindburn.org/v1alpha1',
    kind: 'PolicyBundle',
    metadata: { name },
    spec: { bundleId: name, version: 1, contentHash: HASH, signature: 'sig', signerKeyId: 'k+01234567', conformanceLevel: 'L1', inline: 'x: 1', ...spec },
  };
}

/** Collects watch events until `until` is satisfied (or the stream ends). */
async function watchEvents(path: string, until: (events: Obj[]) => boolean, timeoutMs = 3000): Promise<Obj[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: Obj[] = [];
  try {
    const res = await fetch(`${d.url}${path}`, { headers: { authorization: 'Bearer double-token' }, signal: ac.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, i)) as Obj);
        buf = buf.slice(i + 1);
      }
      if (until(events)) break;
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

describe('API-server double', () => {
  it('requires the bearer token', async () => {
    const res = await fetch(`${d.url}${CMS}`);
    expect(res.status).toBe(401);
  });

  it('stamps a monotonic resourceVersion on every write and rejects a stale PUT with 409 Conflict', async () => {
    const a = await call('POST', CMS, { metadata: { name: 'a' }, data: { k: '1' } });
    expect(a.code).toBe(201);
    const b = await call('POST', CMS, { metadata: { name: 'b' } });
    expect(Number(b.body.metadata.resourceVersion)).toBeGreaterThan(Number(a.body.metadata.resourceVersion));
    const updated = await call('PUT', `${CMS}/a`, { ...a.body, data: { k: '2' } });
    expect(updated.code).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(b.body.metadata.resourceVersion));
    const stale = await call('PUT', `${CMS}/a`, { ...a.body, data: { k: '3' } });
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409 });
    expect(stale.body.message).toMatch(/the object has been modified/);
    // A merge patch carrying a stale resourceVersion is conditional too.
    const p = await call('PATCH', `${CMS}/a`, { metadata: { resourceVersion: a.body.metadata.resourceVersion }, data: { k: '4' } }, 'application/merge-patch+json');
    expect(p.code).toBe(409);
    // A no-op write does not bump the resourceVersion.
    const same = await call('PUT', `${CMS}/a`, updated.body);
    expect(same.body.metadata.resourceVersion).toBe(updated.body.metadata.resourceVersion);
    expect((await call('POST', CMS, { metadata: { name: 'a' } })).body.reason).toBe('AlreadyExists');
    expect((await call('GET', `${CMS}/zzz`)).code).toBe(404);
    expect((await call('POST', '/api/v1/namespaces/missing/configmaps', { metadata: { name: 'x' } })).code).toBe(404);
  });

  it('applies CRD schema defaults, prunes unknown fields and rejects invalid objects with 422', async () => {
    const gs = await call('POST', GS, { apiVersion: 'helm.mindburn.org/v1alpha1', kind: 'GuardianSidecar', metadata: { name: 'g' }, spec: { image: 'i', conformanceLevel: 'L1', policyBundleRef: 'b', bogus: true } });
    expect(gs.code).toBe(201);
    expect(gs.body.spec.failClosed).toBe(true);
    expect(gs.body.spec.bogus).toBeUndefined();
    const bad = await call('POST', PB, bundle('bad', { version: 0, contentHash: 'md5:x', conformanceLevel: 'L9' }));
    expect(bad.code).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    const fields = (bad.body.details.causes as { field: string }[]).map((c) => c.field).sort();
    expect(fields).toEqual(['spec.conformanceLevel', 'spec.contentHash', 'spec.version']);
    const two = await call('POST', PB, bundle('two', { sourceUrl: 'https://example.com/b.yaml' }));
    expect(two.code).toBe(422);
    const cm = await call('POST', PB, bundle('cm', { inline: undefined, configMapRef: { name: 'src' } }));
    expect(cm.body.spec.configMapRef).toEqual({ name: 'src', key: 'bundle.yaml' });
  });

  it('bumps generation on spec changes only, and splits the status subresource from the main resource', async () => {
    const created = await call('POST', PB, { ...bundle('pb'), status: { phase: 'Active' } });
    expect(created.body.metadata.generation).toBe(1);
    expect(created.body.status).toBeUndefined();
    const labelled = await call('PATCH', `${PB}/pb`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    expect(labelled.body.metadata.generation).toBe(1);
    const ignored = await call('PATCH', `${PB}/pb`, { status: { phase: 'Active' } }, 'application/merge-patch+json');
    expect(ignored.body.status).toBeUndefined();
    expect(ignored.body.metadata.resourceVersion).toBe(labelled.body.metadata.resourceVersion);
    const status = await call('PATCH', `${PB}/pb/status`, { spec: { version: 9 }, status: { phase: 'Failed', message: 'm' } }, 'application/merge-patch+json');
    expect(status.body.status).toEqual({ phase: 'Failed', message: 'm' });
    expect(status.body.spec.version).toBe(1);
    expect(status.body.metadata.generation).toBe(1);
    const spec = await call('PATCH', `${PB}/pb`, { spec: { version: 2 } }, 'application/merge-patch+json');
    expect(spec.body.metadata.generation).toBe(2);
    expect(spec.body.status.phase).toBe('Failed');
    const invalidStatus = await call('PATCH', `${PB}/pb/status`, { status: { phase: 'Exploded' } }, 'application/merge-patch+json');
    expect(invalidStatus.code).toBe(422);
    expect((await call('PATCH', `${PB}/pb`, { spec: { version: 3 } }, 'application/strategic-merge-patch+json')).code).toBe(415);
  });

  it('holds an object with finalizers until the last one is removed', async () => {
    await call('POST', PB, { ...bundle('fin'), metadata: { name: 'fin', finalizers: ['a/x', 'b/y'] } });
    const del = await call('DELETE', `${PB}/fin`);
    expect(del.code).toBe(202);
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    const added = await call('PATCH', `${PB}/fin`, { metadata: { finalizers: ['a/x', 'b/y', 'c/z'] } }, 'application/merge-patch+json');
    expect(added.code).toBe(422);
    await call('PATCH', `${PB}/fin`, { metadata: { finalizers: ['b/y'] } }, 'application/merge-patch+json');
    expect((await call('GET', `${PB}/fin`)).code).toBe(200);
    const last = await call('PATCH', `${PB}/fin`, [{ op: 'remove', path: '/metadata/finalizers/0' }], 'application/json-patch+json');
    expect(last.code).toBe(200);
    expect((await call('GET', `${PB}/fin`)).code).toBe(404);
  });

  it('honours delete preconditions', async () => {
    const cm = await call('POST', CMS, { metadata: { name: 'p' } });
    const wrong = await call('DELETE', `${CMS}/p`, { preconditions: { resourceVersion: '1' } });
    expect(wrong.code).toBe(409);
    const right = await call('DELETE', `${CMS}/p`, { preconditions: { resourceVersion: cm.body.metadata.resourceVersion, uid: cm.body.metadata.uid } });
    expect(right.code).toBe(200);
    expect(right.body.status).toBe('Success');
  });

  it('server-side apply tracks field managers: conflicts are 409 unless forced, and dropped fields are removed', async () => {
    const cfg = (data: Obj, labels?: Obj): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', ...(labels ? { labels } : {}) }, data });
    const first = await call('PATCH', `${CMS}/ssa?fieldManager=alice`, cfg({ a: '1', b: '2' }), 'application/apply-patch+yaml');
    expect(first.code).toBe(201);
    expect(first.body.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'alice', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } } })]);
    // Same value: shared ownership, no conflict. Different value: conflict.
    expect((await call('PATCH', `${CMS}/ssa?fieldManager=bob`, cfg({ a: '1' }), 'application/apply-patch+yaml')).code).toBe(200);
    const conflict = await call('PATCH', `${CMS}/ssa?fieldManager=bob`, cfg({ b: 'bob' }), 'application/apply-patch+yaml');
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    expect(conflict.body.details.causes[0]).toMatchObject({ type: 'FieldManagerConflict', field: '.data.b' });
    expect(conflict.body.message).toContain('conflict with "alice"');
    const forced = await call('PATCH', `${CMS}/ssa?fieldManager=bob&force=true`, cfg({ b: 'bob' }), 'application/apply-patch+yaml');
    expect(forced.code).toBe(200);
    expect(forced.body.data).toEqual({ a: '1', b: 'bob' });
    // alice drops a (bob no longer co-owns it after his last apply), so it is removed.
    const dropped = await call('PATCH', `${CMS}/ssa?fieldManager=alice`, cfg({}, { x: 'y' }), 'application/apply-patch+yaml');
    expect(dropped.body.data).toEqual({ b: 'bob' });
    expect(dropped.body.metadata.labels).toEqual({ x: 'y' });
    // An Update (merge patch) takes ownership without conflict.
    await call('PATCH', `${CMS}/ssa?fieldManager=carol`, { data: { b: 'carol' } }, 'application/merge-patch+json');
    const afterUpdate = await call('PATCH', `${CMS}/ssa?fieldManager=bob`, cfg({ b: 'bob2' }), 'application/apply-patch+yaml');
    expect(afterUpdate.code).toBe(409);
    expect(afterUpdate.body.message).toContain('conflict with "carol"');
    expect((await call('PATCH', `${CMS}/ssa`, cfg({}), 'application/apply-patch+yaml')).code).toBe(400);
    // Status apply on a missing object is 404; a stale resourceVersion in the config is 409.
    expect((await call('PATCH', `${PB}/none/status?fieldManager=op`, JSON.stringify({ apiVersion: 'helm.mindburn.org/v1alpha1', kind: 'PolicyBundle', metadata: { name: 'none' }, status: {} }), 'application/apply-patch+yaml')).code).toBe(404);
    const stale = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', resourceVersion: '1' }, data: { z: '1' } });
    expect((await call('PATCH', `${CMS}/ssa?fieldManager=alice`, stale, 'application/apply-patch+yaml')).code).toBe(409);
  });

  it('status applies through the status subresource only touch status and record the subresource', async () => {
    await call('POST', PB, bundle('s'));
    const body = JSON.stringify({ apiVersion: 'helm.mindburn.org/v1alpha1', kind: 'PolicyBundle', metadata: { name: 's' }, spec: { version: 7 }, status: { phase: 'Pending' } });
    const out = await call('PATCH', `${PB}/s/status?fieldManager=op&force=true`, body, 'application/apply-patch+yaml');
    expect(out.code).toBe(200);
    expect(out.body.spec.version).toBe(1);
    expect(out.body.status.phase).toBe('Pending');
    expect(out.body.metadata.managedFields.find((m: Obj) => m.manager === 'op')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
  });

  it('lists with pagination; an expired continue token or exact resourceVersion is 410, a future one 504', async () => {
    for (let i = 0; i < 5; i++) await call('POST', CMS, { metadata: { name: `c${i}`, labels: { i: String(i % 2) } } });
    const page1 = await call('GET', `${CMS}?limit=2`);
    expect(page1.body.items.map((o: Obj) => o.metadata.name)).toEqual(['c0', 'c1']);
    expect(page1.body.metadata.remainingItemCount).toBe(3);
    // Writes after the first page do not leak into the next pages: the list is consistent.
    await call('POST', CMS, { metadata: { name: 'c2a' } });
    const page2 = await call('GET', `${CMS}?limit=2&continue=${encodeURIComponent(page1.body.metadata.continue)}`);
    expect(page2.body.items.map((o: Obj) => o.metadata.name)).toEqual(['c2', 'c3']);
    const selected = await call('GET', `${CMS}?labelSelector=${encodeURIComponent('i in (1)')}`);
    expect(selected.body.items.map((o: Obj) => o.metadata.name)).toEqual(['c1', 'c3']);
    const exact = await call('GET', `${CMS}?resourceVersion=${page1.body.metadata.resourceVersion}&resourceVersionMatch=Exact`);
    expect(exact.body.items).toHaveLength(5);
    d.compact();
    const expired = await call('GET', `${CMS}?limit=2&continue=${encodeURIComponent(page1.body.metadata.continue)}`);
    expect(expired.code).toBe(410);
    expect(expired.body.reason).toBe('Expired');
    expect((await call('GET', `${CMS}?resourceVersion=${page1.body.metadata.resourceVersion}&resourceVersionMatch=Exact`)).code).toBe(410);
    expect((await call('GET', `${CMS}?resourceVersion=999999999`)).code).toBe(504);
  });

  it('watches resume from a resourceVersion, filter by label (with transitions) and send bookmarks', async () => {
    const start = await call('POST', CMS, { metadata: { name: 'w', labels: { sel: 'yes' } } });
    const rv = start.body.metadata.resourceVersion as string;
    await call('PATCH', `${CMS}/w`, { metadata: { labels: { sel: 'no' } } }, 'application/merge-patch+json');
    await call('PATCH', `${CMS}/w`, { metadata: { labels: { sel: 'yes' } } }, 'application/merge-patch+json');
    await call('DELETE', `${CMS}/w`);
    const all = await watchEvents(`${CMS}?watch=1&resourceVersion=${rv}`, (e) => e.length >= 3);
    expect(all.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'DELETED']);
    const filtered = await watchEvents(`${CMS}?watch=true&resourceVersion=${rv}&labelSelector=sel%3Dyes`, (e) => e.length >= 3);
    // Leaving the selection is a DELETED to this watcher, entering it an ADDED.
    expect(filtered.map((e) => e.type)).toEqual(['DELETED', 'ADDED', 'DELETED']);
    const bookmarks = await watchEvents(`${CMS}?watch=1&allowWatchBookmarks=true`, (e) => e.some((x) => x.type === 'BOOKMARK'));
    expect(bookmarks.find((e) => e.type === 'BOOKMARK')!.object.metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('a watch from a compacted resourceVersion gets an ERROR event with a 410 Status', async () => {
    const a = await call('POST', CMS, { metadata: { name: 'old' } });
    for (let i = 0; i < 60; i++) await call('PATCH', `${CMS}/old`, { data: { i: String(i) } }, 'application/merge-patch+json');
    const events = await watchEvents(`${CMS}?watch=1&resourceVersion=${a.body.metadata.resourceVersion}`, (e) => e.length >= 1);
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
  });

  it('serves @kubernetes/client-node (typed API and Watch) and can be silenced, expired and closed', async () => {
    const kc = d.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'ns', body: { metadata: { name: 'typed' }, data: { a: 'b' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'ns' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['typed']);
    const seen: string[] = [];
    let done: unknown = 'open';
    const ac = await new Watch(kc).watch(CMS, { resourceVersion: list.metadata?.resourceVersion }, (type, obj: Obj) => seen.push(`${type} ${obj.metadata?.name ?? ''}`), (err) => (done = err));
    await new Promise((r) => setTimeout(r, 100));
    expect(d.openWatchCount('configmaps')).toBe(1);
    await core.createNamespacedConfigMap({ namespace: 'ns', body: { metadata: { name: 'second' } } });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['ADDED second']);
    expect(d.silenceWatches()).toBe(1);
    await core.createNamespacedConfigMap({ namespace: 'ns', body: { metadata: { name: 'third' } } });
    await new Promise((r) => setTimeout(r, 250));
    expect(seen).toEqual(['ADDED second']);
    expect(d.expireWatches()).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.at(-1)).toBe('ERROR ');
    expect(done).toBeNull();
    ac.abort();
  });

  it('enforces the 1 MiB ConfigMap limit', async () => {
    const big = await call('POST', CMS, { metadata: { name: 'big' }, data: { a: 'x'.repeat(1024 * 1024 + 1) } });
    expect(big.code).toBe(422);
    expect(big.body.message).toMatch(/Too long/);
  });

  it('deleting a namespace deletes its objects, waiting for their finalizers', async () => {
    await call('POST', CMS, { metadata: { name: 'x' } });
    await call('POST', PB, { ...bundle('held'), metadata: { name: 'held', finalizers: ['a/b'] } });
    expect((await call('DELETE', '/api/v1/namespaces/ns')).code).toBe(202);
    expect((await call('GET', `${CMS}/x`)).code).toBe(404);
    expect((await call('GET', '/api/v1/namespaces/ns')).body.status.phase).toBe('Terminating');
    expect((await call('POST', CMS, { metadata: { name: 'y' } })).code).toBe(403);
    await call('PATCH', `${PB}/held`, { metadata: { finalizers: [] } }, 'application/merge-patch+json');
    expect((await call('GET', '/api/v1/namespaces/ns')).code).toBe(404);
  });

  it('serves HTTPS with a CA in the kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'double-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
      const tls = await ApiServerDouble.start({ tls: { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert, ca: cert } });
      try {
        expect(tls.url).toMatch(/^https:/);
        const core = tls.kubeConfig().makeApiClient(CoreV1Api);
        const nss = await core.listNamespace();
        expect(nss.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-system']);
      } finally {
        await tls.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

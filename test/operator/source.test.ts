// Bundle sources: sourceUrl fetching (scheme policy, timeout, size limit, refresh, pinned hash)
// and configMapRef, through the operator against the double and a local HTTP server.
import { createServer, type Server } from 'node:http';
import { resolveSource } from '../../operator/controllers/bundle-source.js';
import { distributedConfigMapName, type PolicyBundle } from '../../operator/api/v1alpha1.js';
import type { Operator } from '../../operator/operator.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { GROUP, OPERATOR_NS, bundleStatus, bundleText, governedNamespace, clusterGuardianSidecar, operatorFor, policyBundle, readyReason, signedSpec, startDouble, waitFor } from './support.js';

/** The text signedSpec(bundleText()) signs (its metadata carries the spec's bundleId and version). */
const boundText = (): string => signedSpec(bundleText()).inline!;

let server: Server;
let base: string;
let body = '';
let delayMs = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    setTimeout(() => {
      if (req.url === '/missing') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/yaml' }).end(body);
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  body = boundText();
  delayMs = 0;
});

function pbWithUrl(url: string): PolicyBundle {
  return { apiVersion: 'helm.mindburn.org/v1alpha1', kind: 'PolicyBundle', metadata: { name: 'u', namespace: 'ns' }, spec: { ...signedSpec(bundleText()), inline: undefined, sourceUrl: url } } as PolicyBundle;
}

const opts = { getConfigMap: async () => { throw new Error('unused'); }, fetch: globalThis.fetch, allowHttp: true, timeoutMs: 500, maxBytes: 1 << 20 };

describe('bundle sources', () => {
  it('fetches a URL within the limits and refuses what breaks them', async () => {
    const ok = await resolveSource(pbWithUrl(`${base}/b.yaml`), opts);
    expect(ok).toEqual({ ok: true, text: body, origin: 'url' });
    expect(await resolveSource(pbWithUrl(`${base}/b.yaml`), { ...opts, allowHttp: false })).toMatchObject({ ok: false, reason: 'SourceInsecure', transient: false });
    expect(await resolveSource(pbWithUrl('ftp://example.com/b'), opts)).toMatchObject({ ok: false, reason: 'SourceInsecure' });
    expect(await resolveSource(pbWithUrl(`${base}/b.yaml`), { ...opts, maxBytes: 100 })).toMatchObject({ ok: false, reason: 'SourceTooLarge' });
    expect(await resolveSource(pbWithUrl(`${base}/missing`), opts)).toMatchObject({ ok: false, reason: 'SourceUnavailable', transient: true });
    delayMs = 1000;
    expect(await resolveSource(pbWithUrl(`${base}/slow`), opts)).toMatchObject({ ok: false, reason: 'SourceUnavailable', message: expect.stringMatching(/timed out/) });
  });

  describe('through the operator', () => {
    let d: ApiServerDouble;
    let op: Operator;
    const CM = distributedConfigMapName('support-desk');

    beforeEach(async () => {
      d = await startDouble();
      governedNamespace(d, 'agents');
      d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
      op = operatorFor(d, { source: { allowHttp: true, timeoutMs: 2000 } });
      await op.start();
    });

    afterEach(async () => {
      await op.stop();
      await d.stop();
    });

    it('a sourceUrl bundle is pinned by contentHash and re-fetched every refreshInterval', async () => {
      const spec = { ...signedSpec(bundleText()), inline: undefined, sourceUrl: `${base}/desk.yaml`, refreshInterval: '1s' };
      d.seed(GROUP, 'policybundles', policyBundle('desk', spec));
      await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
      await waitFor('distributed', () => d.get('', 'configmaps', 'agents', CM));
      // The server now serves other content: the next refresh refuses it and withdraws the copy.
      body = bundleText('swapped');
      await waitFor('HashMismatch after refresh', () => readyReason(bundleStatus(d, 'desk')) === 'HashMismatch', 10_000);
      await waitFor('copy withdrawn', () => d.get('', 'configmaps', 'agents', CM) === undefined);
      body = boundText();
      await waitFor('Active again', () => bundleStatus(d, 'desk')?.phase === 'Active', 10_000);
    });

    it('a configMapRef bundle is read from the ConfigMap, and a missing one is reported', async () => {
      const spec = { ...signedSpec(bundleText()), inline: undefined, configMapRef: { name: 'desk-src' }, refreshInterval: '1s' };
      d.seed(GROUP, 'policybundles', policyBundle('desk', spec));
      await waitFor('SourceNotFound', () => readyReason(bundleStatus(d, 'desk')) === 'SourceNotFound');
      expect(bundleStatus(d, 'desk')?.conditions?.find((c) => c.type === 'SignatureVerified')?.status).toBe('Unknown');
      d.seed('', 'configmaps', { metadata: { name: 'desk-src', namespace: OPERATOR_NS }, data: { 'bundle.yaml': boundText() } });
      await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active', 10_000);
    });
  });
});

// Destination allowlists with scheme, port and path prefix (docs/spec/policy-bundle.md §5.3):
// `https://api.example.com/v1/` admits that scheme, host, default port and everything under /v1 on
// segment boundaries after WHATWG parsing and percent-decoding; host-only entries keep working.
import { compileBundle, composeBundles, evaluate, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { checkDestinations } from '../../kernel/guardian/destinations.js';
import { call, compiled, exampleDoc, signedPolicy, suite } from './helpers.js';

function apiDoc(list: string[], schemes?: string[]): PolicyBundleDoc {
  const d = exampleDoc();
  d.destinations = { ...d.destinations, api: list };
  d.tools['http.get'] = {
    domain: 'billing',
    sideEffect: 'read',
    connectors: ['payments-api'],
    args: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
    destinations: [{ arg: '/url', kind: 'url', allow: ['api'], ...(schemes ? { schemes } : {}) }],
  } as PolicyBundleDoc['tools'][string];
  d.rules.push({ id: 'allow-get', match: { tools: ['http.get'] }, verdict: 'ALLOW' });
  return d;
}

const doc = apiDoc(['https://api.example.com/v1/', 'https://*.files.example.com:8443/pub', 'hosts.example.org'], ['https', 'http']);
const bundle = compiled(doc);
const policy = signedPolicy(doc);
const get = (url: string) => evaluate(policy, call(bundle, 'http.get', { url }, { connector: 'payments-api' }));

describe('URL patterns in destination lists', () => {
  it.each([
    ['https://api.example.com/v1/'],
    ['https://api.example.com/v1'],
    ['https://api.example.com/v1/charges?limit=1#x'],
    ['https://api.example.com:443/v1/charges'],
    ['HTTPS://API.EXAMPLE.COM/v1/charges'],
    ['https://api.example.com/v1/a/../charges'],
    ['https://api.example.com/v1/%7Euser'],
    ['https://eu.files.example.com:8443/pub/report.csv'],
    ['https://hosts.example.org/anything/at/all'],
    ['http://hosts.example.org/'],
  ])('allows %s', (url) => {
    const d = get(url);
    expect([d.verdict, d.reasonCode, d.detail]).toEqual(['ALLOW', 'ALLOWED', expect.any(String)]);
  });

  it.each([
    ['another path', 'https://api.example.com/v2/charges'],
    ['a prefix that is not a segment boundary', 'https://api.example.com/v10/charges'],
    ['the root', 'https://api.example.com/'],
    ['dot-dot out of the prefix', 'https://api.example.com/v1/../admin'],
    ['encoded dot-dot out of the prefix', 'https://api.example.com/v1/%2e%2e/admin'],
    ['mixed encoded dot-dot', 'https://api.example.com/v1/.%2E/admin'],
    ['encoded slash', 'https://api.example.com/v1%2F..%2Fadmin'],
    ['encoded backslash', 'https://api.example.com/v1/..%5Cadmin'],
    ['double encoding', 'https://api.example.com/v1/%252e%252e/admin'],
    ['encoded NUL', 'https://api.example.com/v1/a%00b'],
    ['malformed escape', 'https://api.example.com/v1/%zz'],
    ['raw backslash', 'https://api.example.com/v1\\..\\admin'],
    ['a tab the parser would drop', 'https://api.example.com/v\t1/x'],
    ['the wrong scheme', 'http://api.example.com/v1/charges'],
    ['another port', 'https://api.example.com:8443/v1/charges'],
    ['userinfo', 'https://user:pw@api.example.com/v1/charges'],
    ['empty userinfo', 'https://@api.example.com/v1/charges'],
    ['a look-alike host', 'https://api.example.com.evil.net/v1/charges'],
    ['a subdomain of an exact host', 'https://x.api.example.com/v1/charges'],
    ['the wildcard base itself', 'https://files.example.com:8443/pub/x'],
    ['a wildcard host on the default port', 'https://eu.files.example.com/pub/x'],
    ['a wildcard host outside its path', 'https://eu.files.example.com:8443/private'],
  ])('blocks %s', (_why, url) => {
    const d = get(url);
    expect([d.verdict, d.reasonCode]).toEqual(['DENY', 'DATA_EGRESS_BLOCKED']);
  });

  it('a URL pattern never matches a host-kind value', () => {
    expect(checkDestinations({ h: 'api.example.com' }, { arg: '/h', kind: 'host', allow: ['api'] }, { api: ['https://api.example.com/'] })).toMatchObject({ ok: false });
    expect(checkDestinations({ h: 'api.example.com' }, { arg: '/h', kind: 'host', allow: ['api'] }, { api: ['api.example.com'] })).toEqual({ ok: true });
  });
});

describe('URL pattern lint and composition', () => {
  it.each([
    ['userinfo', 'https://user@api.example.com/v1/'],
    ['percent in the path', 'https://api.example.com/v%31/'],
    ['a dot segment', 'https://api.example.com/v1/../admin/'],
    ['an empty segment', 'https://api.example.com//v1/'],
    ['uppercase host', 'https://API.example.com/v1/'],
    ['the default port spelt out', 'https://api.example.com:443/v1/'],
    ['a port out of range', 'https://api.example.com:70000/v1/'],
    ['no path', 'https://api.example.com'],
  ])('refuses %s', (_why, p) => {
    const c = compileBundle(apiDoc([p]), suite);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.errors.map((e) => e.code)).toContain('ERR_DESTINATION');
  });

  const overlay = (api: string[]) => ({ apiVersion: 'helm-policy-bundle/v1', kind: 'PolicyOverlay', metadata: { name: 'narrow' }, destinations: { api } });
  const base = apiDoc(['https://api.example.com/v1/', '*.example.net']);

  it.each([
    [['https://api.example.com/v1/charges/'], true],
    [['https://api.example.com/v1/'], true],
    [['https://eu.example.net/x/'], true],
    [['https://api.example.com/'], false],
    [['https://api.example.com/v10/'], false],
    [['http://api.example.com/v1/'], false],
    [['api.example.com'], false],
  ])('an overlay may narrow to %j: %p', (api, ok) => {
    expect(composeBundles(base, [overlay(api)], suite).ok).toBe(ok);
  });
});

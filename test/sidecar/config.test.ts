// Configuration of `helmctl serve`: precedence flag > environment > file > default, typed values
// checked where they came from, cross-key rules, identity derived from the pod's Downward API
// fields, and errors that name the place to fix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../sidecar/config/errors.js';
import { KEYS } from '../../sidecar/config/keys.js';
import { loadConfig, serveUsage, type Env } from '../../sidecar/config/load.js';
import { repoRoot } from '../support/shared.js';

const BASE = ['--proofgraph-dir', '/pg', '--node-key', '/k/node', '--log-key', '/k/log', '--upstream-url', 'http://127.0.0.1:9/v1', '--writer-id', 'w1', '--principal-id', 'agent:x'];

function files(map: Record<string, string>) {
  return async (p: string) => {
    if (!Object.hasOwn(map, p)) throw Object.assign(new Error(`ENOENT: no such file ${p}`), { code: 'ENOENT' });
    return map[p]!;
  };
}

async function fails(argv: string[], env: Env = {}, fs: Record<string, string> = {}): Promise<ConfigError> {
  try {
    await loadConfig(argv, env, files(fs));
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('sidecar configuration', () => {
  it('defaults: loopback listeners on 8080 and 9090, explain mode, no bundle', async () => {
    const { config, sources } = await loadConfig(BASE, {});
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.adminListen).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(config).toMatchObject({ bundle: null, deniedCallMode: 'explain', heartbeatIntervalMs: 60_000, readyWithoutBundle: false, upstreamApiKey: null, toolRoutes: {} });
    expect(sources.listen).toBe('default');
    expect(sources.proofgraphDir).toBe('flag');
  });

  it('precedence: flag over environment over config file over default', async () => {
    const file = 'heartbeatIntervalMs: 1000\ncheckpointEvery: 7\nlogLevel: warn\nupstreamTimeoutMs: 3000\n';
    const env = { HELM_CONFIG: '/etc/helm/sidecar.yaml', HELM_HEARTBEAT_INTERVAL_MS: '2000', HELM_CHECKPOINT_EVERY: '8' };
    const { config, sources, file: used } = await loadConfig([...BASE, '--heartbeat-interval-ms', '3000'], env, files({ '/etc/helm/sidecar.yaml': file }));
    expect(used).toBe('/etc/helm/sidecar.yaml');
    expect([config.heartbeatIntervalMs, sources.heartbeatIntervalMs]).toEqual([3000, 'flag']);
    expect([config.checkpointEvery, sources.checkpointEvery]).toEqual([8, 'env']);
    expect([config.logLevel, sources.logLevel]).toEqual(['warn', 'file']);
    expect([config.shutdownTimeoutMs, sources.shutdownTimeoutMs]).toEqual([20_000, 'default']);
    // --config beats HELM_CONFIG; JSON is YAML.
    const j = await loadConfig([...BASE, '--config', '/b.json'], env, files({ '/b.json': '{"logLevel": "error"}', '/etc/helm/sidecar.yaml': file }));
    expect(j.config.logLevel).toBe('error');
    // An empty variable counts as unset (a Kubernetes env entry with value "").
    expect((await loadConfig(BASE, { HELM_LOG_LEVEL: '' })).config.logLevel).toBe('info');
  });

  it('lists: repeatable flags, comma-separated variables, YAML lists; booleans with --no-', async () => {
    const a = await loadConfig([...BASE, '--principal-role', 'support', '--principal-role', 'billing,triage'], {});
    expect(a.config.principal.roles).toEqual(['support', 'billing', 'triage']);
    const b = await loadConfig(BASE, { HELM_PRINCIPAL_ROLES: 'support, billing' });
    expect(b.config.principal.roles).toEqual(['support', 'billing']);
    const c = await loadConfig([...BASE, '--config', '/c.yaml'], {}, files({ '/c.yaml': 'principalRoles: [a, b]\nreadyWithoutBundle: true\n' }));
    expect(c.config.principal.roles).toEqual(['a', 'b']);
    expect(c.config.readyWithoutBundle).toBe(true);
    const d = await loadConfig([...BASE, '--config', '/c.yaml', '--no-ready-without-bundle'], {}, files({ '/c.yaml': 'readyWithoutBundle: true\n' }));
    expect(d.config.readyWithoutBundle).toBe(false);
  });

  it('tool routes from a flag, a JSON variable or the file', async () => {
    const f = await loadConfig([...BASE, '--tool-route', 'crm.lookup=connector:crm-api', '--tool-route', 'kb.fetch=sandbox:egress-only,connector:web'], {});
    expect(f.config.toolRoutes).toEqual({ 'crm.lookup': { connector: 'crm-api' }, 'kb.fetch': { sandbox: 'egress-only', connector: 'web' } });
    const e = await loadConfig(BASE, { HELM_TOOL_ROUTES: '{"crm.lookup":{"connector":"crm-api"}}' });
    expect(e.config.toolRoutes).toEqual({ 'crm.lookup': { connector: 'crm-api' } });
    const y = await loadConfig([...BASE, '--config', '/r.yaml'], {}, files({ '/r.yaml': 'toolRoutes:\n  crm.lookup: { connector: crm-api }\n' }));
    expect(y.config.toolRoutes).toEqual({ 'crm.lookup': { connector: 'crm-api' } });
    expect((await fails(BASE, { HELM_TOOL_ROUTES: '{"crm.lookup":{"conector":"x"}}' })).code).toBe('ERR_CONFIG_UNKNOWN_KEY');
    expect((await fails([...BASE, '--tool-route', 'crm.lookup']))).toMatchObject({ code: 'ERR_CONFIG_VALUE', source: '--tool-route' });
    expect((await fails(BASE, { HELM_TOOL_ROUTES: 'crm=x' })).code).toBe('ERR_CONFIG_TYPE');
  });

  it('identity from the pod: system:serviceaccount:<ns>:<sa>, the pod name as writer id, attributes', async () => {
    const argv = ['--proofgraph-dir', '/pg', '--node-key', '/k/n', '--log-key', '/k/l', '--upstream-url', 'https://api.example.com/v1'];
    const { config, sources } = await loadConfig(argv, { POD_NAMESPACE: 'shop', POD_SERVICE_ACCOUNT: 'support-agent', POD_NAME: 'support-agent-7d9f-x2k4p', HELM_PRINCIPAL_ROLES: 'support' });
    expect(config.principal).toEqual({ id: 'system:serviceaccount:shop:support-agent', roles: ['support'], attributes: { namespace: 'shop', serviceAccount: 'support-agent', pod: 'support-agent-7d9f-x2k4p' } });
    expect(config.writerId).toBe('support-agent-7d9f-x2k4p');
    expect([sources.principalId, sources.writerId]).toEqual(['derived', 'derived']);
    // HELM_* names win over the plain Kubernetes names.
    const h = await loadConfig(argv, { POD_NAMESPACE: 'a', HELM_POD_NAMESPACE: 'b', POD_SERVICE_ACCOUNT: 's', POD_NAME: 'p' });
    expect(h.config.principal.id).toBe('system:serviceaccount:b:s');
  });

  it.each<[string, string[], Env, Record<string, string>, string, RegExp]>([
    ['missing node key', BASE.filter((x, i) => x !== '--node-key' && BASE[i - 1] !== '--node-key'), {}, {}, 'ERR_CONFIG_MISSING', /nodeKey is required \(--node-key, HELM_NODE_KEY/],
    ['no principal', BASE.slice(0, -2), {}, {}, 'ERR_CONFIG_MISSING', /principalId is required/],
    ['no writer id', BASE.slice(0, -4).concat(['--principal-id', 'a']), {}, {}, 'ERR_CONFIG_MISSING', /writerId is required/],
    ['bad writer id', [...BASE, '--writer-id', 'a/b'], {}, {}, 'ERR_CONFIG_VALUE', /writer id "a\/b"/],
    ['not a number', [...BASE, '--heartbeat-interval-ms', '5s'], {}, {}, 'ERR_CONFIG_TYPE', /^--heartbeat-interval-ms: expected a non-negative integer/],
    ['below the minimum', BASE, { HELM_HEARTBEAT_INTERVAL_MS: '1' }, {}, 'ERR_CONFIG_VALUE', /^environment variable HELM_HEARTBEAT_INTERVAL_MS: 1 is below the minimum 10/],
    ['a quoted number in the file', [...BASE, '--config', '/c.yaml'], {}, { '/c.yaml': 'checkpointEvery: "10"\n' }, 'ERR_CONFIG_TYPE', /^config file key checkpointEvery: expected a non-negative integer, got string/],
    ['a typo in the file', [...BASE, '--config', '/c.yaml'], {}, { '/c.yaml': 'heartbeatIntervalMS: 10\n' }, 'ERR_CONFIG_UNKNOWN_KEY', /unknown setting "heartbeatIntervalMS"/],
    ['a secret in the file', [...BASE, '--config', '/c.yaml'], {}, { '/c.yaml': 'upstreamApiKey: sk-123\n' }, 'ERR_CONFIG_UNKNOWN_KEY', /upstreamApiKey is a secret: set it through HELM_UPSTREAM_API_KEY/],
    ['a file that is not a mapping', [...BASE, '--config', '/c.yaml'], {}, { '/c.yaml': '- a\n- b\n' }, 'ERR_CONFIG_FILE', /must be a mapping/],
    ['a duplicate key in the file', [...BASE, '--config', '/c.yaml'], {}, { '/c.yaml': 'logLevel: info\nlogLevel: warn\n' }, 'ERR_CONFIG_FILE', /not YAML or JSON/],
    ['a missing file', [...BASE, '--config', '/nope.yaml'], {}, {}, 'ERR_CONFIG_FILE', /config file \/nope.yaml: cannot read/],
    ['an unknown flag', [...BASE, '--bundel', 'x'], {}, {}, 'ERR_CONFIG_USAGE', /bundel/],
    ['the API key as a flag', [...BASE, '--upstream-api-key', 'sk'], {}, {}, 'ERR_CONFIG_USAGE', /upstream-api-key/],
    ['both API key sources', [...BASE, '--upstream-api-key-file', '/k/api'], { HELM_UPSTREAM_API_KEY: 'sk' }, {}, 'ERR_CONFIG_CONFLICT', /either/],
    ['a bundle without a signature', [...BASE, '--bundle', '/b.yaml', '--bundle-trust-root', '/roots'], {}, {}, 'ERR_CONFIG_MISSING', /bundleSignature is required/],
    ['a bundle without trust roots', [...BASE, '--bundle', '/b.yaml', '--bundle-signature', '/b.sig'], {}, {}, 'ERR_CONFIG_MISSING', /bundleTrustRoots is required/],
    ['a signature without a bundle', [...BASE, '--bundle-signature', '/b.sig'], {}, {}, 'ERR_CONFIG_CONFLICT', /bundle is not/],
    ['a bad listen address', [...BASE, '--listen', 'localhost'], {}, {}, 'ERR_CONFIG_VALUE', /is not host:port/],
    ['both listeners on one port', [...BASE, '--admin-listen', '127.0.0.1:8080'], {}, {}, 'ERR_CONFIG_CONFLICT', /both 127.0.0.1:8080/],
    ['an upstream that is not http', [...BASE, '--upstream-url', 'file:///etc/passwd'], {}, {}, 'ERR_CONFIG_VALUE', /http or https/],
    ['credentials in the upstream URL', [...BASE, '--upstream-url', 'https://u:p@api.example.com/v1'], {}, {}, 'ERR_CONFIG_VALUE', /credentials do not belong/],
    ['an unknown enum value', [...BASE, '--denied-call-mode', 'silent'], {}, {}, 'ERR_CONFIG_VALUE', /not one of explain, error/],
    ['repeated roles', [...BASE, '--principal-role', 'a,a'], {}, {}, 'ERR_CONFIG_VALUE', /roles must not repeat/],
  ])('rejects %s', async (_what, argv, env, fs, code, message) => {
    const e = await fails(argv, env, fs);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('warns about HELM_* variables that are not settings', async () => {
    const { warnings } = await loadConfig(BASE, { HELM_BUNDEL: '/b.yaml', HELM_PRINCIPAL_ID: 'agent:y' });
    expect(warnings).toEqual(['environment variable HELM_BUNDEL is not a sidecar setting (typo?)']);
  });

  it('every setting is documented in docs/sidecar.md and in the usage text', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'sidecar.md'), 'utf8');
    const usage = serveUsage();
    for (const k of KEYS) {
      expect(doc).toContain(`\`${k.key}\``);
      for (const v of k.env) expect(doc).toContain(`\`${v}\``);
      if (k.flag !== null) {
        expect(doc).toContain(`\`--${k.flag}\``);
        expect(usage).toContain(`--${k.flag}`);
      }
    }
  });
});

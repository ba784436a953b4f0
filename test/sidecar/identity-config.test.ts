// Configuration of the certified identity: what it needs, what it refuses (static key material).
import { ConfigError } from '../../sidecar/config/errors.js';
import { loadConfig, type Env } from '../../sidecar/config/load.js';
import { testKey } from '../evidence/fixtures.js';

const ROOT_VKEY = testKey('helm/certify-root').verifier.vkey;
const CERTIFIED: Env = {
  HELM_IDENTITY: 'certified',
  HELM_PROOFGRAPH_DIR: '/var/lib/helm/proofgraph',
  HELM_UPSTREAM_URL: 'http://127.0.0.1:9/v1',
  HELM_CLUSTER_ORIGIN: 'helm/prod-eu1',
  HELM_CERTIFY_URL: 'https://helm-operator-webhook.helm-system.svc:443/v1/certify',
  HELM_CERTIFY_CA: '/etc/helm/ca.crt',
  HELM_CERTIFY_TOKEN_FILE: '/var/run/secrets/helm.mindburn.org/token/token',
  HELM_CERTIFY_ROOT: ROOT_VKEY,
  POD_NAMESPACE: 'shop',
  POD_NAME: 'agent-7f9c',
  POD_UID: '0b1c2d3e-0000-4000-8000-000000000001',
  POD_SERVICE_ACCOUNT: 'agent',
};

async function fails(env: Env, argv: string[] = []): Promise<ConfigError> {
  try {
    await loadConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('certified identity configuration', () => {
  it('needs no node key, log key or trust event, and carries the certification settings', async () => {
    const { config } = await loadConfig([], CERTIFIED);
    expect(config.identity).toBe('certified');
    expect(config.nodeKey).toBeNull();
    expect(config.logKey).toBeNull();
    expect(config.certify).toEqual({
      clusterOrigin: 'helm/prod-eu1',
      url: 'https://helm-operator-webhook.helm-system.svc:443/v1/certify',
      ca: '/etc/helm/ca.crt',
      tokenFile: '/var/run/secrets/helm.mindburn.org/token/token',
      root: ROOT_VKEY,
      podNamespace: 'shop',
      podName: 'agent-7f9c',
      podUid: '0b1c2d3e-0000-4000-8000-000000000001',
    });
  });

  it('refuses static key material, an origin or a writer id: the identity is made at start', async () => {
    for (const [name, value] of [['HELM_NODE_KEY', '/k/node'], ['HELM_LOG_KEY', '/k/log'], ['HELM_TRUST_EVENTS', '/k/ev.json'], ['HELM_ORIGIN', 'x/y'], ['HELM_WRITER_ID', 'w1']] as const) {
      const e = await fails({ ...CERTIFIED, [name]: value });
      expect(e.code).toBe('ERR_CONFIG_CONFLICT');
      expect(e.message).toMatch(/identity certified/);
    }
  });

  it('names each missing certification setting', async () => {
    for (const name of ['HELM_CLUSTER_ORIGIN', 'HELM_CERTIFY_URL', 'HELM_CERTIFY_CA', 'HELM_CERTIFY_TOKEN_FILE', 'HELM_CERTIFY_ROOT', 'POD_UID', 'POD_NAME', 'POD_NAMESPACE'] as const) {
      const env = { ...CERTIFIED, [name]: undefined };
      const e = await fails(env);
      expect(e.code).toBe('ERR_CONFIG_MISSING');
      expect(e.message).toContain(name);
    }
    expect((await fails({ ...CERTIFIED, HELM_CERTIFY_URL: 'http://op.svc/v1/certify' })).code).toBe('ERR_CONFIG_VALUE');
    expect((await fails({ ...CERTIFIED, HELM_CERTIFY_ROOT: 'not-a-key' })).code).toBe('ERR_CONFIG_VALUE');
    expect((await fails({ ...CERTIFIED, HELM_CLUSTER_ORIGIN: 'helm/prod eu1' })).code).toBe('ERR_CONFIG_VALUE');
  });

  it('static identity still needs its key files', async () => {
    const e = await fails({ HELM_PROOFGRAPH_DIR: '/pg', HELM_UPSTREAM_URL: 'http://127.0.0.1:9/v1', HELM_WRITER_ID: 'w', HELM_PRINCIPAL_ID: 'p' });
    expect(e.code).toBe('ERR_CONFIG_MISSING');
    expect(e.message).toMatch(/nodeKey/);
  });
});

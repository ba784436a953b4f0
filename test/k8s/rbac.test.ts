// The API-server double authenticates bearer tokens and authorizes with RBAC the way
// kube-apiserver does: verbs (get/list/watch/create/update/patch/delete), apiGroups, resources and
// subresources, resourceNames, Role vs ClusterRole, RoleBinding vs ClusterRoleBinding, User /
// Group / ServiceAccount subjects, server-side apply that creates, and the 401/403 Status bodies.
import { ApiServerDouble, serviceAccountUser } from './api-server-double.js';

const SA = 'sa-token';
const OTHER = 'other-token';
const RBAC = 'rbac.authorization.k8s.io';

describe('API-server double: authentication and RBAC', () => {
  let d: ApiServerDouble;
  beforeEach(async () => {
    d = await ApiServerDouble.start({ rbac: true, tokens: { [SA]: serviceAccountUser('ops', 'operator'), [OTHER]: { username: 'alice', groups: ['devs'] } } });
    for (const ns of ['ops', 'agents']) d.seed('', 'namespaces', { metadata: { name: ns } });
    d.seed('', 'configmaps', { metadata: { name: 'cfg', namespace: 'agents' }, data: { a: '1' } });
    d.seed('', 'configmaps', { metadata: { name: 'cfg', namespace: 'kube-system' }, data: { a: '1' } });
  });
  afterEach(() => d.stop());

  const call = async (token: string | undefined, method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await fetch(`${d.url}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    return { code: r.status, body: (await r.json().catch(() => undefined)) as Record<string, unknown> | undefined };
  };
  const role = (name: string, ns: string | undefined, rules: unknown[]) =>
    d.seed(RBAC, ns ? 'roles' : 'clusterroles', { metadata: { name, ...(ns ? { namespace: ns } : {}) }, rules });
  const bind = (name: string, ns: string | undefined, roleRef: { kind: string; name: string }, subjects: unknown[]) =>
    d.seed(RBAC, ns ? 'rolebindings' : 'clusterrolebindings', { metadata: { name, ...(ns ? { namespace: ns } : {}) }, roleRef: { apiGroup: RBAC, ...roleRef }, subjects });
  const saSubject = [{ kind: 'ServiceAccount', name: 'operator', namespace: 'ops' }];

  it('a missing or unknown token is 401 Unauthorized; the administrator token passes every check', async () => {
    for (const token of [undefined, 'nope']) {
      const r = await call(token, 'GET', '/api/v1/namespaces/agents/configmaps/cfg');
      expect(r).toEqual({ code: 401, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 } });
    }
    expect((await call('double-token', 'GET', '/api/v1/namespaces/agents/configmaps/cfg')).code).toBe(200);
  });

  it('without a binding every request is 403 Forbidden with the real message and details', async () => {
    const get = await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps/cfg');
    expect(get).toEqual({
      code: 403,
      body: {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
        message: 'configmaps "cfg" is forbidden: User "system:serviceaccount:ops:operator" cannot get resource "configmaps" in API group "" in the namespace "agents"',
        details: { name: 'cfg', group: '', kind: 'configmaps' },
      },
    });
    const list = await call(SA, 'GET', '/apis/helm.mindburn.org/v1alpha1/policybundles');
    expect(list.body!.message).toBe('policybundles.helm.mindburn.org is forbidden: User "system:serviceaccount:ops:operator" cannot list resource "policybundles" in API group "helm.mindburn.org" at the cluster scope');
    // Discovery and /version stay open to authenticated users.
    expect((await call(SA, 'GET', '/version')).code).toBe(200);
    expect((await call(SA, 'GET', '/api/v1')).code).toBe(200);
  });

  it('a Role bound in one namespace grants only its verbs, only there', async () => {
    role('reader', 'agents', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]);
    bind('reader', 'agents', { kind: 'Role', name: 'reader' }, saSubject);
    expect((await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps/cfg')).code).toBe(200);
    expect((await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps')).code).toBe(200);
    expect((await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps?watch=1&timeoutSeconds=1')).code).toBe(403); // watch is its own verb
    expect((await call(SA, 'GET', '/api/v1/namespaces/kube-system/configmaps/cfg')).code).toBe(403);
    expect((await call(SA, 'GET', '/api/v1/configmaps')).code).toBe(403); // all namespaces needs a cluster binding
    expect((await call(SA, 'DELETE', '/api/v1/namespaces/agents/configmaps/cfg')).code).toBe(403);
    expect((await call(OTHER, 'GET', '/api/v1/namespaces/agents/configmaps/cfg')).code).toBe(403); // another user
  });

  it('a ClusterRole through a RoleBinding is namespaced; through a ClusterRoleBinding it is cluster-wide', async () => {
    role('cm-writer', undefined, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete'] }]);
    bind('writer', 'agents', { kind: 'ClusterRole', name: 'cm-writer' }, saSubject);
    const cm = (ns: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new', namespace: ns } });
    expect((await call(SA, 'POST', '/api/v1/namespaces/agents/configmaps', cm('agents'))).code).toBe(201);
    expect((await call(SA, 'POST', '/api/v1/namespaces/kube-system/configmaps', cm('kube-system'))).code).toBe(403);
    role('ns-reader', undefined, [{ apiGroups: [''], resources: ['namespaces', 'configmaps'], verbs: ['list'] }]);
    bind('ns-reader', undefined, { kind: 'ClusterRole', name: 'ns-reader' }, [{ kind: 'Group', name: 'system:serviceaccounts:ops' }]);
    expect((await call(SA, 'GET', '/api/v1/namespaces')).code).toBe(200);
    expect((await call(SA, 'GET', '/api/v1/configmaps')).code).toBe(200);
    expect((await call(SA, 'GET', '/api/v1/namespaces/agents')).code).toBe(403); // get is not list
  });

  it('resourceNames restrict get/update to those names and never cover create or list', async () => {
    role('one', 'agents', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'], verbs: ['get', 'update', 'create', 'list'] }]);
    bind('one', 'agents', { kind: 'Role', name: 'one' }, saSubject);
    const got = await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps/cfg');
    expect(got.code).toBe(200);
    expect((await call(SA, 'PUT', '/api/v1/namespaces/agents/configmaps/cfg', { ...got.body, data: { a: '2' } })).code).toBe(200);
    d.seed('', 'configmaps', { metadata: { name: 'other', namespace: 'agents' } });
    expect((await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps/other')).code).toBe(403);
    expect((await call(SA, 'POST', '/api/v1/namespaces/agents/configmaps', { metadata: { name: 'cfg2' } })).code).toBe(403);
    expect((await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps')).code).toBe(403);
  });

  it('subresources are separate resources ("policybundles/status"), and apiGroups must match', async () => {
    d.seed('', 'namespaces', { metadata: { name: 'helm-system' } });
    role('status', undefined, [
      { apiGroups: ['helm.mindburn.org'], resources: ['policybundles/status'], verbs: ['patch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    bind('status', undefined, { kind: 'ClusterRole', name: 'status' }, saSubject);
    const path = '/apis/helm.mindburn.org/v1alpha1/namespaces/agents/policybundles/pb';
    const status = await call(SA, 'PATCH', `${path}/status`, { status: { phase: 'Active' } }, 'application/merge-patch+json');
    expect(status.code).toBe(404); // authorized; the object does not exist
    const main = await call(SA, 'PATCH', path, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    expect(main.code).toBe(403);
    expect(main.body!.message).toContain('cannot patch resource "policybundles" in API group "helm.mindburn.org"');
    expect((await call(SA, 'GET', `${path}/status`)).body!.message).toContain('cannot get resource "policybundles/status"');
    const event = { metadata: { name: 'e1' }, eventTime: '2026-01-01T00:00:00.000000Z', reportingController: 'x', reportingInstance: 'y', action: 'a', reason: 'r', type: 'Normal' };
    expect((await call(SA, 'POST', '/apis/events.k8s.io/v1/namespaces/agents/events', event)).code).toBe(201);
    expect((await call(SA, 'POST', '/api/v1/namespaces/agents/events', { metadata: { name: 'e2' } })).code).toBe(403); // core group
  });

  it('a server-side apply that creates needs create as well as patch; one that updates needs patch only', async () => {
    role('apply', 'agents', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['patch'] }]);
    bind('apply', 'agents', { kind: 'Role', name: 'apply' }, saSubject);
    const apply = (name: string) => call(SA, 'PATCH', `/api/v1/namespaces/agents/configmaps/${name}?fieldManager=t`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { b: '2' } }), 'application/apply-patch+yaml');
    expect((await apply('cfg')).code).toBe(200);
    const created = await apply('fresh');
    expect(created.code).toBe(403);
    expect(created.body!.message).toContain('cannot create resource "configmaps"');
    d.seed(RBAC, 'roles', { metadata: { name: 'create', namespace: 'agents' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }] });
    bind('create', 'agents', { kind: 'Role', name: 'create' }, saSubject);
    expect((await apply('fresh')).code).toBe(201);
  }, 15_000);

  it('RBAC objects created through the API take effect at once', async () => {
    expect((await call(SA, 'GET', '/api/v1/nodes')).code).toBe(403);
    expect((await call('double-token', 'POST', `/apis/${RBAC}/v1/clusterroles`, { metadata: { name: 'nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] })).code).toBe(201);
    expect((await call('double-token', 'POST', `/apis/${RBAC}/v1/clusterrolebindings`, { metadata: { name: 'nodes' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'nodes' }, subjects: [{ kind: 'User', name: 'system:serviceaccount:ops:operator' }] })).code).toBe(201);
    expect((await call(SA, 'GET', '/api/v1/nodes')).code).toBe(200);
  });

  it('tokenreviews: create in authentication.k8s.io at the cluster scope is authorized before the handler runs', async () => {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: OTHER } };
    const denied = await call(SA, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', review);
    expect(denied.code).toBe(403);
    expect(denied.body!.message).toBe('tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:ops:operator" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope');
    role('tr', undefined, [{ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }]);
    bind('tr', undefined, { kind: 'ClusterRole', name: 'tr' }, saSubject);
    expect([401, 403]).not.toContain((await call(SA, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', review)).code);
  });

  it('the request log records who asked for what', async () => {
    await call(SA, 'GET', '/api/v1/namespaces/agents/configmaps/cfg');
    expect(d.requests.at(-1)).toMatchObject({ user: 'system:serviceaccount:ops:operator', code: 403, attributes: { verb: 'get', group: '', resource: 'configmaps', namespace: 'agents', name: 'cfg' } });
  });
});

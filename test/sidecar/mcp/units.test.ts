// The gateway's pure parts: published names, definition hashes, what a principal may see, and
// upstream configuration checks.
import { definitionHash } from '../../../sidecar/mcp/definition.js';
import { GatewayError } from '../../../sidecar/mcp/errors.js';
import { createMcpGateway } from '../../../sidecar/mcp/gateway.js';
import { namingFor, publishedName, splitName, UPSTREAM_NAME } from '../../../sidecar/mcp/names.js';
import { refusalMessage } from '../../../sidecar/mcp/refusal.js';
import { parseUpstreamConfig, parseUpstreamList } from '../../../sidecar/mcp/upstream-config.js';
import { visibility } from '../../../sidecar/mcp/visibility.js';
import { compiled } from '../../guardian/helpers.js';
import { bundleDoc } from './support.js';
import type { Pep } from '../../../kernel/pep/pep.js';

describe('names', () => {
  it('publishes <upstream>__<tool> and splits at the first separator', () => {
    expect(publishedName('fs', 'read_text_file')).toBe('fs__read_text_file');
    expect(splitName('fs__read__odd')).toEqual({ upstream: 'fs', tool: 'read__odd' });
    expect(splitName('my_srv__x')).toEqual({ upstream: 'my_srv', tool: 'x' });
    expect(splitName('__x')).toBeNull();
    expect(splitName('fs__')).toBeNull();
    expect(publishedName('fs', 'has space')).toBeNull();
    expect(publishedName('fs', 'x'.repeat(130))).toBeNull();
  });

  it('refuses upstream names that would make the split ambiguous', () => {
    for (const ok of ['fs', 'my_srv', 'a-b', 'A1']) expect(UPSTREAM_NAME.test(ok)).toBe(true);
    for (const bad of ['a__b', 'a_', '_a', 'a.b', '', 'x'.repeat(33)]) expect(UPSTREAM_NAME.test(bad)).toBe(false);
  });
});

describe('naming', () => {
  it('keeps own names with one upstream and prefixes with several', () => {
    const own = namingFor('own', ['everything']);
    expect(own.publish('everything', 'echo')).toBe('echo');
    expect(own.resolve('echo')).toEqual({ upstream: 'everything', name: 'echo' });
    expect(namingFor('prefixed', ['a', 'b']).resolve('a__echo')).toEqual({ upstream: 'a', name: 'echo' });
    expect(() => namingFor('own', ['a', 'b'])).toThrow(/exactly one upstream/);
  });

  it('refuses to start with own naming and several upstreams, naming the fix', async () => {
    const pep = {} as Pep;
    const upstreams = [
      { name: 'a', transport: 'http' as const, url: 'http://h' },
      { name: 'b', transport: 'http' as const, url: 'http://i' },
    ];
    await expect(createMcpGateway({ pep, principal: { id: 'a' }, upstreams, naming: 'own' })).rejects.toMatchObject({ code: 'ERR_MCP_CONFIG', message: expect.stringMatching(/naming "own".*exactly one upstream.*a, b.*Use naming "prefixed"/) });
  });
});

describe('refusal messages', () => {
  it('name their reason code, not only error.data', () => {
    const r = { kind: 'unavailable' as const, verdict: 'ALLOW' as const, reasonCode: 'ALLOWED', failure: 'not-offered' as const, message: 'x was allowed but no ready upstream offers it', receipts: { callId: 'c' } };
    expect(refusalMessage(r)).toBe('ALLOWED: x was allowed but no ready upstream offers it');
    expect(refusalMessage({ ...r, message: 'denied by policy: NO_POLICY_DEFINED', reasonCode: 'NO_POLICY_DEFINED' })).toBe('denied by policy: NO_POLICY_DEFINED');
  });
});

describe('definition hash', () => {
  it('covers description and schemas, not member order or other fields', () => {
    const a = definitionHash({ description: 'd', inputSchema: { type: 'object', properties: { x: { type: 'string' } } } });
    expect(definitionHash({ inputSchema: { properties: { x: { type: 'string' } }, type: 'object' }, description: 'd' })).toBe(a);
    expect(definitionHash({ description: 'd ', inputSchema: { type: 'object', properties: { x: { type: 'string' } } } })).not.toBe(a);
    expect(definitionHash({ description: 'd', inputSchema: { type: 'object', properties: { x: { type: 'string' } } }, outputSchema: { type: 'object' } })).not.toBe(a);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('visibility', () => {
  it('shows a tool only when some call of this principal could be allowed', async () => {
    const b = compiled(await bundleDoc());
    const agent = { id: 'a', roles: ['agent'], attributes: { workspace: '/w' } };
    expect(visibility(b, agent, 'everything__echo', 'everything')).toMatchObject({ visible: true, governance: { approval: 'none', pinned: expect.stringMatching(/^sha256:/), conditions: ['echo-no-secrets'] } });
    expect(visibility(b, agent, 'everything__get-annotated-message', 'everything')).toMatchObject({ visible: true, governance: { approval: 'required' } });
    expect(visibility(b, agent, 'everything__get-env', 'everything')).toMatchObject({ visible: false, reasonCode: 'CAPABILITY_VIOLATION' });
    expect(visibility(b, agent, 'everything__toggle-simulated-logging', 'everything')).toMatchObject({ visible: false, reasonCode: 'POLICY_VIOLATION' });
    expect(visibility(b, agent, 'everything__nope', 'everything')).toMatchObject({ visible: false, reasonCode: 'TOOL_NOT_DECLARED' });
    expect(visibility(b, { id: 'b', roles: ['visitor'] }, 'everything__echo', 'everything')).toMatchObject({ visible: false, reasonCode: 'DOMAIN_SCOPE_VIOLATION' });
  });
});

describe('upstream configuration', () => {
  it('reads stdio and http entries and refuses typos with their place', () => {
    expect(parseUpstreamConfig({ name: 'fs', transport: 'stdio', command: 'node', args: ['x'], env: { A: 'b' } }, 'u')).toEqual({ name: 'fs', transport: 'stdio', command: 'node', args: ['x'], env: { A: 'b' } });
    expect(parseUpstreamList({ upstreams: [{ name: 'r', transport: 'http', url: 'http://h/mcp', protocol: 'legacy' }] }, 'f')).toEqual([{ name: 'r', transport: 'http', url: 'http://h/mcp', protocol: 'legacy' }]);
    expect(() => parseUpstreamConfig({ name: 'fs', transport: 'stdio', comand: 'node' }, 'u[0]')).toThrow(/u\[0\]: unknown field "comand"/);
    expect(() => parseUpstreamConfig({ name: 'fs', transport: 'ws', url: 'x' }, 'u')).toThrow(/transport must be stdio or http/);
    expect(parseUpstreamConfig({ name: 'fs', transport: 'stdio', command: 'node', roots: true }, 'u')).toEqual({ name: 'fs', transport: 'stdio', command: 'node', roots: true });
    expect(() => parseUpstreamConfig({ name: 'r', transport: 'http', url: 'http://h/mcp', roots: 'yes' }, 'u')).toThrow(/u: roots must be true or false/);
    expect(() => parseUpstreamConfig({ name: 'fs', transport: 'stdio', command: 'n', args: [1] }, 'u')).toThrow(/u.args must be a list of strings/);
    expect(() => parseUpstreamList({}, 'f')).toThrow(GatewayError);
  });

  it('refuses duplicate and ambiguous upstream names before starting anything', async () => {
    const pep = {} as Pep;
    const principal = { id: 'a' };
    await expect(createMcpGateway({ pep, principal, upstreams: [{ name: 'a__b', transport: 'http', url: 'http://h' }] })).rejects.toMatchObject({ code: 'ERR_MCP_CONFIG' });
    await expect(createMcpGateway({ pep, principal, upstreams: [{ name: 'x', transport: 'http', url: 'http://h' }, { name: 'x', transport: 'http', url: 'http://i' }] })).rejects.toThrow(/duplicate upstream name x/);
    await expect(createMcpGateway({ pep, principal, upstreams: [{ name: 'x', transport: 'http', url: 'ftp://h' }] })).rejects.toThrow(/http or https/);
  });
});

describe('MCP upstream credentials from files (what the operator mounts)', () => {
  it('turns authFile into a bearer Authorization header and drops the field', async () => {
    const { resolveUpstreamAuth } = await import('../../../sidecar/governed/mcp-surface.js');
    const files: Record<string, string> = { '/etc/helm/mcp/crm': 'tok-123\n' };
    const read = async (p: string) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p]!;
    };
    const out = await resolveUpstreamAuth(
      [
        { name: 'crm', transport: 'http', url: 'http://crm/mcp', headers: { 'x-team': 'a' }, authFile: '/etc/helm/mcp/crm' },
        { name: 'fs', transport: 'stdio', command: 'node' },
      ],
      read,
    );
    expect(out).toEqual([
      { name: 'crm', transport: 'http', url: 'http://crm/mcp', headers: { 'x-team': 'a', authorization: 'Bearer tok-123' } },
      { name: 'fs', transport: 'stdio', command: 'node' },
    ]);
  });
  it('refuses to start with an unreadable or empty credential file instead of calling without it', async () => {
    const { resolveUpstreamAuth } = await import('../../../sidecar/governed/mcp-surface.js');
    const u = [{ name: 'crm', transport: 'http' as const, url: 'http://crm/mcp', authFile: '/missing' }];
    await expect(resolveUpstreamAuth(u, async () => Promise.reject(new Error('ENOENT')))).rejects.toThrow(/crm: cannot read authFile \/missing/);
    await expect(resolveUpstreamAuth(u, async () => '  \n')).rejects.toThrow(/authFile \/missing is empty/);
  });
});

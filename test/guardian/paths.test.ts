// Path scoping (docs/spec/policy-bundle.md §5.4): "under /workspace after normalisation", with
// hostile paths: traversal, look-alike prefixes, NUL and control characters, backslashes,
// percent-encoded traversal and Unicode look-alikes are refused with registered codes.
import { compileBundle, evaluate, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { normalisePath } from '../../kernel/guardian/paths.js';
import { call, compiled, exampleDoc, signedPolicy, suite } from './helpers.js';

function filesDoc(under: string[] | null = ['/workspace'], rules: PolicyBundleDoc['rules'] = [{ id: 'allow-write', match: { tools: ['files.write'] }, verdict: 'ALLOW' }]): PolicyBundleDoc {
  const d = exampleDoc();
  d.tools['files.write'] = {
    domain: 'billing',
    sideEffect: 'write',
    connectors: ['payments-api'],
    args: { type: 'object', properties: { path: { type: 'string' }, also: { type: 'array', items: { type: 'string' } } }, required: ['path'] },
    ...(under ? { paths: [{ arg: '/path', under }, { arg: '/also', under }] } : {}),
  } as PolicyBundleDoc['tools'][string];
  d.rules.push(...rules);
  return d;
}

const doc = filesDoc();
const bundle = compiled(doc);
const policy = signedPolicy(doc);
const write = (args: Record<string, unknown>) => evaluate(policy, call(bundle, 'files.write', args, { connector: 'payments-api' }));

describe('path scopes: under /workspace after normalisation', () => {
  it.each([
    ['/workspace/notes.txt'],
    ['/workspace'],
    ['/workspace/'],
    ['/workspace//a/./b.txt'],
    ['/workspace/a/../b.txt'],
    ['/workspace/..a/b'],
    ['/workspace/.../b'],
  ])('allows %j', (path) => {
    expect([write({ path }).verdict, write({ path }).reasonCode]).toEqual(['ALLOW', 'ALLOWED']);
  });

  it.each([
    ['/workspace/../etc/passwd'],
    ['/workspace/a/../../etc/passwd'],
    ['/workspace-evil/x'],
    ['/workspaces'],
    ['/workspace-evil'],
    ['/etc/passwd'],
    ['/'],
    ['//workspace-evil/../etc'],
  ])('denies %j as PATH_OUTSIDE_SCOPE', (path) => {
    const d = write({ path });
    expect([d.verdict, d.reasonCode]).toEqual(['DENY', 'PATH_OUTSIDE_SCOPE']);
  });

  it.each([
    ['relative', 'workspace/x'],
    ['empty', ''],
    ['climbing above /', '/../workspace/x'],
    ['NUL', '/workspace/a\u0000.txt'],
    ['newline', '/workspace/a\n.txt'],
    ['DEL', '/workspace/a\u007f'],
    ['C1 control', '/workspace/a\u0085'],
    ['backslash traversal', '/workspace\\..\\etc\\passwd'],
    ['backslash', '/workspace/a\\b'],
    ['percent-encoded traversal', '/workspace/%2e%2e/etc/passwd'],
    ['percent-encoded slash', '/workspace/..%2fetc'],
    ['percent-encoded NUL', '/workspace/a%00.txt'],
    ['division slash look-alike', '/workspace/..\u2215etc'],
    ['fullwidth solidus', '/workspace/..\uFF0Fetc'],
    ['fullwidth dots', '/workspace/\uFF0E\uFF0E/etc'],
    ['right-to-left override', '/workspace/\u202Etxt.exe'],
    ['zero-width space', '/workspace\u200b/x'],
    ['lone surrogate', '/workspace/\ud800'],
    ['too long', `/workspace/${'a'.repeat(5000)}`],
  ])('refuses a %s path as PATH_UNSAFE', (_why, path) => {
    const d = write({ path });
    expect([d.verdict, d.reasonCode]).toEqual(['DENY', expect.stringMatching(/^(PATH_UNSAFE|ENVELOPE_INVALID)$/)]);
    if (_why !== 'lone surrogate') expect(d.reasonCode).toBe('PATH_UNSAFE');
  });

  it('checks every element of an array argument', () => {
    expect(write({ path: '/workspace/a', also: ['/workspace/b', '/workspace/c'] }).verdict).toBe('ALLOW');
    expect(write({ path: '/workspace/a', also: ['/workspace/b', '/workspace/../root'] }).reasonCode).toBe('PATH_OUTSIDE_SCOPE');
  });

  it('normalises lexically', () => {
    expect(normalisePath('/a//b/./c/../d/')).toEqual({ ok: true, path: '/a/b/d', segments: ['a', 'b', 'd'] });
    expect(normalisePath('/')).toEqual({ ok: true, path: '/', segments: [] });
  });
});

describe('path scope lint', () => {
  it.each([
    ['/workspace/', 'ERR_PATH'],
    ['/a/../workspace', 'ERR_PATH'],
    ['/work\\space', 'ERR_PATH'],
    ['workspace', 'ERR_BUNDLE_SCHEMA'],
  ])('refuses the directory %j', (under, code) => {
    const c = compileBundle(filesDoc([under]), suite);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.errors.map((e) => e.code)).toContain(code);
  });
});

describe('CEL pathUnder and normalizePath', () => {
  const perUser = filesDoc(null, [{ id: 'own-dir', match: { tools: ['files.write'] }, when: "pathUnder(args.path, '/home/' + principal.id.split(':')[1]) && normalizePath(args.path) != '/home/sup-1/.ssh'", verdict: 'ALLOW' }]);
  const p = signedPolicy(perUser);
  const b = compiled(perUser);
  const decide = (path: string) => evaluate(p, call(b, 'files.write', { path }, { connector: 'payments-api' }));

  it('scopes by principal and sees through dot segments', () => {
    expect(decide('/home/sup-1/a.txt').reasonCode).toBe('ALLOWED');
    expect(decide('/home/sup-1/x/../.ssh').reasonCode).toBe('MISSING_REQUIREMENT');
    expect(decide('/home/sup-10/a.txt').reasonCode).toBe('MISSING_REQUIREMENT');
    expect(decide('/home/sup-1/../sup-2/a').reasonCode).toBe('MISSING_REQUIREMENT');
  });

  it('an unsafe path is an evaluation error, never false (fail closed)', () => {
    const d = decide('/home/sup-1/%2e%2e/x');
    expect([d.verdict, d.reasonCode]).toEqual(['DENY', 'PRG_EVALUATION_ERROR']);
    expect(d.detail).toMatch(/percent-encoding/);
    const perUserNoScope = filesDoc(null, [{ id: 'not-own', match: { tools: ['files.write'] }, when: "!pathUnder(args.path, '/etc')", verdict: 'ALLOW' }]);
    const e = (path: string) => evaluate(signedPolicy(perUserNoScope), call(compiled(perUserNoScope), 'files.write', { path }, { connector: 'payments-api' })).reasonCode;
    expect(e('/etc')).toBe('MISSING_REQUIREMENT');
    // Negating the function cannot turn a hostile path into an ALLOW.
    expect(e('/etc\\passwd')).toBe('PRG_EVALUATION_ERROR');
    expect(e('/tmp/x')).toBe('ALLOWED');
  });
});

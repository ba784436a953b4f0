// Bundle format, trust and lint: parsing, canonical hashing, signatures, the committed example,
// lint errors, argument-schema hardening, composition refusals, fixtures and output drift.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { hardenSchema } from '../../kernel/guardian/arg-schema.js';
import {
  bundleContentHash,
  bundleSignatureMessage,
  bundleSignatureSchema,
  checkOutput,
  compileBundle,
  composeBundles,
  lintBundle,
  parseBundleText,
  policyBundleSchema,
  runFixtures,
  signBundle,
  verifyBundle,
  type PolicyBundleDoc,
  type PolicyOverlayDoc,
} from '../../kernel/guardian/index.js';
import { bundleSigner, compiled, EXAMPLE_YAML, exampleArtifacts, exampleDoc, otherSigner, readIfExists, suite, trust } from './helpers.js';

describe('bundle text and canonical hash', () => {
  it('YAML and its JSON rendering parse to the same document and hash', () => {
    const fromYaml = exampleDoc();
    const fromJson = parseBundleText(JSON.stringify(fromYaml, null, 1));
    expect(fromJson).toEqual(fromYaml);
    expect(bundleContentHash(fromJson, suite)).toBe(bundleContentHash(fromYaml, suite));
    expect(bundleContentHash(fromYaml, portableSuite)).toBe(bundleContentHash(fromYaml, suite));
  });

  it('key order and whitespace do not change the hash; a value does', () => {
    const a = parseBundleText('{"b": 1, "a": {"y": [1, 2], "x": "s"}}');
    const b = parseBundleText('a:\n  x: s\n  y: [1, 2]\nb: 1\n');
    expect(bundleContentHash(a, suite)).toBe(bundleContentHash(b, suite));
    expect(bundleContentHash(parseBundleText('{"b": 2, "a": {"y": [1, 2], "x": "s"}}'), suite)).not.toBe(bundleContentHash(a, suite));
  });

  it.each([
    ['duplicate keys in YAML', 'a: 1\na: 2\n', 'ERR_BUNDLE_PARSE'],
    ['duplicate keys in JSON', '{"a": 1, "a": 2}', 'ERR_BUNDLE_PARSE'],
    ['a decimal beyond 15 significant digits', 'a: 0.30000000000000004\n', 'ERR_BUNDLE_PROFILE'],
    ['a decimal beyond 15 digits after the point', 'a: 0.0000000000000001\n', 'ERR_BUNDLE_PROFILE'],
    ['an infinity', 'a: .inf\n', 'ERR_BUNDLE_PROFILE'],
    ['an integer beyond 2^53', 'a: 9007199254740993\n', 'ERR_BUNDLE_PROFILE'],
    ['an unknown tag', 'a: !secret x\n', 'ERR_BUNDLE_PARSE'],
    ['malformed YAML', 'a: [1, 2\n', 'ERR_BUNDLE_PARSE'],
  ])('refuses %s', (_why, text, code) => {
    expect(() => parseBundleText(text)).toThrow(expect.objectContaining({ code }));
  });

  it('the published schema compiles in strict mode and accepts the example', () => {
    const ajv = new Ajv2020({ strict: true });
    expect(ajv.validate(policyBundleSchema, exampleDoc())).toBe(true);
    expect(ajv.validate(bundleSignatureSchema, signBundle(exampleDoc(), bundleSigner, suite))).toBe(true);
  });
});

describe('bundle signatures', () => {
  const doc = exampleDoc();
  const sig = signBundle(doc, bundleSigner, suite);

  it('signs the domain-separated statement of the content hash', () => {
    expect(new TextDecoder().decode(bundleSignatureMessage(sig.contentHash))).toBe(`helm-policy-bundle/v1\n${sig.contentHash}\n`);
    expect(sig.signerKeyId).toBe(bundleSigner.verifier.handle);
    expect(suite.verifyEd25519(bundleSigner.publicKey, bundleSignatureMessage(sig.contentHash), Buffer.from(sig.signature, 'base64'))).toBe(true);
    // The raw hash string alone (no domain) is not what is signed.
    expect(suite.verifyEd25519(bundleSigner.publicKey, new TextEncoder().encode(sig.contentHash), Buffer.from(sig.signature, 'base64'))).toBe(false);
  });

  it('verifies under both crypto suites', () => {
    for (const s of [suite, portableSuite]) expect(verifyBundle(doc, sig, trust, s)).toMatchObject({ ok: true, contentHash: sig.contentHash });
  });

  it.each([
    ['no bundle', null, sig, trust, 'BUNDLE_MISSING'],
    ['no signature', doc, undefined, trust, 'BUNDLE_UNSIGNED'],
    ['signature not base64', doc, { ...sig, signature: '!!' }, trust, 'SIGNATURE_INVALID'],
    ['signature of the wrong length', doc, { ...sig, signature: 'AAAA' }, trust, 'SIGNATURE_INVALID'],
    ['signerKeyId not a handle', doc, { ...sig, signerKeyId: 'nobody' }, trust, 'SIGNATURE_INVALID'],
    ['contentHash of another bundle', doc, { ...sig, contentHash: `sha256:${'1'.repeat(64)}` }, trust, 'HASH_MISMATCH'],
    ['revoked signer (even though it is a root)', doc, sig, { roots: [bundleSigner.verifier], revoked: [bundleSigner.verifier.handle] }, 'SIGNER_REVOKED'],
    ['untrusted signer', doc, signBundle(doc, otherSigner, suite), trust, 'SIGNER_UNTRUSTED'],
    ['signature by another key under a trusted handle', doc, { ...signBundle(doc, otherSigner, suite), signerKeyId: bundleSigner.verifier.handle }, trust, 'SIGNATURE_INVALID'],
  ])('%s -> %s', (_why, b, s, t, code) => {
    expect(verifyBundle(b, s, t, suite)).toMatchObject({ ok: false, code });
  });

  it('the committed example signature and trust root regenerate byte for byte', () => {
    for (const [path, text] of exampleArtifacts()) expect(readIfExists(path)).toBe(text);
    const sig2 = JSON.parse(readFileSync(EXAMPLE_YAML.replace('.yaml', '.signature.json'), 'utf8'));
    expect(verifyBundle(exampleDoc(), sig2, trust, suite)).toMatchObject({ ok: true });
  });
});

function mutate(f: (d: PolicyBundleDoc) => void): PolicyBundleDoc {
  const d = exampleDoc();
  f(d);
  return d;
}

describe('lint', () => {
  it('the example lints clean', () => {
    expect(lintBundle(exampleDoc(), suite)).toEqual({ errors: [], warnings: [] });
  });

  it.each<[string, (d: PolicyBundleDoc) => void, string, RegExp]>([
    ['CEL syntax error', (d) => (d.rules[0]!.when = 'args.x +'), 'ERR_CEL', /syntax/],
    ['CEL unknown variable', (d) => (d.rules[0]!.when = "user.name == 'x'"), 'ERR_CEL', /unknown variable user/],
    ['CEL unknown function', (d) => (d.rules[0]!.when = 'isAdmin(principal)'), 'ERR_CEL', /unknown function isAdmin/],
    ['CEL constant non-bool', (d) => (d.rules[0]!.when = '42'), 'ERR_CEL', /not a bool/],
    ['CEL arithmetic non-bool', (d) => (d.rules[0]!.when = 'args.amountCents + 1'), 'ERR_CEL', /not a bool/],
    ['CEL message construction', (d) => (d.rules[0]!.when = 'google.protobuf.Timestamp{seconds: 1} == request.time'), 'ERR_CEL', /message construction/],
    ['unregistered reason code', (d) => (d.rules[0]!.reason = 'MADE_UP_CODE'), 'ERR_REASON_CODE', /not registered/],
    ['reason code of another verdict', (d) => (d.rules[0]!.reason = 'POLICY_VIOLATION'), 'ERR_REASON_CODE', /belongs to DENY/],
    ['ESCALATE without approval', (d) => delete d.rules.find((r) => r.verdict === 'ESCALATE')!.approval, 'ERR_APPROVAL', /must name an approval/],
    ['approval on an ALLOW rule', (d) => (d.rules[0]!.approval = 'manager'), 'ERR_APPROVAL', /only ESCALATE/],
    ['quorum above the approvers', (d) => (d.approvals!.manager!.quorum = 3), 'ERR_APPROVAL', /quorum 3 exceeds/],
    ['approver key that does not parse', (d) => (d.approvals!.manager!.approvers[0] = 'bad+00000000+Abx8vLVjY3X6HYJDTUZnJNkjd/U7mAaV3UnSbQzhIgWl'), 'ERR_APPROVAL', /does not match/],
    ['duplicate rule ids', (d) => d.rules.push({ ...d.rules[0]! }), 'ERR_DUPLICATE', /duplicate rule id/],
    ['rule naming an undeclared tool', (d) => (d.rules[0]!.match = { tools: ['crm.nope'] }), 'ERR_REFERENCE', /unknown tool crm.nope/],
    ['tool in an undeclared domain', (d) => (d.tools['crm.lookup_customer']!.domain = 'hr'), 'ERR_REFERENCE', /unknown domain hr/],
    ['tool on an undeclared connector', (d) => (d.tools['crm.lookup_customer']!.connectors = ['nope']), 'ERR_REFERENCE', /unknown connector nope/],
    ['grant with an undeclared profile', (d) => (d.grants[0]!.profile = 'god-mode'), 'ERR_REFERENCE', /unknown capability profile/],
    ['built-in profile widened', (d) => (d.profiles!['read-only'] = { sideEffects: ['read', 'write'] }), 'ERR_PROFILE', /may only be narrowed/],
    ['sandbox: true without a class profile', (d) => (d.tools['tickets.update']!.sandbox = true), 'ERR_REFERENCE', /no sandbox profile is mapped/],
    ['destination list unknown', (d) => (d.tools['kb.fetch_article']!.destinations![0]!.allow = ['nowhere']), 'ERR_REFERENCE', /unknown destination list/],
    ['destination pattern malformed', (d) => (d.destinations!.docs = ['docs.example.com/v1/']), 'ERR_DESTINATION', /is not host/],
    ['budget without a limit', (d) => d.budgets!.push({ id: 'b', scope: 'tool', windowSeconds: 60 }), 'ERR_REFERENCE', /needs maxCalls or maxCost/],
    ['args schema with allOf', (d) => (d.tools['crm.lookup_customer']!.args = { type: 'object', allOf: [{ type: 'object', properties: { a: { type: 'string' } } }] }), 'ERR_TOOL_SCHEMA', /allOf/],
    ['args schema with additionalProperties: true', (d) => (d.tools['crm.lookup_customer']!.args = { type: 'object', additionalProperties: true }), 'ERR_TOOL_SCHEMA', /accepts unknown fields/],
    ['args schema with a typeless property', (d) => (d.tools['crm.lookup_customer']!.args = { type: 'object', properties: { blob: {} } }), 'ERR_TOOL_SCHEMA', /no type/],
    ['args schema with an untyped array', (d) => (d.tools['crm.lookup_customer']!.args = { type: 'object', properties: { xs: { type: 'array' } } }), 'ERR_TOOL_SCHEMA', /needs `items`/],
    ['args schema not an object at the root', (d) => (d.tools['crm.lookup_customer']!.args = { type: 'string' }), 'ERR_TOOL_SCHEMA', /root/],
    ['args schema unknown keyword (ajv strict)', (d) => (d.tools['crm.lookup_customer']!.args = { type: 'object', properties: { a: { type: 'string', minLenght: 1 } } }), 'ERR_TOOL_SCHEMA', /does not compile/],
    ['unknown top-level section', (d) => ((d as unknown as Record<string, unknown>).extensions = {}), 'ERR_BUNDLE_SCHEMA', /additional properties \(extensions\)/],
    ['fixture expecting an unregistered code', (d) => (d.fixtures![0]!.expect.reasonCode = 'NOPE'), 'ERR_REASON_CODE', /not registered/],
  ])('%s', (_why, f, code, message) => {
    const r = compileBundle(mutate(f), suite);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(expect.arrayContaining([expect.objectContaining({ code, message: expect.stringMatching(message) })]));
  });

  it('warns about a tool no rule allows', () => {
    const r = lintBundle(mutate((d) => (d.rules = d.rules.filter((x) => x.id !== 'allow-crm-read'))), suite);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'WARN_UNREACHABLE', message: expect.stringMatching(/crm.lookup_customer/) })]);
  });
});

describe('argument schema hardening', () => {
  it('forces additionalProperties: false on every object schema, nested and in array items', () => {
    const { schema, issues } = hardenSchema({
      type: 'object',
      properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, list: { type: 'array', items: { type: 'object', properties: {} } } },
      $defs: { d: { type: 'object', properties: {} } },
    });
    expect(issues).toEqual([]);
    expect(schema).toMatchObject({
      additionalProperties: false,
      properties: { a: { additionalProperties: false }, list: { items: { additionalProperties: false } } },
      $defs: { d: { additionalProperties: false } },
    });
  });

  it('keeps an explicit value schema for open maps and leaves `not` alone', () => {
    const { schema, issues } = hardenSchema({ type: 'object', properties: { labels: { type: 'object', additionalProperties: { type: 'string' } }, v: { type: 'string', not: { const: 'x' } } } });
    expect(issues).toEqual([]);
    expect(schema).toMatchObject({ properties: { labels: { additionalProperties: { type: 'string' } }, v: { not: { const: 'x' } } } });
  });

  it('hardens each anyOf branch but not the wrapper', () => {
    const { schema, issues } = hardenSchema({ anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'null' }] });
    expect(issues).toEqual([]);
    expect(schema).toEqual({ anyOf: [{ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, { type: 'null' }] });
  });
});

describe('composition', () => {
  const base = exampleDoc();
  const ov = (o: Partial<PolicyOverlayDoc>): PolicyOverlayDoc => ({ apiVersion: 'helm-policy-bundle/v1', kind: 'PolicyOverlay', metadata: { name: 'o' }, ...o });

  it('the composed bundle has its own hash and records what it was composed from', () => {
    const o = ov({ rules: [{ id: 'no-refunds', match: { tools: ['billing.refund'] }, verdict: 'DENY' }] });
    const r = composeBundles(base, [o], suite);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.contentHash).not.toBe(bundleContentHash(base, suite));
    expect(r.contentHash).toBe(bundleContentHash(r.bundle, suite));
    expect(r.bundle.metadata.composedFrom).toEqual([bundleContentHash(base, suite), bundleContentHash(o, suite)]);
    expect(r.bundle.rules.at(-1)).toMatchObject({ id: 'no-refunds', layer: 1 });
    // Composition is deterministic.
    expect(composeBundles(base, [o], suite)).toEqual(r);
  });

  it.each<[string, Partial<PolicyOverlayDoc>, RegExp]>([
    ['allow a tool the base does not declare', { rules: [{ id: 'allow-shell', match: { tools: ['shell.exec'] }, verdict: 'ALLOW' }] }, /does not declare \(shell.exec\)/],
    ['loosen a budget', { budgets: [{ id: 'support-calls-hourly', scope: 'principal', windowSeconds: 3600, maxCalls: 5000 }] }, /would loosen/],
    ['drop a budget limit', { budgets: [{ id: 'support-cost-daily', scope: 'principal', windowSeconds: 86400, maxCalls: 10, match: { domains: ['tickets', 'billing'] } }] }, /would loosen/],
    ['re-scope a budget away from tools', { budgets: [{ id: 'support-cost-daily', scope: 'principal', windowSeconds: 86400, maxCost: 10, match: { domains: ['kb'] } }] }, /would loosen/],
    ['refill a rate limit faster', { rateLimits: [{ id: 'mail-burst', scope: 'principal-tool', match: { tools: ['mail.send'] }, capacity: 5, refillTokens: 2, refillIntervalMs: 60000 }] }, /would loosen/],
    ['add a connector', { connectors: { 'crm-api': {}, 'shadow-crm': {} } }, /not allowlisted by the base/],
    ['add a grant', { grants: [{ id: 'everyone', principals: { roles: ['visitor'] }, domains: ['crm'], profile: 'read-only' }] }, /cannot add grants/],
    ['give a grant more domains', { grants: [{ id: 'readonly-auditors', principals: { roles: ['auditor'] }, domains: ['crm', 'ops'], profile: 'read-only' }] }, /would add domains/],
    ['give a grant a wider profile', { grants: [{ id: 'readonly-auditors', principals: { roles: ['auditor'] }, domains: ['crm'], profile: 'write-limited' }] }, /not narrower/],
    ['widen a profile', { profiles: { 'support-external': { sideEffects: ['read', 'write', 'external', 'destructive'] } } }, /would widen/],
    ['widen a destination list', { destinations: { docs: ['docs.example.com', 'evil.example.net'] } }, /would admit hosts/],
    ['change a sandbox class mapping', { sandbox: { classes: { destructive: 'egress-only' } } }, /may add a mapping, not change one/],
    ['reuse a base rule id', { rules: [{ id: 'allow-crm-read', verdict: 'DENY' }] }, /already exists/],
  ])('refuses an overlay that tries to %s', (_why, o, message) => {
    const r = composeBundles(base, [ov(o)], suite);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(expect.arrayContaining([expect.objectContaining({ overlay: 0, message: expect.stringMatching(message) })]));
  });

  it('accepts narrowing: a smaller destination list, a narrower profile, lower limits', () => {
    const r = composeBundles(
      base,
      [
        ov({
          destinations: { docs: ['docs.example.com', 'eu.partner-docs.example'] },
          profiles: { 'support-external': { sideEffects: ['read', 'write'] } },
          budgets: [{ id: 'support-calls-hourly', scope: 'principal', windowSeconds: 3600, maxCalls: 50 }],
          rateLimits: [{ id: 'mail-burst', scope: 'principal-tool', match: { tools: ['mail.send'] }, capacity: 2, refillTokens: 1, refillIntervalMs: 120000 }],
        }),
      ],
      suite,
    );
    expect(r).toMatchObject({ ok: true });
  });

  it('refuses an overlay as a base and a bundle as an overlay', () => {
    expect(composeBundles(ov({}), [], suite)).toMatchObject({ ok: false });
    expect(composeBundles(base, [base], suite)).toMatchObject({ ok: false, errors: [expect.objectContaining({ overlay: 0 })] });
  });
});

describe('fixtures and output drift', () => {
  it('runFixtures passes the example fixtures', () => {
    const results = runFixtures(compiled());
    expect(results.map((r) => [r.name, r.pass])).toEqual([
      ['support agent looks up a customer', true],
      ['auditor cannot update tickets', true],
      ['unknown argument is denied', true],
    ]);
  });

  it('runFixtures reports a fixture whose expectation is wrong', () => {
    const d = exampleDoc();
    d.fixtures![1]!.expect = { verdict: 'ALLOW' };
    const [, r] = runFixtures(compiled(d));
    expect(r).toMatchObject({ pass: false, actual: { verdict: 'DENY', reasonCode: 'CAPABILITY_VIOLATION' } });
  });

  it('a result off its pinned output schema is ERR_CONNECTOR_CONTRACT_DRIFT', () => {
    const b = compiled();
    expect(checkOutput(b, 'crm.lookup_customer', { id: 'c', name: 'Ann', tier: 'pro' })).toEqual({ ok: true });
    expect(checkOutput(b, 'crm.lookup_customer', { id: 'c', name: 'Ann', tier: 'pro', ssn: '1' })).toMatchObject({ ok: false, reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
    expect(checkOutput(b, 'crm.lookup_customer', { id: 'c', name: 'Ann' })).toMatchObject({ ok: false, reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
    expect(checkOutput(b, 'nope', {})).toMatchObject({ ok: false, reasonCode: 'TOOL_NOT_DECLARED' });
  });
});

describe('destination pointers', () => {
  it('fan out over arrays and objects, and find nothing where nothing is', async () => {
    const { valuesAt, checkDestinations } = await import('../../kernel/guardian/destinations.js');
    const args = { to: [{ host: 'a' }, { host: 'b' }], byName: { x: { host: 'c' } }, 'we/ird~key': 'd' };
    expect(valuesAt(args, '/to/*/host')).toEqual(['a', 'b']);
    expect(valuesAt(args, '/byName/*/host')).toEqual(['c']);
    expect(valuesAt(args, '/to/1/host')).toEqual(['b']);
    expect(valuesAt(args, '/we~1ird~0key')).toEqual(['d']);
    expect(valuesAt(args, '/missing/*/host')).toEqual([]);
    const lists = { ok: ['good.example'] };
    expect(checkDestinations({ m: { a: 'evil.example' } }, { arg: '/m/*', kind: 'host', allow: ['ok'] }, lists)).toMatchObject({ ok: false });
    expect(checkDestinations({ m: { a: 'good.example' } }, { arg: '/m/*', kind: 'host', allow: ['ok'] }, lists)).toEqual({ ok: true });
    expect(checkDestinations({ u: { href: 'https://good.example' } }, { arg: '/u', kind: 'url', allow: ['ok'] }, lists)).toMatchObject({ ok: false, message: expect.stringMatching(/not a string/) });
  });
});

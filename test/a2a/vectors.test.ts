// The published A2A vectors and schemas (docs/spec/vectors/a2a, docs/spec/schemas/a2a-*) are
// what the kernel accepts: each vector verifies and validates against its schema.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { authenticateRequest, MemoryNonceStore, readSignedRequest, verifyCard, verifyDelegation } from '../../kernel/a2a/index.js';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import { nodeSuite as suite } from '../../kernel/crypto/node.js';
import { repoRoot } from '../support/shared.js';

const read = (p: string) => JSON.parse(readFileSync(join(repoRoot, 'docs', 'spec', p), 'utf8')) as Record<string, any>; // vectors are read as written; the tests check their shape
const keys = read('vectors/a2a/keys.json');
const k = (n: 'a' | 'b' | 'c') => parseVerifierKey(keys[n].vkey as string);

describe('A2A vectors', () => {
  const ajv = new Ajv2020({ strict: true });
  ajv.addSchema(read('schemas/a2a-delegation-token.v1.json'));
  const validateToken = ajv.getSchema('https://helm.mindburn.org/schemas/a2a-delegation-token.v1.json')!;
  const validateAuth = ajv.compile(read('schemas/a2a-request-auth.v1.json'));

  test('the card verifies under agent b’s key and its payload is the JCS of the card without signatures', () => {
    const v = read('vectors/a2a/card.json');
    expect(verifyCard(v.card, { keys: [k('b')], revoked: new Set() }, suite)).toEqual({ ok: true, kid: keys.b.handle });
  });

  test('the delegation chain verifies for agent c and validates against its schema', () => {
    const v = read('vectors/a2a/delegation.json');
    expect(validateToken(v.token)).toBe(true);
    const trusted = new Map([k('a'), k('b')].map((x) => [x.handle, x]));
    const r = verifyDelegation(v.token, { key: (h) => trusted.get(h) ?? null, revoked: new Set(), nowMs: Date.parse(v.now), expectIss: v.caller, expectAud: v.verifier, suite });
    expect(r).toMatchObject({ ok: true, scope: v.effectiveScope, rootSub: 'agent:a' });
  });

  test('the request headers authenticate agent b at agent c, once', () => {
    const v = read('vectors/a2a/request.json');
    expect(validateAuth(v.auth)).toBe(true);
    const r = readSignedRequest(v.method, v.path, v.bodyDigest, v.headers['helm-a2a-auth'], v.headers['helm-a2a-signature']);
    if (!r.ok) throw new Error(r.message);
    expect(r.request.auth).toEqual(v.auth);
    const trust = { caller: (h: string) => (h === keys.b.handle ? { id: 'agent-b', key: k('b') } : null), revoked: new Set<string>(), self: keys.c.handle, nowMs: Date.parse(v.auth.ts), maxSkewMs: 300_000, suite };
    const nonces = new MemoryNonceStore();
    expect(authenticateRequest(r.request, trust, nonces)).toEqual({ ok: true, caller: 'agent-b' });
    expect(authenticateRequest(r.request, trust, nonces)).toMatchObject({ ok: false, code: 'A2A_REQUEST_REPLAYED' });
  });
});

// kernel/a2a with hostile inputs: card signatures (also against the official @a2a-js/sdk signer
// and verifier), signed requests with replay, and delegation chains that try to widen.
import { describe, expect, test } from '@jest/globals';
import { generateAgentCardSignature, verifyAgentCardSignature } from '@a2a-js/sdk';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSuite as suite } from '../../kernel/crypto/node.js';
import { spkiDer } from '../../kernel/crypto/node.js';
import { authenticateRequest, bodyDigest, fromB64u, MemoryNonceStore, mintDelegation, readSignedRequest, signCard, signRequest, toB64u, verifyCard, verifyDelegation, type DecisionRef, type DelegationToken, type RequestAuth } from '../../kernel/a2a/index.js';
import { utf8 } from '../../kernel/crypto/bytes.js';
import { testKey } from '../evidence/fixtures.js';

const cardKey = testKey('agent-b-card');
const other = testKey('mallory-card');
const a = testKey('agent-a');
const b = testKey('agent-b');
const c = testKey('agent-c');
const T = Date.parse('2026-12-03T12:00:00.000Z');
const ref: DecisionRef = { origin: 'helm.test/a', index: 7, hash: `sha256:${'ab'.repeat(32)}`, lamport: 8 };
const grant = { id: 'g-out', policyDigest: `sha256:${'cd'.repeat(32)}` };

const card = () => ({ name: 'Agent B', description: 'summarises', version: '1.0.0', supportedInterfaces: [{ url: 'http://b.example/a2a', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }], skills: [{ id: 'summarize', name: 'Summarize', description: 'd', tags: ['t'] }], defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'], capabilities: { streaming: true } });
const trust = { keys: [cardKey.verifier], revoked: new Set<string>() };

describe('agent card signatures', () => {
  test('a card signed by a trusted key verifies; any change to it does not', () => {
    const signed = signCard(card(), cardKey);
    expect(verifyCard(signed, trust, suite)).toEqual({ ok: true, kid: cardKey.verifier.handle });
    expect(verifyCard({ ...signed, description: 'something else' }, trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
  });

  test('unsigned, unknown key, revoked key, wrong alg and garbage are refused with their codes', () => {
    expect(verifyCard(card(), trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
    expect(verifyCard(signCard(card(), other), trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
    expect(verifyCard(signCard(card(), cardKey), { ...trust, revoked: new Set([cardKey.verifier.handle]) }, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_KEY_REVOKED' });
    const s = signCard(card(), cardKey);
    const sig = (s.signatures as Array<{ protected: string; signature: string }>)[0]!;
    const none = toB64u(utf8(JSON.stringify({ alg: 'none', kid: cardKey.verifier.handle })));
    expect(verifyCard({ ...s, signatures: [{ protected: none, signature: '' }] }, trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
    expect(verifyCard({ ...s, signatures: [{ ...sig, signature: `${sig.signature}=` }] }, trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
    expect(verifyCard({ ...s, signatures: 'x' }, trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
    expect(verifyCard(null, trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
    expect(verifyCard({ ...s, signatures: Array(9).fill(sig) }, trust, suite)).toMatchObject({ ok: false, code: 'A2A_CARD_UNTRUSTED' });
  });

  test('interoperates with the @a2a-js/sdk signer and verifier (EdDSA JWS over the JCS card)', async () => {
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedOf('agent-b-card'))]);
    const priv = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const sdkSigned = await generateAgentCardSignature(priv, { alg: 'EdDSA', kid: cardKey.verifier.handle, typ: 'JOSE' })(card() as never);
    expect(verifyCard(sdkSigned as unknown as Record<string, unknown>, trust, suite)).toMatchObject({ ok: true });
    const pub = createPublicKey({ key: spkiDer(cardKey.publicKey), format: 'der', type: 'spki' });
    await expect(verifyAgentCardSignature(async () => pub)(signCard(card(), cardKey) as never)).resolves.toBeUndefined();
  });
});

function seedOf(name: string): Uint8Array {
  // testKey derives the seed this way (test/evidence/fixtures.ts).
  return new Uint8Array(createHash('sha256').update(`helm-oss evidence test key: ${name}`).digest());
}

describe('signed requests', () => {
  const body = utf8('{"jsonrpc":"2.0"}');
  const digest = bodyDigest(suite, body);
  const auth = (o: Partial<RequestAuth> = {}): RequestAuth => ({ keyid: a.verifier.handle, aud: b.verifier.handle, ts: new Date(T).toISOString(), nonce: 'bm9uY2Utbm9uY2UtMDAx', parent: ref, delegation: null, ...o });
  const callerTrust = (nowMs = T) => ({ caller: (h: string) => (h === a.verifier.handle ? { id: 'agent-a', key: a.verifier } : null), revoked: new Set<string>(), self: b.verifier.handle, nowMs, maxSkewMs: 300_000, suite });
  const read = (headers: Record<string, string>, path = '/a2a', d = digest) => {
    const r = readSignedRequest('POST', path, d, headers['helm-a2a-auth'], headers['helm-a2a-signature']);
    if (!r.ok) throw new Error(r.message);
    return r.request;
  };

  test('a signed request is accepted once; the replay is refused', () => {
    const nonces = new MemoryNonceStore();
    const r = read(signRequest(a, 'POST', '/a2a', digest, auth()));
    expect(authenticateRequest(r, callerTrust(), nonces)).toEqual({ ok: true, caller: 'agent-a' });
    expect(authenticateRequest(r, callerTrust(T + 1000), nonces)).toMatchObject({ ok: false, code: 'A2A_REQUEST_REPLAYED' });
  });

  test('a full nonce store refuses new nonces instead of forgetting live ones (a forgotten nonce could be replayed)', () => {
    const nonces = new MemoryNonceStore(2);
    expect(nonces.seen('a', 'n1', 10_000, 0)).toBe(false);
    expect(nonces.seen('a', 'n2', 5_000, 0)).toBe(false);
    expect(nonces.seen('a', 'n3', 10_000, 0)).toBe(true); // refused: n1 and n2 are both live
    expect(nonces.seen('a', 'n1', 10_000, 1)).toBe(true); // n1 is still remembered
    expect(nonces.seen('a', 'n3', 10_000, 6_000)).toBe(false); // n2 expired: room for n3
    expect(nonces.seen('a', 'n1', 10_000, 6_000)).toBe(true);
  });

  test('another body, path, audience, an old timestamp or an unknown key are each refused', () => {
    const nonces = new MemoryNonceStore();
    const h = signRequest(a, 'POST', '/a2a', digest, auth());
    expect(authenticateRequest(read(h, '/a2a', bodyDigest(suite, utf8('{}'))), callerTrust(), nonces)).toMatchObject({ code: 'A2A_REQUEST_SIGNATURE_INVALID' });
    expect(authenticateRequest(read(h, '/other'), callerTrust(), nonces)).toMatchObject({ code: 'A2A_REQUEST_SIGNATURE_INVALID' });
    expect(authenticateRequest(read(signRequest(a, 'POST', '/a2a', digest, auth({ aud: c.verifier.handle }))), callerTrust(), nonces)).toMatchObject({ code: 'A2A_REQUEST_SIGNATURE_INVALID' });
    expect(authenticateRequest(read(signRequest(a, 'POST', '/a2a', digest, auth({ nonce: 'b2xkLW9sZC1vbGQtb2xk' }))), callerTrust(T + 301_000), nonces)).toMatchObject({ code: 'A2A_REQUEST_STALE' });
    expect(authenticateRequest(read(signRequest(c, 'POST', '/a2a', digest, auth({ keyid: c.verifier.handle }))), callerTrust(), nonces)).toMatchObject({ code: 'A2A_CALLER_UNKNOWN' });
    // A key that claims a known caller's handle but signs with its own key.
    expect(authenticateRequest(read(signRequest(c, 'POST', '/a2a', digest, auth({ nonce: 'Zm9yZ2VkLWZvcmdlZC0x' }))), callerTrust(), nonces)).toMatchObject({ code: 'A2A_REQUEST_SIGNATURE_INVALID' });
  });

  test('missing or garbage headers are refused before anything is verified', () => {
    expect(readSignedRequest('POST', '/a2a', digest, undefined, undefined)).toMatchObject({ ok: false, code: 'A2A_CALLER_UNKNOWN' });
    expect(readSignedRequest('POST', '/a2a', digest, '!!', 'x')).toMatchObject({ ok: false, code: 'A2A_REQUEST_SIGNATURE_INVALID' });
    expect(readSignedRequest('POST', '/a2a', digest, toB64u(utf8(JSON.stringify({ ...auth(), extra: 1 }))), 'x')).toMatchObject({ ok: false, code: 'A2A_REQUEST_SIGNATURE_INVALID' });
    expect(readSignedRequest('POST', '/a2a', digest, toB64u(utf8(JSON.stringify({ ...auth(), nonce: 'short' }))), 'x')).toMatchObject({ ok: false, code: 'A2A_REQUEST_SIGNATURE_INVALID' });
    expect(() => fromB64u('a=')).toThrow();
  });
});

describe('delegation chains', () => {
  const jti = (n: number) => new Uint8Array(16).fill(n);
  const keys = new Map([a, b, c].map((k) => [k.verifier.handle, k.verifier]));
  const dtrust = (o: { iss: string; aud: string; nowMs?: number; revoked?: string[] }) => ({ key: (h: string) => keys.get(h) ?? null, revoked: new Set(o.revoked ?? []), nowMs: o.nowMs ?? T + 1000, expectIss: o.iss, expectAud: o.aud, suite });
  const root = (scope = { skills: ['summarize', 'translate'], tools: ['crm.lookup'], budget: 5 }) => mintDelegation({ signer: a, aud: b.verifier.handle, sub: 'agent:a', scope, nowMs: T, ttlSeconds: 600, grant, decision: ref, parent: null, jti: jti(1) });
  const hop = (parent: DelegationToken, scope: { skills: string[]; tools: string[]; budget: number }) => mintDelegation({ signer: b, aud: c.verifier.handle, sub: 'agent:b', scope, nowMs: T + 500, ttlSeconds: 600, grant, decision: ref, parent, jti: jti(2) });

  test('a narrowing chain verifies, and its effective scope is the leaf', () => {
    const t = hop(root(), { skills: ['summarize'], tools: [], budget: 2 });
    const v = verifyDelegation(t, dtrust({ iss: b.verifier.handle, aud: c.verifier.handle }));
    expect(v).toMatchObject({ ok: true, scope: { skills: ['summarize'], tools: [], budget: 2 }, rootSub: 'agent:a' });
    // The child never outlives its parent: mint clips exp.
    expect(t.exp).toBe(root().exp);
  });

  test('a link that widens (skill, tool, budget) is refused with A2A_DELEGATION_EXCEEDS_GRANT', () => {
    for (const scope of [{ skills: ['summarize', 'delete'], tools: [], budget: 1 }, { skills: ['summarize'], tools: ['mail.send'], budget: 1 }, { skills: ['summarize'], tools: [], budget: 6 }]) {
      expect(verifyDelegation(hop(root(), scope), dtrust({ iss: b.verifier.handle, aud: c.verifier.handle }))).toMatchObject({ ok: false, code: 'A2A_DELEGATION_EXCEEDS_GRANT' });
    }
  });

  test('expired, tampered, unknown or revoked issuers, wrong audience and broken chains are refused', () => {
    const t = root();
    expect(verifyDelegation(t, dtrust({ iss: a.verifier.handle, aud: b.verifier.handle, nowMs: T + 600_000 }))).toMatchObject({ code: 'A2A_DELEGATION_EXPIRED' });
    expect(verifyDelegation({ ...t, scope: { ...t.scope, budget: 50 } }, dtrust({ iss: a.verifier.handle, aud: b.verifier.handle }))).toMatchObject({ code: 'A2A_DELEGATION_INVALID' });
    expect(verifyDelegation(t, dtrust({ iss: a.verifier.handle, aud: b.verifier.handle, revoked: [a.verifier.handle] }))).toMatchObject({ code: 'A2A_DELEGATION_INVALID' });
    expect(verifyDelegation(t, dtrust({ iss: a.verifier.handle, aud: c.verifier.handle }))).toMatchObject({ code: 'A2A_DELEGATION_INVALID' });
    expect(verifyDelegation(t, dtrust({ iss: c.verifier.handle, aud: b.verifier.handle }))).toMatchObject({ code: 'A2A_DELEGATION_INVALID' });
    const stranger = testKey('stranger');
    expect(verifyDelegation(mintDelegation({ signer: stranger, aud: b.verifier.handle, sub: 'x', scope: t.scope, nowMs: T, ttlSeconds: 60, grant, decision: ref, parent: null, jti: jti(3) }), dtrust({ iss: stranger.verifier.handle, aud: b.verifier.handle }))).toMatchObject({ code: 'A2A_DELEGATION_INVALID' });
    // A chain whose parent was issued to someone other than the child's signer.
    const misissued = mintDelegation({ signer: b, aud: c.verifier.handle, sub: 'agent:b', scope: { skills: ['summarize'], tools: [], budget: 1 }, nowMs: T, ttlSeconds: 60, grant, decision: ref, parent: { ...t, aud: c.verifier.handle }, jti: jti(4) });
    expect(verifyDelegation(misissued, dtrust({ iss: b.verifier.handle, aud: c.verifier.handle }))).toMatchObject({ ok: false, code: 'A2A_DELEGATION_INVALID' });
  });

  test('hostile shapes: extra fields, floats, deep chains, strings and cycles of garbage', () => {
    const t = root();
    for (const bad of [null, 'token', 7, [], { ...t, extra: 1 }, { ...t, scope: { skills: ['x'], tools: [], budget: 1.5 } }, { ...t, iat: 'yesterday' }, { ...t, decision: { ...ref, index: -1 } }, { ...t, parent: 'x' }]) {
      expect(verifyDelegation(bad, dtrust({ iss: a.verifier.handle, aud: b.verifier.handle }))).toMatchObject({ ok: false, code: 'A2A_DELEGATION_INVALID' });
    }
    let deep: unknown = null;
    for (let i = 0; i < 20; i++) deep = { ...t, parent: deep };
    expect(verifyDelegation(deep, dtrust({ iss: a.verifier.handle, aud: b.verifier.handle }))).toMatchObject({ ok: false, code: 'A2A_DELEGATION_INVALID' });
  });
});

describe('purity of kernel/a2a', () => {
  const dir = join(process.cwd(), 'kernel', 'a2a');
  test.each(readdirSync(dir).filter((n) => n.endsWith('.ts')))('%s reads no clock, randomness, environment or I/O', (name) => {
    const src = readFileSync(join(dir, name), 'utf8');
    expect(src).not.toMatch(/from ['"]node:/);
    expect(src).not.toMatch(/\bDate\.now\(|new Date\(\)|Math\.random|performance\.now|crypto\.getRandomValues|\bprocess\.|\brequire\(/);
    for (const m of src.matchAll(/from ['"](\.\.\/[^'"]+)['"]/g)) expect(m[1]).toMatch(/^\.\.\/(crypto\/|guardian\/reason-codes\.)/);
  });
});

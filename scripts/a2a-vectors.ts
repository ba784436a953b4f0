// Test vectors of docs/spec/a2a.md, from fixed public seeds: a signed agent card, a delegation
// chain of two links, and a signed request carrying the leaf token. Checked by
// test/a2a/vectors.test.ts (they verify) and test/kernel/spec-artifacts.test.ts (byte for byte).
import { utf8 } from '../kernel/crypto/bytes.js';
import { jcsSignedString } from '../kernel/crypto/jcs.js';
import type { SigningKey } from '../kernel/crypto/signing-key.js';
import { cardPayload, signCard } from '../kernel/a2a/card.js';
import { delegationMessage, mintDelegation, type DecisionRef } from '../kernel/a2a/delegation.js';
import { bodyDigest, requestMessage, signRequest, type RequestAuth } from '../kernel/a2a/request-auth.js';
import { nodeSuite } from '../kernel/crypto/node.js';

const pretty = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

export function a2aVectors(key: (name: string) => SigningKey): Map<string, string> {
  const a = key('helm-vectors/a2a-agent-a');
  const b = key('helm-vectors/a2a-agent-b');
  const c = key('helm-vectors/a2a-agent-c');
  const t0 = Date.UTC(2026, 11, 3, 12, 0, 0);
  const out = new Map<string, string>();
  const keyInfo = (k: SigningKey) => ({ vkey: k.verifier.vkey, handle: k.verifier.handle, privateKey: k.privateText });
  out.set('a2a/keys.json', pretty({ warning: 'TEST KEYS derived from a public seed: never trust them', a: keyInfo(a), b: keyInfo(b), c: keyInfo(c) }));

  const card = signCard({ name: 'agent-b', description: 'summarises documents', version: '1.0.0', supportedInterfaces: [{ url: 'https://b.example/a2a/in', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }], skills: [{ id: 'summarize', name: 'Summarize', description: 'one paragraph', tags: ['text'] }], defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'] }, b);
  out.set('a2a/card.json', pretty({ card, payload: cardPayload(card), trustedKey: b.verifier.vkey }));

  const decision: DecisionRef = { origin: 'helm.mindburn.org/vectors/agent-a', index: 12, hash: `sha256:${'3e'.repeat(32)}`, lamport: 13 };
  const grant = { id: 'a-to-b', policyDigest: `sha256:${'5f'.repeat(32)}` };
  const root = mintDelegation({ signer: a, aud: b.verifier.handle, sub: 'agent:a', scope: { skills: ['summarize', 'translate'], tools: ['crm.lookup_customer'], budget: 3 }, nowMs: t0, ttlSeconds: 600, grant, decision, parent: null, jti: new Uint8Array(16).fill(0xa1) });
  const child = mintDelegation({ signer: b, aud: c.verifier.handle, sub: 'agent:b', scope: { skills: ['summarize'], tools: [], budget: 1 }, nowMs: t0 + 1000, ttlSeconds: 3600, grant: { id: 'b-to-c', policyDigest: `sha256:${'6a'.repeat(32)}` }, decision: { ...decision, origin: 'helm.mindburn.org/vectors/agent-b', index: 4, lamport: 15 }, parent: root, jti: new Uint8Array(16).fill(0xb2) });
  const { sig: _s, ...unsigned } = child;
  out.set('a2a/delegation.json', pretty({ now: new Date(t0 + 2000).toISOString(), verifier: c.verifier.handle, caller: b.verifier.handle, token: child, signedMessageOfLeaf: new TextDecoder().decode(delegationMessage(unsigned)), effectiveScope: child.scope }));

  const body = utf8(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'hello' }] }, metadata: { 'helm.skill': 'summarize' } } }));
  const auth: RequestAuth = { keyid: b.verifier.handle, aud: c.verifier.handle, ts: new Date(t0 + 2000).toISOString(), nonce: 'AAECAwQFBgcICQoLDA0ODw', parent: { ...decision, origin: 'helm.mindburn.org/vectors/agent-b', index: 5, lamport: 16 }, delegation: child };
  const digest = bodyDigest(nodeSuite, body);
  out.set('a2a/request.json', pretty({ method: 'POST', path: '/a2a/in', body: new TextDecoder().decode(body), bodyDigest: digest, auth, authJcs: jcsSignedString(auth), signedMessage: new TextDecoder().decode(requestMessage('POST', '/a2a/in', digest, auth)), headers: signRequest(b, 'POST', '/a2a/in', digest, auth) }));
  return out;
}

// The sidecar accepts a certification answer only if it binds exactly its own keys and origin under
// the certification root: anything else keeps it uncertified (and denying every call).
import { nodeSuite } from '../../kernel/crypto/node.js';
import { signKeyEvent, type KeyEvent } from '../../kernel/trust/index.js';
import { acceptAnswer } from '../../sidecar/identity/answer.js';
import { makeIdentity } from '../../sidecar/identity/identity.js';
import { testKey } from '../evidence/fixtures.js';

const root = testKey('helm/certify-root');
let n = 0;
const random = (k: number) => new Uint8Array(k).fill(++n);
const cfg = { clusterOrigin: 'helm/c1', url: 'https://op/v1/certify', ca: '', tokenFile: '', root: root.verifier.vkey, podNamespace: 'shop', podName: 'agent', podUid: 'uid-1' };
const id = makeIdentity(cfg, '/pg', Date.UTC(2026, 11, 3, 9, 0, 0), random);
const other = makeIdentity(cfg, '/pg', Date.UTC(2026, 11, 3, 9, 0, 1), random);

const ev = (purpose: 'node' | 'log', o: Partial<KeyEvent> = {}): KeyEvent => ({ event: 'KEY_PUBLISH', purpose, origin: id.origin, key: (purpose === 'node' ? id.nodeKey : id.logKey).verifier.vkey, fromIndex: 0, issuedAt: '2026-12-03T09:00:00.000Z', ...o });
const sign = (e: KeyEvent, by = root) => signKeyEvent(nodeSuite, e, [by]);

describe('certification answer', () => {
  it('accepts the two root-signed events for this node key and log key, adding proof of possession', () => {
    const { events } = acceptAnswer(nodeSuite, { events: [sign(ev('log')), sign(ev('node'))] }, id, root.verifier);
    expect(events.map((e) => e.signatures.map((s) => s.keyid))).toEqual([
      [root.verifier.handle, id.nodeKey.verifier.handle],
      [root.verifier.handle, id.logKey.verifier.handle],
    ]);
    expect(id.origin).toMatch(/^helm\/c1\/shop\/uid-1\/20261203t090000z-[0-9a-f]{8}$/);
    expect(id.logKey.verifier.name).toBe(id.origin);
    expect(id.logRoot).toBe('/pg/shop/agent');
  });

  it.each([
    ['signed by another root', () => ({ events: [sign(ev('node'), testKey('rogue')), sign(ev('log'), testKey('rogue'))] })],
    ['for another origin', () => ({ events: [sign(ev('node', { origin: other.origin })), sign(ev('log'))] })],
    ["for another sidecar's keys", () => ({ events: [sign(ev('node', { key: other.nodeKey.verifier.vkey })), sign(ev('log'))] })],
    ['the node key only', () => ({ events: [sign(ev('node'))] })],
    ['the node key twice', () => ({ events: [sign(ev('node')), sign(ev('node'))] })],
    ['valid from a later index', () => ({ events: [sign(ev('node', { fromIndex: 5 })), sign(ev('log'))] })],
    ['not an answer', () => ({ error: 'x' })],
  ])('refuses an answer %s', (_name, answer) => {
    expect(() => acceptAnswer(nodeSuite, answer(), id, root.verifier)).toThrow(expect.objectContaining({ code: 'ERR_CERTIFY_ANSWER' }));
  });
});

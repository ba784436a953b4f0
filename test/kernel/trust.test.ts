import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import { toBase64 } from '../../kernel/crypto/bytes.js';
import { addSignature, signKeyEvent, TrustRegistry, type KeyEvent } from '../../kernel/trust/index.js';

const key = (name: string, n: number): SigningKey => signingKeyFromSeed(name, new Uint8Array(32).fill(n), nodeSigner);
const root = key('helm-root', 1);
const nodeA = key('agent-a/node', 2);
const nodeB = key('agent-a/node-2', 3);
const intruder = key('intruder', 4);
const ORIGIN = 'helm.test/agent-a';
const at = '2026-01-01T00:00:00.000Z';

const ev = (e: Partial<KeyEvent> & Pick<KeyEvent, 'event' | 'key'>): KeyEvent => ({ purpose: 'node', origin: ORIGIN, fromIndex: 0, issuedAt: at, ...e });
const publishA = () => signKeyEvent(nodeSuite, ev({ event: 'KEY_PUBLISH', key: nodeA.verifier.vkey }), [root, nodeA]);

describe('trust registry', () => {
  it('a published key is valid from its index on, for its origin only', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(signKeyEvent(nodeSuite, ev({ event: 'KEY_PUBLISH', key: nodeA.verifier.vkey, fromIndex: 5 }), [root, nodeA]), 'test');
    expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 4)).toMatchObject({ ok: false, code: 'KEY_NOT_YET_VALID' });
    expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 5)).toMatchObject({ ok: true });
    expect(reg.resolve(nodeA.verifier.handle, 'helm.test/other', 5)).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
    expect(reg.resolve(nodeB.verifier.handle, ORIGIN, 5)).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
  });

  it('rotation: nodes signed before it still verify, the old key fails after it, the new key takes over', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(publishA(), 'log#0');
    reg.apply(signKeyEvent(nodeSuite, ev({ event: 'KEY_ROTATE', key: nodeA.verifier.vkey, newKey: nodeB.verifier.vkey, fromIndex: 100 }), [root, nodeA, nodeB]), 'log#50');
    expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 99)).toMatchObject({ ok: true });
    expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 100)).toMatchObject({ ok: false, code: 'KEY_ROTATED' });
    expect(reg.resolve(nodeB.verifier.handle, ORIGIN, 99)).toMatchObject({ ok: false, code: 'KEY_NOT_YET_VALID' });
    expect(reg.resolve(nodeB.verifier.handle, ORIGIN, 100)).toMatchObject({ ok: true });
  });

  it('rotation needs the old and the new key to sign as well as the root', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    const rot = ev({ event: 'KEY_ROTATE', key: nodeA.verifier.vkey, newKey: nodeB.verifier.vkey, fromIndex: 10 });
    expect(() => reg.apply(signKeyEvent(nodeSuite, rot, [root, nodeB]), 'x')).toThrow(/lacks a signature by agent-a\/node\+/);
    expect(() => reg.apply(signKeyEvent(nodeSuite, rot, [root, nodeA]), 'x')).toThrow(/lacks a signature by agent-a\/node-2\+/);
  });

  it('revocation invalidates from its index on, whatever order events arrive in', () => {
    const revoke = signKeyEvent(nodeSuite, ev({ event: 'KEY_REVOKE', key: nodeA.verifier.vkey, fromIndex: 7, reason: 'key leaked' }), [root]);
    for (const order of [[publishA(), revoke], [revoke, publishA()]]) {
      const reg = new TrustRegistry(nodeSuite, root.verifier);
      order.forEach((e, i) => reg.apply(e, `#${i}`));
      expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 6)).toMatchObject({ ok: true });
      expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 7)).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
      expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 1_000_000)).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
    }
  });

  it('refuses events not signed by the root, without proof of possession, or tampered', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    const selfPublished = signKeyEvent(nodeSuite, ev({ event: 'KEY_PUBLISH', key: intruder.verifier.vkey }), [intruder]);
    expect(() => reg.apply(selfPublished, 'x')).toThrow(expect.objectContaining({ code: 'ERR_TRUST_EVENT_UNAUTHORISED' }));
    const noPossession = signKeyEvent(nodeSuite, ev({ event: 'KEY_PUBLISH', key: nodeA.verifier.vkey }), [root]);
    expect(() => reg.apply(noPossession, 'x')).toThrow(/lacks a signature by agent-a\/node/);
    const tampered = publishA();
    const payload = JSON.parse(Buffer.from(tampered.payload, 'base64').toString());
    payload.predicate.origin = 'helm.test/elsewhere';
    tampered.payload = toBase64(new TextEncoder().encode(JSON.stringify(payload)));
    expect(() => reg.apply(tampered, 'x')).toThrow(expect.objectContaining({ code: 'ERR_TRUST_EVENT_INVALID' }));
    expect(reg.resolve(intruder.verifier.handle, ORIGIN, 0)).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
  });

  it('without a root key nothing is trusted', () => {
    const reg = new TrustRegistry(nodeSuite, null);
    expect(() => reg.apply(publishA(), 'x')).toThrow(expect.objectContaining({ code: 'ERR_TRUST_NO_ROOT' }));
    expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 0)).toMatchObject({ ok: false, code: 'NO_ROOT' });
  });

  it('never expires a key for age: an event issued long ago still authorises', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(signKeyEvent(nodeSuite, ev({ event: 'KEY_PUBLISH', key: nodeA.verifier.vkey, issuedAt: '1999-01-01T00:00:00.000Z' }), [root, nodeA]), 'x');
    expect(reg.resolve(nodeA.verifier.handle, ORIGIN, 10 ** 9)).toMatchObject({ ok: true });
  });
});

describe('log-key certification (purpose log)', () => {
  const logKey = key(ORIGIN, 9);
  const certifyLog = (o: Partial<KeyEvent> = {}, signers: SigningKey[] = [root, logKey]) =>
    signKeyEvent(nodeSuite, ev({ event: 'KEY_PUBLISH', purpose: 'log', key: logKey.verifier.vkey, ...o }), signers);

  it('a root-certified log key is listed for its origin and never accepted as a node key', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(certifyLog(), 'log#1');
    expect(reg.logKeys()).toEqual([expect.objectContaining({ origin: ORIGIN, key: expect.objectContaining({ handle: logKey.verifier.handle }) })]);
    expect(reg.resolve(logKey.verifier.handle, ORIGIN, 5)).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
  });

  it('a node-key publication does not certify a log key', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(publishA(), 'x');
    expect(reg.logKeys()).toEqual([]);
  });

  it('refuses a log certification whose key is not named after the origin, that is not a KEY_PUBLISH from 0, or lacks proof of possession', () => {
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    const other = key('helm.test/other', 10);
    expect(() => reg.apply(certifyLog({ key: other.verifier.vkey }, [root, other]), 'x')).toThrow(expect.objectContaining({ code: 'ERR_TRUST_EVENT_INVALID' }));
    expect(() => reg.apply(certifyLog({ fromIndex: 3 }), 'x')).toThrow(expect.objectContaining({ code: 'ERR_TRUST_EVENT_INVALID' }));
    expect(() => signKeyEvent(nodeSuite, ev({ event: 'KEY_REVOKE', purpose: 'log', key: logKey.verifier.vkey }), [root])).toThrow(expect.objectContaining({ code: 'ERR_TRUST_EVENT_INVALID' }));
    expect(() => reg.apply(certifyLog({}, [root]), 'x')).toThrow(/lacks a signature by helm\.test\/agent-a\+/);
    expect(reg.logKeys()).toEqual([]);
  });

  it('a proof-of-possession signature can be added to a root-signed event by the key it names', () => {
    const rootOnly = certifyLog({}, [root]);
    const reg = new TrustRegistry(nodeSuite, root.verifier);
    reg.apply(addSignature(rootOnly, logKey), 'x');
    expect(reg.logKeys()).toHaveLength(1);
  });
});

// identity static: at start, the store, keys, trust events and origin must form a log that
// `helmctl verify` could accept; otherwise `helmctl serve` refuses to start (exit 2) and names the
// mismatch and the fix, instead of serving calls whose receipts can never verify.
import { writeFile } from 'node:fs/promises';
import { runSidecar } from '../../sidecar/serve.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import { signKeyEvent } from '../../kernel/trust/events.js';
import { testKey } from '../evidence/fixtures.js';
import { keys, ORIGIN, Pod } from './support.js';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => pod.cleanup());

/** The pod's flags without its --trust-event, plus `more`. */
function flags(more: string[], o: { keepEvent?: boolean } = {}): string[] {
  const f = pod.flags({ noBundle: true });
  const i = f.indexOf('--trust-event');
  if (!o.keepEvent) f.splice(i, 2);
  return [...f, ...more];
}

/** `helmctl serve` as the CLI runs it (a start failure is exit 2); a sidecar that does start is stopped at once (exit 0). */
async function serve(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io = { stdout: { write: () => undefined }, stderr: { write: (t: string) => void (err += t) } };
  const handlers = new Map<string, () => void>();
  const signals = { on: (s: string, f: () => void) => handlers.set(s, f), off: (s: string) => handlers.delete(s) };
  try {
    const code = await runSidecar(argv, io, { env: {}, signals, onStarted: () => setImmediate(() => handlers.get('SIGTERM')?.()) });
    return { code, err };
  } catch (e) {
    // helmctl serve and the sidecar image's main print the error and exit 2 for any start failure.
    return { code: 2, err: `${err}${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

const publish = (origin: string, node = keys.node) =>
  signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'node', origin, key: node.verifier.vkey, fromIndex: 0, issuedAt: '2026-11-21T00:00:00.000Z' }, [keys.root, node]);

describe('static identity start-up check', () => {
  it('refuses to start without any trust event for the node key', async () => {
    const r = await serve(flags([]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ERR_SIDECAR_IDENTITY/);
    expect(r.err).toMatch(/no trust event publishes the node key/);
    expect(r.err).toMatch(/--trust-event/);
  });

  it('refuses a trust event that publishes a different key than the node key', async () => {
    const other = testKey('some-other-node');
    await writeFile(pod.path('keys/other.json'), JSON.stringify(publish(ORIGIN, other)));
    const r = await serve(flags(['--trust-event', pod.path('keys/other.json')]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ERR_SIDECAR_IDENTITY/);
    expect(r.err).toContain(other.verifier.handle);
    expect(r.err).toContain(keys.node.verifier.handle);
  });

  it('refuses a log key named differently from the origin its trust events are for (fresh store)', async () => {
    const renamed = testKey('helm.test/renamed');
    await writeFile(pod.path('keys/renamed.key'), `${renamed.privateText}\n`, { mode: 0o600 });
    const f = flags([], { keepEvent: true });
    f[f.indexOf('--log-key') + 1] = pod.path('keys/renamed.key');
    const r = await serve(f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ERR_SIDECAR_IDENTITY/);
    expect(r.err).toContain('helm.test/renamed');
    expect(r.err).toContain(ORIGIN);
  });

  it('refuses a different log key with the same origin continuing an existing log', async () => {
    await (await pod.start({ noBundle: true })).sidecar.stop();
    const impostor = signingKeyFromSeed(ORIGIN, new Uint8Array(32).fill(7), nodeSigner);
    await writeFile(pod.path('keys/log2.key'), `${impostor.privateText}\n`, { mode: 0o600 });
    const f = flags([], { keepEvent: true });
    f[f.indexOf('--log-key') + 1] = pod.path('keys/log2.key');
    const r = await serve(f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ERR_SIDECAR_IDENTITY/);
    expect(r.err).toContain(keys.log.verifier.handle);
    expect(r.err).toMatch(/checkpoints/);
    // The right key still continues the log.
    await (await pod.start({ noBundle: true })).sidecar.stop();
    expect((await pod.exportAndVerify()).code).toBe(0);
  });

  const retire = (event: 'KEY_REVOKE' | 'KEY_ROTATE', fromIndex: number) =>
    signKeyEvent(
      nodeSuite,
      { event, purpose: 'node', origin: ORIGIN, key: keys.node.verifier.vkey, ...(event === 'KEY_ROTATE' ? { newKey: testKey('the-next-node').verifier.vkey } : {}), fromIndex, issuedAt: '2026-11-22T00:00:00.000Z' },
      [keys.root],
    );

  it.each(['KEY_REVOKE', 'KEY_ROTATE'] as const)('refuses a node key that a %s retires (fresh store)', async (event) => {
    await writeFile(pod.path('keys/retire.json'), JSON.stringify(retire(event, 0)));
    const r = await serve(flags(['--trust-event', pod.path('keys/retire.json')], { keepEvent: true }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ERR_SIDECAR_IDENTITY/);
    expect(r.err).toContain(event);
    expect(r.err).toContain(keys.node.verifier.handle);
  });

  it('refuses a revoked node key on restart, also when a start-up snapshot covers the log', async () => {
    await (await pod.start({ noBundle: true })).sidecar.stop(); // a clean stop writes the snapshot
    await writeFile(pod.path('keys/retire.json'), JSON.stringify(retire('KEY_REVOKE', 3)));
    const r = await serve(flags(['--trust-event', pod.path('keys/retire.json')], { keepEvent: true }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ERR_SIDECAR_IDENTITY/);
    expect(r.err).toMatch(/KEY_REVOKE/);
    // Without the revocation the same store still starts and verifies.
    await (await pod.start({ noBundle: true })).sidecar.stop();
    expect((await pod.exportAndVerify()).code).toBe(0);
  });
});

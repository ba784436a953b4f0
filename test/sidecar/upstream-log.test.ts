// Upstream failures are logged (one JSON line each, with route, status and the redacted error):
// an error status, a malformed answer and a timeout.
import { Pod, type Running } from './support.js';

describe('upstream failures in the log', () => {
  let pod: Pod;
  let r: Running;
  beforeAll(async () => {
    pod = await Pod.create();
    r = await pod.start({ flags: ['--upstream-timeout-ms', '300'] });
  });
  afterAll(async () => {
    await pod.cleanup();
  });

  const ask = () => fetch(`${r.sidecar.governedUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
  const failures = () => r.log.lines.filter((l) => l.msg === 'upstream request failed');

  it.each<[string, Parameters<Pod['script']>[0], number, RegExp]>([
    ['a 500', () => ({ fault: { status: 500 } }), 502, /answered 500/],
    ['a malformed answer', () => ({ fault: { body: 'not json at all' } }), 502, /not JSON/],
    ['a timeout', () => ({ fault: { delayMs: 2000 } }), 504, /sent nothing for 300 ms/],
  ])('logs %s', async (_name, script, status, error) => {
    pod.script(script);
    const before = failures().length;
    expect((await ask()).status).toBe(status);
    const logged = failures().slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'warn', route: '/v1/chat/completions', error: expect.stringMatching(error) });
  });
});

// What the A2A surface judges is what the remote agent reads: outbound forwards the agent's exact
// bytes, so a body two JSON parsers could read differently is not a call, and a skill named twice
// with different values names none (both end in a receipted DENY at the PEP).
import { readRpc, SKILL_KEY } from '../../sidecar/a2a/rpc.js';

const enc = (s: string) => new TextEncoder().encode(s);
const send = (params: string) => enc(`{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":${params}}`);

describe('readRpc', () => {
  it('reads the method, skill and parts of a plain call', () => {
    const c = readRpc(send(`{"metadata":{"${SKILL_KEY}":"summarise"},"message":{"parts":[{"text":"hi"}]}}`));
    expect(c).toMatchObject({ method: 'SendMessage', skill: 'summarise', parts: 1 });
  });

  it('refuses a duplicate key anywhere (a parser keeping the first would see another skill)', () => {
    expect(readRpc(send(`{"metadata":{"${SKILL_KEY}":"wipe","${SKILL_KEY}":"summarise"}}`))).toBeNull();
    expect(readRpc(enc(`{"jsonrpc":"2.0","id":1,"method":"DeleteTask","method":"SendMessage","params":{}}`))).toBeNull();
  });

  it('refuses lone surrogates and numbers outside I-JSON', () => {
    expect(readRpc(send(`{"metadata":{"${SKILL_KEY}":"a\\ud800"}}`))).toBeNull();
    expect(readRpc(enc(`{"jsonrpc":"2.0","id":1e400,"method":"SendMessage","params":{}}`))).toBeNull();
  });

  it('names no skill when params and message metadata disagree, and the shared one when they agree', () => {
    const both = (a: string, b: string) => send(`{"metadata":{"${SKILL_KEY}":"${a}"},"message":{"metadata":{"${SKILL_KEY}":"${b}"},"parts":[]}}`);
    expect(readRpc(both('summarise', 'wipe'))?.skill).toBeNull();
    expect(readRpc(both('summarise', 'summarise'))?.skill).toBe('summarise');
  });
});

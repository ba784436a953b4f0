// Hostile request bodies for the three governed surfaces. Each case is bounded in size (at most
// a few tens of MiB) and names what it tries, so a 500 can be traced back to its input.
import type { Rng } from './rng.js';
import { between, pick } from './rng.js';
import { FUZZ_TOOL } from './tools.js';

export type Surface = 'openai' | 'mcp' | 'rest';

export interface HostileCase {
  readonly surface: Surface;
  readonly name: string;
  readonly body: string | Uint8Array;
  readonly contentType?: string;
}

const deepArray = (d: number) => '['.repeat(d) + ']'.repeat(d);
const deepObject = (d: number) => '{"a":'.repeat(d) + '1' + '}'.repeat(d);
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Tool-call argument texts the scripted model returns when asked (the model is hostile too). */
export const HOSTILE_MODEL_ARGS: readonly string[] = [
  '{"customerId":"cus_12345678","customerId":"cus_DROP_TABLE"}',
  `{"customerId":${deepObject(6000)}}`,
  '{"customerId":"\\ud800"}',
  '{"customerId":1e400}',
  'not json at all',
  `{"customerId":"${'x'.repeat(2_000_000)}"}`,
  '[1,2,3]',
  '{"customerId":"cus_12345678","extra":{"customerId":"a","customerId":"b"}}',
];

function openaiCases(rng: Rng): HostileCase[] {
  const msg = (content: string) => `{"model":"m","messages":[{"role":"user","content":${content}}]}`;
  const depth = pick(rng, [5000, 20000, 100000]);
  const huge = pick(rng, [1, 5, 12]) * 1024 * 1024;
  const k = between(rng, 0, HOSTILE_MODEL_ARGS.length - 1);
  const o = (name: string, body: string | Uint8Array, contentType?: string): HostileCase => ({ surface: 'openai', name, body, ...(contentType ? { contentType } : {}) });
  return [
    o(`deep array in content (${depth})`, msg(deepArray(depth))),
    o(`deep object in tools[].parameters (${depth})`, `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"crm.lookup_customer","parameters":${deepObject(depth)}}}]}`),
    o('duplicate top-level keys', '{"model":"m","messages":[{"role":"user","content":"hi"}],"messages":[]}'),
    o('duplicate keys in a message', '{"model":"m","messages":[{"role":"user","role":"system","content":"hi"}]}'),
    o(`huge string (${huge} bytes)`, msg(JSON.stringify('A'.repeat(huge)))),
    o('invalid UTF-8 (0xff)', bytes('{"model":"m","messages":[{"role":"user","content":"', [0xff, 0xfe], '"}]}')),
    o('overlong UTF-8 slash', bytes('{"model":"m","messages":[{"role":"user","content":"', [0xc0, 0xaf], '"}]}')),
    o('lone surrogate escape', msg('"\\udc00"')),
    o('messages is a number', '{"model":"m","messages":5}'),
    o('message is a number', '{"model":"m","messages":[5]}'),
    o('model is an object', '{"model":{},"messages":[{"role":"user","content":"hi"}]}'),
    o('tools is a string', '{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":"x"}'),
    o('stream is a string', '{"model":"m","stream":"yes","messages":[{"role":"user","content":"hi"}]}'),
    o('top-level array', '[{"model":"m"}]'),
    o('null body', 'null'),
    o('truncated JSON', '{"model":"m","messages":[{"role":"us'),
    o('empty body', ''),
    o('number out of range', '{"model":"m","temperature":1e400,"messages":[{"role":"user","content":"hi"}]}'),
    o('wrong content type', msg('"hi"'), 'text/plain'),
    o(`hostile tool arguments from the model (#${k})`, msg(JSON.stringify(`hostile-args:${k}`))),
    o(`hostile tool arguments from the model, streamed (#${k})`, `{"model":"m","stream":true,"messages":[{"role":"user","content":${JSON.stringify(`hostile-args:${k}`)}}]}`),
  ];
}

function mcpCases(rng: Rng): HostileCase[] {
  const depth = pick(rng, [5000, 20000, 100000]);
  const call = (args: string, id = '7') => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${FUZZ_TOOL}","arguments":${args}}}`;
  const o = (name: string, body: string | Uint8Array): HostileCase => ({ surface: 'mcp', name, body });
  return [
    o(`deep arguments (${depth})`, call(deepObject(depth))),
    o('duplicate argument keys', call('{"n":1,"n":2}')),
    o('duplicate JSON-RPC keys', '{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}'),
    o('huge argument string', call(`{"n":1,"s":${JSON.stringify('B'.repeat(4 * 1024 * 1024))}}`)),
    o('invalid UTF-8 in arguments', bytes(call('{"n":1,"s":"'), [0xed, 0xa0, 0x80], '"}}}')),
    o('arguments is a string', call('"n=1"')),
    o('name is a number', '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5,"arguments":{}}}'),
    o('params missing', '{"jsonrpc":"2.0","id":3,"method":"tools/call"}'),
    o('id is an object', call('{"n":1}', '{"x":1}')),
    o('wrong jsonrpc version', '{"jsonrpc":"1.0","id":1,"method":"tools/list"}'),
    o('method is a number', '{"jsonrpc":"2.0","id":1,"method":5}'),
    o('batch of 2000', `[${Array.from({ length: 2000 }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"tools/list"}`).join(',')}]`),
    o('number out of range', call('{"n":1e400}')),
    o('lone surrogate', call('{"n":1,"s":"\\ud800"}')),
    o('truncated', '{"jsonrpc":"2.0","id":1,"method":"tools/ca'),
  ];
}

function restCases(rng: Rng): HostileCase[] {
  const depth = pick(rng, [5000, 20000, 100000]);
  const exec = (args: string) => `{"tool":"${FUZZ_TOOL}","arguments":${args}}`;
  const o = (name: string, body: string | Uint8Array): HostileCase => ({ surface: 'rest', name, body });
  return [
    o(`deep arguments (${depth})`, exec(deepObject(depth))),
    o(`deep array arguments (${depth})`, exec(deepArray(depth))),
    o('duplicate argument keys', exec('{"n":1,"n":2}')),
    o('duplicate top-level keys', `{"tool":"${FUZZ_TOOL}","tool":"crm.lookup_customer","arguments":{"n":1}}`),
    o('huge tool name', exec('{"n":1}').replace(FUZZ_TOOL, 'x'.repeat(100_000))),
    o('invalid UTF-8', bytes(`{"tool":"${FUZZ_TOOL}","arguments":{"n":1,"s":"`, [0xff], '"}}')),
    o('arguments is null', exec('null')),
    o('number out of range', exec('{"n":1e400}')),
    o('integer beyond 2^53', exec('{"n":9007199254740993}')),
    o('decimal beyond 15 digits', exec('{"n":0.30000000000000004}')),
    o('lone surrogate', exec('{"n":1,"s":"\\udfff"}')),
    o('callId is a number', `{"tool":"${FUZZ_TOOL}","arguments":{"n":1},"callId":5}`),
    o('body is a string', '"hello"'),
    o('truncated', `{"tool":"${FUZZ_TOOL}","argum`),
  ];
}

export function hostileCases(rng: Rng): HostileCase[] {
  return [...openaiCases(rng), ...mcpCases(rng), ...restCases(rng)];
}

// Receipts whose strings hold non-ASCII text (docs/sdks.md §Conformance): the spec vector
// examples/intent-unicode.json verifies, and test/sdk/vectors/unicode.json holds entries built from
// it (and from one more signed intent with control characters, separators, noncharacters and
// maximal lengths) with the code THIS verifier gives each. Every SDK reads that file and must give
// the same codes: JCS key order by UTF-16 code units, no escaping of non-control characters, PAE
// lengths in bytes, schema lengths in code points, strict UTF-8, lone surrogates refused.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNode, type Statement } from '../../../kernel/contracts/node.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../../../kernel/contracts/dsse.js';
import { nodeSigner, nodeSuite } from '../../../kernel/crypto/node.js';
import { signingKeyFromText } from '../../../kernel/crypto/signing-key.js';
import { jcs, loadTrust, ReceiptError, trustEventsOf, verifyReceipt } from '../../../sdk/ts/src/index.js';
import { repoRoot } from '../../support/shared.js';

const spec = join(repoRoot, 'docs', 'spec', 'vectors');
const read = (p: string) => readFileSync(join(spec, p), 'utf8');
const trust = () => loadTrust(read('trust-policy.txt'), trustEventsOf([(JSON.parse(read('nodes/01-trust.json')) as { entry: string }).entry]));
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const text = (v: unknown) => Buffer.from(jcs(v)).toString('utf8');

interface Example { statement: Statement; payloadJcs: string; envelope: { payload: string; payloadType: string; signatures: Array<{ keyid: string; sig: string }> }; entryHash: string }
const example = JSON.parse(read('examples/intent-unicode.json')) as Example;

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ReceiptError) return e.code;
    throw e;
  }
  return 'accepted';
}

/** `s` with its only occurrence of `from` replaced (throws unless there is exactly one). */
function once(s: string, from: string, to: string): string {
  const i = s.indexOf(from);
  if (i < 0 || s.indexOf(from, i + 1) >= 0) throw new Error(`expected exactly one ${JSON.stringify(from)}`);
  return s.slice(0, i) + to + s.slice(i + from.length);
}

/** The envelope's JCS around these payload bytes, with these signatures. */
function entryOf(payload: Uint8Array | string, signatures: Example['envelope']['signatures']): string {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return text({ payload: bytes.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures });
}

/** JCS with object keys in code-point order (= UTF-8 byte order): what a wrong implementation writes. */
function jcsCodePoints(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcsCodePoints).join(',')}]`;
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return `{${Object.keys(v).sort(cmp).map((k) => `${JSON.stringify(k)}:${jcsCodePoints((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

const nodeKey = signingKeyFromText((JSON.parse(read('keys.json')) as { node: { privateKey: string } }).node.privateKey, nodeSigner);
const signer = [{ keyid: nodeKey.verifier.handle, signer: nodeKey }];

/** A second signed intent at the edges: control characters, separators, noncharacters, maximal lengths in code points. */
const edgeArgs: Record<string, unknown> = {
  '\u0001': 'control key',
  '\u007f': 'DEL key',
  '\u2028': 'line separator key',
  '𝄞': 'D834 DD1E',
  '😀': 'D83D DE00',
  '\u{10FFFF}': 'DBFF DFFF',
  '\ue000': 'private use',
  '\uffff': 'noncharacter key',
  controls: '\u0000\u0001\b\t\n\u000b\f\r\u001f\u007f',
  separators: 'a\u2028b\u2029c\u0085d',
  marks: '\ufeffbom/e\u0301/\u{10FFFF}',
  quote: '"\\/',
};
const edge = encodeNode(
  nodeSuite,
  {
    kind: 'intent',
    subjectName: `call/${'😀'.repeat(256)}`,
    predicate: {
      origin: example.statement.predicate.origin, index: 0, lamport: 1, prev: null, parents: [], time: example.statement.predicate.time,
      body: { surface: 'mcp', callId: '😀'.repeat(256), tool: '𝄞'.repeat(512), principal: 'é'.repeat(512), argsDigest: `sha256:${sha256(jcs(edgeArgs))}`, args: edgeArgs, model: '€'.repeat(512) },
    },
  },
  signer,
);
const edgeEntry = Buffer.from(edge.entry).toString('utf8');
const edgePayload = jcs(edge.statement);
const edgeText = Buffer.from(edgePayload).toString('utf8');

/** The cases: why, the code this verifier must give (asserted), and the entry. */
function cases(): Array<{ why: string; want: string; entry: string }> {
  const P = example.payloadJcs;
  const sigs = example.envelope.signatures;
  const st = JSON.parse(P) as Statement;
  const withPayload = (p: Uint8Array | string) => entryOf(p, sigs);
  const bytes = Buffer.from(P, 'utf8');
  const tampered = structuredClone(st);
  tampered.predicate.lamport += 1;
  const nfd = structuredClone(st);
  (nfd.predicate.body as { principal: string }).principal = 'ns/agents/sa/re\u0301sume\u0301-𝄞';
  nfd.subject[0].digest.sha256 = sha256(jcs(nfd.predicate.body));
  const codePointDigest = structuredClone(st);
  codePointDigest.subject[0].digest.sha256 = sha256(jcsCodePoints(st.predicate.body));
  /** The same statement signed over a PAE whose payload length is not the byte count. */
  const wrongPae = (len: number) => entryOf(P, [{ keyid: sigs[0]!.keyid, sig: Buffer.from(nodeKey.sign(Buffer.from(`DSSEv1 ${IN_TOTO_PAYLOAD_TYPE.length} ${IN_TOTO_PAYLOAD_TYPE} ${len} ${P}`, 'utf8'))).toString('base64') }]);
  const cesu8 = Buffer.concat([bytes.subarray(0, bytes.indexOf(Buffer.from('😀'))), Buffer.from([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]), bytes.subarray(bytes.indexOf(Buffer.from('😀')) + 4)]);
  const overlong = Buffer.concat([bytes.subarray(0, bytes.indexOf(Buffer.from('é'))), Buffer.from([0xe0, 0x83, 0xa9]), bytes.subarray(bytes.indexOf(Buffer.from('é')) + 2)]);
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const longCall = structuredClone(edge.statement);
  (longCall.predicate.body as { callId: string }).callId = '😀'.repeat(257);
  const longTool = structuredClone(edge.statement);
  (longTool.predicate.body as { tool: string }).tool = '𝄞'.repeat(513);
  const edgeSigs = edge.envelope.signatures;
  const E = edgeText;
  return [
    { why: 'intent-unicode.json as signed', want: 'accepted', entry: withPayload(P) },
    { why: 'args keys 😀 (D83D DE00) and U+E000 in code-point order, the order of their UTF-8 bytes', want: 'ERR_NOT_CANONICAL', entry: withPayload(jcsCodePoints(st)) },
    { why: 'the 3-byte € written as the escape \\u20ac', want: 'ERR_NOT_CANONICAL', entry: withPayload(once(P, '€', '\\u20ac')) },
    { why: 'the args key é written as the escape \\u00e9', want: 'ERR_NOT_CANONICAL', entry: withPayload(once(P, '"é":1', '"\\u00e9":1')) },
    { why: 'the callId\'s 😀 written as the escaped surrogate pair \\ud83d\\ude00', want: 'ERR_NOT_CANONICAL', entry: withPayload(once(P, '"callId":"call_😀_01"', '"callId":"call_\\ud83d\\ude00_01"')) },
    { why: 'the callId\'s 😀 written as the upper-case escape \\uD83D\\uDE00', want: 'ERR_NOT_CANONICAL', entry: withPayload(once(P, '"callId":"call_😀_01"', '"callId":"call_\\uD83D\\uDE00_01"')) },
    { why: 'args holds é twice, raw and escaped (duplicate key after unescaping)', want: 'ERR_NOT_CANONICAL', entry: withPayload(once(P, '"é":1', '"é":1,"\\u00e9":2')) },
    { why: 'the payload starts with a UTF-8 byte order mark', want: 'ERR_NOT_CANONICAL', entry: withPayload(Buffer.concat([bom, bytes])) },
    { why: 'the entry starts with a UTF-8 byte order mark', want: 'ERR_NOT_CANONICAL', entry: `\ufeff${withPayload(P)}` },
    { why: 'the payload encodes 😀 as CESU-8 (two 3-byte surrogates), not UTF-8', want: 'ERR_NOT_UTF8', entry: withPayload(cesu8) },
    { why: 'the payload encodes é as an overlong 3-byte sequence', want: 'ERR_NOT_UTF8', entry: withPayload(overlong) },
    { why: 'an args key that is an escaped lone high surrogate \\ud83d', want: 'ERR_SCHEMA', entry: withPayload(once(P, '"😀":"astral key"', '"\\ud83d":"astral key"')) },
    { why: 'the callId\'s 😀 written as a reversed surrogate pair \\ude00\\ud83d', want: 'ERR_SCHEMA', entry: withPayload(once(P, '"callId":"call_😀_01"', '"callId":"call_\\ude00\\ud83d_01"')) },
    { why: 'the principal re-encoded in NFD (e + U+0301), subject digest updated, signature kept', want: 'ERR_SIGNATURE', entry: withPayload(jcs(nfd)) },
    { why: 'the subject digest is the SHA-256 of the body with keys in code-point order', want: 'ERR_SUBJECT_DIGEST', entry: withPayload(jcs(codePointDigest)) },
    { why: 'lamport + 1, re-encoded canonically, signature kept', want: 'ERR_SIGNATURE', entry: withPayload(jcs(tampered)) },
    { why: 'signed over a PAE whose payload length counts UTF-16 code units', want: 'ERR_SIGNATURE', entry: wrongPae(P.length) },
    { why: 'signed over a PAE whose payload length counts code points', want: 'ERR_SIGNATURE', entry: wrongPae([...P].length) },
    { why: 'edge intent as signed: control characters, U+2028/2029/0085, BOM, U+FFFF, U+10FFFF; callId 256 😀, tool 512 𝄞, principal 512 é, model 512 €', want: 'accepted', entry: edgeEntry },
    { why: 'edge: args keys in code-point order', want: 'ERR_NOT_CANONICAL', entry: entryOf(jcsCodePoints(edge.statement), edgeSigs) },
    { why: 'edge: U+2028 written as the escape \\u2028', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, 'a\u2028b', 'a\\u2028b'), edgeSigs) },
    { why: 'edge: U+0085 written as the escape \\u0085', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, 'c\u0085d', 'c\\u0085d'), edgeSigs) },
    { why: 'edge: U+FFFF written as the escape \\uffff', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, '"\uffff"', '"\\uffff"'), edgeSigs) },
    { why: 'edge: DEL written as the escape \\u007f', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, '"\u007f":', '"\\u007f":'), edgeSigs) },
    { why: 'edge: U+001F written with upper-case hex \\u001F', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, '\\u001f', '\\u001F'), edgeSigs) },
    { why: 'edge: backspace written as \\u0008 instead of \\b', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, '\\u0001\\b', '\\u0001\\u0008'), edgeSigs) },
    { why: 'edge: the solidus written as the escape \\/', want: 'ERR_NOT_CANONICAL', entry: entryOf(once(E, '"\\"\\\\/"', '"\\"\\\\\\/"'), edgeSigs) },
    { why: 'edge: callId of 257 😀 (257 code points; the schema allows 256)', want: 'ERR_SCHEMA', entry: entryOf(jcs(longCall), edgeSigs) },
    { why: 'edge: tool of 513 𝄞 (513 code points; the schema allows 512)', want: 'ERR_SCHEMA', entry: entryOf(jcs(longTool), edgeSigs) },
    { why: 'edge: argsDigest followed by U+2028 (a pattern\'s $ is the end of the string)', want: 'ERR_SCHEMA', entry: entryOf(once(E, `${edge.statement.predicate.body.argsDigest as string}"`, `${edge.statement.predicate.body.argsDigest as string}\u2028"`), edgeSigs) },
    { why: 'edge: time followed by a newline (a pattern\'s $ is the end of the string)', want: 'ERR_SCHEMA', entry: entryOf(once(E, '.000Z"', '.000Z\\n"'), edgeSigs) },
  ];
}

describe('TS SDK: receipts with non-ASCII text', () => {
  it('examples/intent-unicode.json: the entry is the JCS of its envelope, its SHA-256 the entryHash, and it verifies', () => {
    const entry = jcs(example.envelope);
    expect(Buffer.from(entry).toString('latin1')).toMatch(/^[\x20-\x7e]+$/);
    expect(`sha256:${sha256(entry)}`).toBe(example.entryHash);
    expect(Buffer.from(example.envelope.payload, 'base64').toString('utf8')).toBe(example.payloadJcs);
    const r = verifyReceipt(entry, trust());
    expect([r.kind, r.index, r.entryHash, r.signers]).toEqual(['intent', 0, example.entryHash, ['helm-vectors/agent-0/node+4122bc29']]);
    expect(r.body).toEqual(example.statement.predicate.body);
    expect(Object.keys(r.body.args as object)).toEqual(['path', 'é', '😀', '\ue000']);
  });

  it('test/sdk/vectors/unicode.json holds this verifier\'s code for each case, each the code the case is built to give', () => {
    const list = cases().map((c) => ({ why: c.why, expect: codeOf(() => verifyReceipt(c.entry, trust())), entry: c.entry }));
    expect(list.map((c) => [c.why, c.expect])).toEqual(cases().map((c) => [c.why, c.want]));
    const out = `${JSON.stringify(list, null, 1)}\n`;
    const file = join(repoRoot, 'test', 'sdk', 'vectors', 'unicode.json');
    if (process.env.HELM_WRITE_SPEC === '1') writeFileSync(file, out);
    expect(readFileSync(file, 'utf8')).toBe(out);
  });
});

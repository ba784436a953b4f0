// ProofGraph nodes: a DSSE envelope around the JCS bytes of an in-toto Statement v1. The entry
// (what the log stores, what the Merkle leaf hashes) is the JCS of the envelope.
// Normative spec: docs/spec/receipt.md.
import type { ValidateFunction } from 'ajv';
import { equalBytes, fromBase64, fromUtf8, toHex, utf8, utf8ByteLength } from '../crypto/bytes.js';
import { jcsSignedString } from '../crypto/jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { checkEnvelopeShape, IN_TOTO_PAYLOAD_TYPE, pae, signEnvelope, type DsseEnvelope, type EnvelopeSigner } from './dsse.js';
import { NODE_KINDS, PREDICATE_BASE, predicateTypeOf, type NodeKind } from './schemas.js';
import * as compiled from './statement-validators.gen.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** tlog-tiles entries are < 64 KiB; so are ours. */
export const MAX_ENTRY_BYTES = 65535;

export type HashRef = `sha256:${string}`;

export interface SameLogParent {
  hash: HashRef;
}
export interface CrossLogParent {
  origin: string;
  index: number;
  hash: HashRef;
}
export type ParentRef = SameLogParent | CrossLogParent;

export interface Predicate<B = Record<string, unknown>> {
  origin: string;
  index: number;
  lamport: number;
  prev: HashRef | null;
  parents: ParentRef[];
  time: string;
  body: B;
}

export interface Statement<B = Record<string, unknown>> {
  _type: typeof STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: string;
  predicate: Predicate<B>;
}

export interface NodeDraft<B = Record<string, unknown>> {
  kind: NodeKind;
  subjectName: string;
  predicate: Predicate<B>;
}

export interface EncodedNode {
  readonly kind: NodeKind;
  readonly statement: Statement;
  readonly envelope: DsseEnvelope;
  /** JCS(envelope): the log entry. */
  readonly entry: Uint8Array;
  readonly entryHash: HashRef;
  /** SHA-256(entry) as bytes (entryHash's digest): the store reuses it as its record frame hash. */
  readonly entryDigest: Uint8Array;
}

export class NodeFormatError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export function hashRef(suite: CryptoSuite, bytes: Uint8Array): HashRef {
  return `sha256:${toHex(suite.sha256(bytes))}`;
}

export function isCrossLog(p: ParentRef): p is CrossLogParent {
  return 'origin' in p;
}

/**
 * Builds and signs a node. The JCS texts of the statement and the envelope are composed directly
 * (their keys are fixed and sorted here by hand) around the canonicalized body, which is the only
 * part of arbitrary shape: this halves the cost of a receipt. decodeNode and the vector tests check
 * the result is exactly the canonical form.
 */
export function encodeNode(suite: CryptoSuite, draft: NodeDraft, signers: readonly EnvelopeSigner[]): EncodedNode {
  if (signers.length === 0) throw new NodeFormatError('ERR_NO_SIGNER', 'a node needs at least one signature');
  const p = draft.predicate;
  const bodyJcs = signedJcs(p.body, 'body');
  const subjectDigest = toHex(suite.sha256(utf8(bodyJcs)));
  for (const n of [p.index, p.lamport]) if (!Number.isSafeInteger(n) || n < 0) throw new NodeFormatError('ERR_SCHEMA', `index/lamport ${n} is not a safe integer`);
  const predicateType = predicateTypeOf(draft.kind);
  const statementJcs = composeStatementJcs(predicateType, p, bodyJcs, signedJcs(p.parents, 'parents'), subjectDigest, draft.subjectName);
  // Encode PAE once; the payload is its tail (PAE lengths count bytes, so measure first).
  const payloadLength = utf8ByteLength(statementJcs);
  const paePrefix = `DSSEv1 ${IN_TOTO_PAYLOAD_TYPE.length} ${IN_TOTO_PAYLOAD_TYPE} ${payloadLength} `;
  const paeBytes = utf8(paePrefix + statementJcs);
  const payload = paeBytes.subarray(paePrefix.length);
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, signers, paeBytes);
  const entry = utf8(composeEnvelopeJcs(envelope));
  if (entry.length > MAX_ENTRY_BYTES) throw new NodeFormatError('ERR_ENTRY_TOO_LARGE', `entry is ${entry.length} bytes; the limit is ${MAX_ENTRY_BYTES}`);
  const statement: Statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: draft.subjectName, digest: { sha256: subjectDigest } }],
    predicateType,
    predicate: p as Predicate,
  };
  const entryDigest = suite.sha256(entry);
  return { kind: draft.kind, statement, envelope, entry, entryHash: `sha256:${toHex(entryDigest)}`, entryDigest };
}

/**
 * The JCS text of a statement whose fields are already known to have the schema's types. Keys are
 * written in RFC 8785 order by hand; strings via JSON.stringify, which is JCS string escaping.
 */
function composeStatementJcs(predicateType: string, p: Predicate, bodyJcs: string, parentsJcs: string, subjectDigest: string, subjectName: string): string {
  // predicate keys: body, index, lamport, origin, parents, prev, time
  const predicateJcs =
    `{"body":${bodyJcs},"index":${p.index},"lamport":${p.lamport},"origin":${JSON.stringify(p.origin)}` +
    `,"parents":${parentsJcs},"prev":${p.prev === null ? 'null' : JSON.stringify(p.prev)},"time":${JSON.stringify(p.time)}}`;
  // statement keys: _type, predicate, predicateType, subject
  return (
    `{"_type":"${STATEMENT_TYPE}","predicate":${predicateJcs},"predicateType":${JSON.stringify(predicateType)}` +
    `,"subject":[{"digest":{"sha256":${JSON.stringify(subjectDigest)}},"name":${JSON.stringify(subjectName)}}]}`
  );
}

/** The JCS text of a shape-checked envelope (payload and sigs are strict base64: nothing to escape). */
function composeEnvelopeJcs(e: DsseEnvelope): string {
  return (
    `{"payload":"${e.payload}","payloadType":${JSON.stringify(e.payloadType)},"signatures":[` +
    e.signatures.map((s) => `{"keyid":${JSON.stringify(s.keyid)},"sig":"${s.sig}"}`).join(',') +
    ']}'
  );
}

function signedJcs(v: unknown, what: string): string {
  try {
    return jcsSignedString(v);
  } catch (e) {
    throw new NodeFormatError('ERR_SCHEMA', `${what}: ${(e as Error).message}`);
  }
}

/** UTF-8 byte length of a string without encoding it. */
// Compiled ahead of time (scripts/validators.ts, strict mode): no schema compilation at start-up.
const validators = new Map<NodeKind, ValidateFunction>(NODE_KINDS.map((k) => [k, compiled[k] as ValidateFunction]));
const kindByType = new Map(NODE_KINDS.map((k) => [predicateTypeOf(k), k]));

/** The first schema error of a statement of this kind, or null when it is valid. */
export function statementError(kind: NodeKind, statement: unknown): string | null {
  const validate = validators.get(kind)!;
  if (validate(statement)) return null;
  const err = validate.errors?.[0];
  return `${kind} statement ${err?.instancePath || '/'} ${err?.message ?? 'is invalid'}`;
}

export interface DecodedNode {
  readonly kind: NodeKind;
  readonly statement: Statement;
  readonly entry: Uint8Array;
  readonly entryHash: HashRef;
  /** The bytes every envelope signature covers. */
  readonly pae: Uint8Array;
  readonly signatures: ReadonlyArray<{ keyid: string; sig: Uint8Array }>;
}

/** What a fold needs of a node. */
export type FoldedNode = Pick<DecodedNode, 'kind' | 'statement' | 'entryHash'>;

/**
 * Parses back an entry this process encoded itself (encodeNode, schema-checked by its writer before
 * it was stored): the statement as fresh objects, without re-checking canonical form, schema or
 * digests. Only for entries handed over in memory by the writer that built them; anything read
 * from disk goes through decodeNode.
 */
export function parseOwnEntry(entry: Uint8Array, entryHash: HashRef): FoldedNode {
  const env = parseJsonStrict(entry, 'entry') as { payload: string };
  const statement = parseJsonStrict(fromBase64(env.payload), 'payload') as Statement;
  const kind = kindByType.get(statement.predicateType);
  if (!kind) throw new NodeFormatError('ERR_PREDICATE_TYPE', `unknown predicateType ${statement.predicateType}`);
  return { kind, statement, entryHash };
}

export function parseJsonStrict(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw new NodeFormatError('ERR_NOT_UTF8', `${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new NodeFormatError('ERR_NOT_JSON', `${what} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Decodes and checks one entry: canonical form at both layers (so hashes reproduce), envelope
 * shape, payload type, statement schema and subject digest. Signatures are NOT checked here; which
 * keys count is the verifier's business (trust comes from the trust policy, not the entry).
 */
export function decodeNode(suite: CryptoSuite, entry: Uint8Array): DecodedNode {
  if (entry.length > MAX_ENTRY_BYTES) throw new NodeFormatError('ERR_ENTRY_TOO_LARGE', `entry is ${entry.length} bytes`);
  const raw = parseJsonStrict(entry, 'entry');
  let shaped;
  try {
    shaped = checkEnvelopeShape(raw);
  } catch (e) {
    throw new NodeFormatError('ERR_ENVELOPE_MALFORMED', (e as Error).message);
  }
  if (!equalBytes(utf8(composeEnvelopeJcs(shaped.envelope)), entry)) throw new NodeFormatError('ERR_NOT_CANONICAL', 'entry is not the JCS form of its envelope');
  if (shaped.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new NodeFormatError('ERR_PAYLOAD_TYPE', `payloadType ${shaped.envelope.payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const st = parseJsonStrict(shaped.payload, 'payload') as Statement;
  const kind = typeof st?.predicateType === 'string' ? kindByType.get(st.predicateType) : undefined;
  if (!kind) {
    const t = typeof st?.predicateType === 'string' ? st.predicateType : typeof st?.predicateType;
    throw new NodeFormatError('ERR_PREDICATE_TYPE', `unknown predicateType ${t} (expected ${PREDICATE_BASE}<kind>/v1)`);
  }
  const invalid = statementError(kind, st);
  if (invalid) throw new NodeFormatError('ERR_SCHEMA', invalid);
  // Schema-valid, so only the body (free-form objects such as args) can hold a float.
  const p = st.predicate;
  const bodyJcs = signedJcs(p.body, 'body');
  const statementJcs = composeStatementJcs(st.predicateType, p, bodyJcs, signedJcs(p.parents, 'parents'), st.subject[0].digest.sha256, st.subject[0].name);
  if (!equalBytes(utf8(statementJcs), shaped.payload)) throw new NodeFormatError('ERR_NOT_CANONICAL', 'payload is not the JCS form of its statement');
  const digest = toHex(suite.sha256(utf8(bodyJcs)));
  if (digest !== st.subject[0].digest.sha256) throw new NodeFormatError('ERR_SUBJECT_DIGEST', 'subject digest does not match the predicate body');
  return {
    kind,
    statement: st,
    entry,
    entryHash: hashRef(suite, entry),
    pae: pae(IN_TOTO_PAYLOAD_TYPE, shaped.payload),
    signatures: shaped.sigs,
  };
}

// Builds the generated parts of docs/spec (JSON Schemas and test vectors) deterministically from a
// fixed seed. scripts/gen-vectors.ts writes them; test/kernel/spec-artifacts.test.ts regenerates
// them and compares byte for byte, so the docs cannot drift from the code.
import { createHash } from 'node:crypto';
import { fromBase64, toBase64, toHex } from '../kernel/crypto/bytes.js';
import { jcs, jcsString } from '../kernel/crypto/jcs.js';
import { ALG_COSIGNATURE_V1 } from '../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../kernel/crypto/signing-key.js';
import { addSignatures } from '../kernel/crypto/note.js';
import { encodeNode, type EncodedNode, type HashRef, type ParentRef } from '../kernel/contracts/node.js';
import { dsseEnvelopeSchema, NODE_KINDS, statementSchema, trustEventSchema, type NodeKind } from '../kernel/contracts/schemas.js';
import { signCheckpoint } from '../kernel/proofgraph/checkpoint.js';
import { formatTlogProof } from '../kernel/proofgraph/tlog-proof.js';
import { leafHash, MerkleTree } from '../kernel/proofgraph/merkle.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import { bundleSignatureSchema, policyBundleSchema } from '../kernel/guardian/index.js';
import { delegationTokenSchema, requestAuthSchema } from '../kernel/a2a/schemas.js';
import { a2aVectors } from './a2a-vectors.js';

const pretty = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

export function buildSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of NODE_KINDS) out.set(`${k}.v1.json`, pretty(statementSchema(k)));
  out.set('trust-event.v1.json', pretty(trustEventSchema));
  out.set('dsse-envelope.json', pretty(dsseEnvelopeSchema));
  out.set('policy-bundle.v1.json', pretty(policyBundleSchema));
  out.set('policy-bundle-signature.v1.json', pretty(bundleSignatureSchema));
  out.set('a2a-delegation-token.v1.json', pretty(delegationTokenSchema));
  out.set('a2a-request-auth.v1.json', pretty(requestAuthSchema));
  return out;
}

/** Test keys derived from a public seed phrase: never use them for anything real. */
export function vectorKey(name: string, alg?: number): SigningKey {
  const seed = createHash('sha256').update(`helm-oss test vector key: ${name}`).digest();
  return signingKeyFromSeed(name, seed, nodeSigner, alg);
}

export const VECTOR_ORIGIN = 'helm.mindburn.org/vectors/agent-0';

export function buildVectors(): Map<string, string> {
  const suite = nodeSuite;
  const root = vectorKey('helm-vectors/root');
  const nodeKey = vectorKey('helm-vectors/agent-0/node');
  const logKey = vectorKey(VECTOR_ORIGIN);
  const approver = vectorKey('helm-vectors/approver-alice');
  const witness = vectorKey('helm-vectors/witness-1', ALG_COSIGNATURE_V1);
  const out = new Map<string, string>();
  const keyInfo = (k: SigningKey) => ({ name: k.verifier.name, vkey: k.verifier.vkey, handle: k.verifier.handle, privateKey: k.privateText });
  out.set('keys.json', pretty({ warning: 'TEST KEYS derived from a public seed: never trust them', root: keyInfo(root), node: keyInfo(nodeKey), log: keyInfo(logKey), approver: keyInfo(approver), witness: keyInfo(witness) }));

  const tree = new MerkleTree(suite);
  const nodes: EncodedNode[] = [];
  const lamports = new Map<string, number>();
  const t0 = Date.UTC(2026, 10, 22, 0, 0, 0);
  const add = (kind: NodeKind, body: Record<string, unknown>, parents: HashRef[] = [], extra: SigningKey[] = []): EncodedNode => {
    const prev = nodes.at(-1)?.entryHash ?? null;
    const lamport = 1 + Math.max(0, prev ? lamports.get(prev)! : 0, ...parents.map((p) => lamports.get(p)!));
    const refs: ParentRef[] = parents.map((hash) => ({ hash }));
    const n = encodeNode(
      suite,
      {
        kind,
        subjectName: typeof body.callId === 'string' ? `call/${body.callId}` : `${kind}/${VECTOR_ORIGIN}`,
        predicate: { origin: VECTOR_ORIGIN, index: nodes.length, lamport, prev, parents: refs, time: new Date(t0 + nodes.length * 250).toISOString(), body },
      },
      [nodeKey, ...extra].map((k) => ({ keyid: k.verifier.handle, signer: k })),
    );
    nodes.push(n);
    lamports.set(n.entryHash, lamport);
    tree.appendEntry(n.entry);
    return n;
  };
  const digest = (v: unknown): HashRef => `sha256:${toHex(suite.sha256(jcs(v)))}`;
  const args = { path: '/reports/q3.csv' };
  add('heartbeat', { reason: 'start', intervalUs: 60_000_000, software: 'helm-oss/0.1.0', policyDigest: null });
  const publish = signKeyEvent(suite, { event: 'KEY_PUBLISH', purpose: 'node', origin: VECTOR_ORIGIN, key: nodeKey.verifier.vkey, fromIndex: 0, issuedAt: new Date(t0).toISOString() }, [root, nodeKey]);
  add('trust', { event: publish });
  const intent = add('intent', { surface: 'openai', callId: 'call_01', tool: 'files.read', principal: 'ns/agents/sa/reporter', argsDigest: digest(args), args, model: 'scripted-model' });
  const decision = add('decision', { callId: 'call_01', tool: 'files.read', verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED', ruleIds: ['reports-need-approval'], policyDigest: digest({ bundle: 'example' }), inputDigest: digest({ tool: 'files.read', args }), engine: 'helm-guardian/0.1.0' }, [intent.entryHash]);
  const approval = add('approval', { callId: 'call_01', decision: decision.entryHash, approver: approver.verifier.handle, verdict: 'approve', nonce: 'bm9uY2Utdm90ZS0wMDAx' }, [decision.entryHash], [approver]);
  const effect = add('effect', { callId: 'call_01', tool: 'files.read', status: 'executed', confirmed: true, durationUs: 1250 }, [approval.entryHash]);
  add('result', { callId: 'call_01', tool: 'files.read', status: 'ok', outputDigest: digest({ rows: 3 }) }, [effect.entryHash]);
  add('gap', { from: new Date(t0 + 1750).toISOString(), to: new Date(t0 + 1750).toISOString(), reason: 'store_unavailable', detail: 'example gap: no calls were governed in this window', deniedCalls: 0 });
  add('heartbeat', { reason: 'shutdown', intervalUs: 60_000_000, software: 'helm-oss/0.1.0', policyDigest: null });

  // A root's certification of the log key (purpose log, receipt.md §7, trust-policy.md §1.3).
  const certifyLog = signKeyEvent(suite, { event: 'KEY_PUBLISH', purpose: 'log', origin: VECTOR_ORIGIN, key: logKey.verifier.vkey, fromIndex: 0, issuedAt: new Date(t0).toISOString() }, [root, logKey]);
  out.set('trust/log-key-certification.json', pretty({ description: 'root-signed certification of the log key for its origin, with the log key\'s proof of possession; a policy root line trusts this log key for checkpoints of this origin', signers: [root.verifier.handle, logKey.verifier.handle], envelope: certifyLog, statement: JSON.parse(new TextDecoder().decode(fromBase64(certifyLog.payload))) }));
  nodes.forEach((n, i) => {
    out.set(
      `nodes/${String(i).padStart(2, '0')}-${n.kind}.json`,
      pretty({
        kind: n.kind,
        index: i,
        statement: n.statement,
        payloadJcs: jcsString(n.statement),
        envelope: n.envelope,
        entry: new TextDecoder().decode(n.entry),
        entryHash: n.entryHash,
        leafHash: toHex(leafHash(suite, n.entry)),
      }),
    );
  });
  out.set('log/entries.jsonl', nodes.map((n) => new TextDecoder().decode(n.entry) + '\n').join(''));
  const cpSmall = signCheckpoint({ origin: VECTOR_ORIGIN, size: 4, root: tree.root(4), extensions: [] }, logKey);
  const cp = signCheckpoint({ origin: VECTOR_ORIGIN, size: nodes.length, root: tree.root(), extensions: [] }, logKey);
  out.set('log/checkpoint-4.note', cpSmall);
  out.set(`log/checkpoint-${nodes.length}.note`, cp);
  out.set(`log/checkpoint-${nodes.length}.witnessed.note`, addSignatures(cp, [witness], 1795305600n));
  out.set(`log/consistency-4-${nodes.length}.txt`, tree.consistencyProof(4, nodes.length).map((h) => toBase64(h) + '\n').join(''));
  out.set('log/decision-03.tlog-proof', formatTlogProof({ index: 3, proof: tree.inclusionProof(3), checkpoint: cp }));
  out.set('trust-policy.txt', [
    '# Trust policy for the test vectors (c2sp.org/tlog-policy plus HELM root/exporter lines)',
    `log ${logKey.verifier.vkey}`,
    `witness w1 ${witness.verifier.vkey}`,
    'quorum none',
    `root ${root.verifier.vkey}`,
    '',
  ].join('\n'));

  // A sandboxed call's RESULT (docs/sandbox.md): its own one-node example, outside the log above.
  const computeResult = encodeNode(
    suite,
    {
      kind: 'result',
      subjectName: 'call/call_02',
      predicate: {
        origin: VECTOR_ORIGIN, index: 0, lamport: 1, prev: null, parents: [], time: new Date(t0).toISOString(),
        body: { callId: 'call_02', tool: 'csv2json', status: 'error', outputDigest: digest({ reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED' }), reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED', compute: { moduleSha256: digest('module'), gas: 50_000_000, wallMs: 212, peakMemoryPages: 2, outputBytes: 0, outputDigest: `sha256:${toHex(suite.sha256(new Uint8Array()))}` } },
      },
    },
    [{ keyid: nodeKey.verifier.handle, signer: nodeKey }],
  );
  out.set('examples/result-compute.json', pretty({ kind: 'result', statement: computeResult.statement, payloadJcs: jcsString(computeResult.statement), envelope: computeResult.envelope, entryHash: computeResult.entryHash }));

  // Strings outside ASCII, up to characters outside the BMP (2 UTF-16 units, 4 UTF-8 bytes): the
  // PAE counts the payload's bytes. An agent chooses call ids, tool names and arguments.
  // Keys sort by UTF-16 code units (RFC 8785 §3.2.3): '😀' (D83D DE00) before '\ue000', unlike code-point order.
  const unicodeArgs = { path: '/reports/café-€-😀.csv', '\ue000': 'private use', '😀': 'astral key', 'é': 1 };
  const unicodeIntent = encodeNode(
    suite,
    {
      kind: 'intent',
      subjectName: 'call/call_😀_01',
      predicate: {
        origin: VECTOR_ORIGIN, index: 0, lamport: 1, prev: null, parents: [], time: new Date(t0).toISOString(),
        body: { surface: 'openai', callId: 'call_😀_01', tool: 'files.read', principal: 'ns/agents/sa/résumé-𝄞', argsDigest: digest(unicodeArgs), args: unicodeArgs, model: 'scripted-model' },
      },
    },
    [{ keyid: nodeKey.verifier.handle, signer: nodeKey }],
  );
  out.set('examples/intent-unicode.json', pretty({ kind: 'intent', statement: unicodeIntent.statement, payloadJcs: jcsString(unicodeIntent.statement), envelope: unicodeIntent.envelope, entryHash: unicodeIntent.entryHash }));

  // Negative vectors: each must be rejected with the given code by decodeNode or signature checks.
  const good = JSON.parse(new TextDecoder().decode(nodes[3]!.entry));
  const payload = JSON.parse(Buffer.from(good.payload, 'base64').toString('utf8'));
  const neg = (why: string, code: string, entry: string) => ({ why, expect: code, entry });
  const flippedSig = { ...good, signatures: [{ ...good.signatures[0], sig: toBase64(Uint8Array.from(Buffer.from(good.signatures[0].sig, 'base64'), (b, i) => (i === 0 ? b ^ 1 : b))) }] };
  const changedBody = { ...payload, predicate: { ...payload.predicate, body: { ...payload.predicate.body, verdict: 'ALLOW' } } };
  const floatLamport = JSON.stringify({ ...good, payload: toBase64(new TextEncoder().encode(jcsString(payload).replace(`"lamport":${payload.predicate.lamport}`, `"lamport":${payload.predicate.lamport}.5`))) });
  out.set('negative.json', pretty([
    neg('envelope not in canonical form (extra white space)', 'ERR_NOT_CANONICAL', JSON.stringify(good, null, 1)),
    neg('signature byte flipped', 'ERR_SIGNATURE', jcsString(flippedSig)),
    neg('verdict changed without updating the subject digest', 'ERR_SUBJECT_DIGEST', jcsString({ ...good, payload: toBase64(jcs(changedBody)) })),
    neg('unknown predicate type', 'ERR_PREDICATE_TYPE', jcsString({ ...good, payload: toBase64(jcs({ ...payload, predicateType: 'https://example.com/other/v1' })) })),
    neg('float in a signed field', 'ERR_SCHEMA', jcsString(JSON.parse(floatLamport))),
    neg('extra envelope field', 'ERR_ENVELOPE_MALFORMED', jcsString({ ...good, extra: 1 })),
  ]));
  for (const [name, text] of a2aVectors(vectorKey)) out.set(name, text);
  return out;
}

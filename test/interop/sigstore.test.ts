// INTEROP I4 (../shared/design/evidence-format.md): a ProofGraph node is a plain DSSE envelope, so it
// can be carried unchanged in a Sigstore bundle v0.3 (public-key hint + dsseEnvelope, no re-signing)
// and verified by Sigstore's own verifier, @sigstore/verify, with the node key as trust material.
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier, VerificationError } from '@sigstore/verify';
import { fromBase64, toBase64 } from '../../kernel/crypto/bytes.js';
import { jcs } from '../../kernel/crypto/jcs.js';
import { nodeSigner, nodeSuite, spkiDer } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import { decodeNode, encodeNode, type EncodedNode } from '../../kernel/contracts/node.js';
import type { DsseEnvelope } from '../../kernel/contracts/dsse.js';

const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
// PublicKeyDetails.PKIX_ED25519 in sigstore's protobuf-specs (the keyLocator only reads rawBytes).
const PKIX_ED25519 = 7;

const signer = signingKeyFromSeed('helm.example/node/sidecar-a', new Uint8Array(32).fill(41), nodeSigner);
const intruder = signingKeyFromSeed('helm.example/node/sidecar-a', new Uint8Array(32).fill(42), nodeSigner);

function heartbeat(): EncodedNode {
  return encodeNode(
    nodeSuite,
    {
      kind: 'heartbeat',
      subjectName: 'helm.example/log/sidecar-a',
      predicate: {
        origin: 'helm.example/log/sidecar-a',
        index: 0,
        lamport: 1,
        prev: null,
        parents: [],
        time: '2026-11-22T00:00:00.000Z',
        body: { reason: 'start', intervalUs: 60_000_000, software: 'helm-oss/0.1.0' },
      },
    },
    [{ keyid: signer.verifier.handle, signer }],
  );
}

function toBundleJson(envelope: DsseEnvelope, hint: string) {
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: { publicKey: { hint }, tlogEntries: [] },
    dsseEnvelope: envelope,
  };
}

type TrustedRoot = Parameters<typeof toTrustMaterial>[0];
type Keys = Exclude<Parameters<typeof toTrustMaterial>[1], undefined | ((hint: string) => unknown)>;

function verifierTrusting(keys: Record<string, SigningKey>): Verifier {
  const root: TrustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
  const material: Keys = {};
  for (const [hint, k] of Object.entries(keys)) material[hint] = { rawBytes: spkiDer(k.publicKey), keyDetails: PKIX_ED25519 };
  // No Rekor, CT log or timestamp authority: trust comes from the key alone, as in our packs.
  return new Verifier(toTrustMaterial(root, material), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
}

function verifyBundle(json: unknown, verifier: Verifier) {
  return verifier.verify(toSignedEntity(bundleFromJSON(json)));
}

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof VerificationError ? e.code : `${(e as Error).name}: ${(e as Error).message}`;
  }
  return undefined;
}

describe('INTEROP I4: a ProofGraph node as a Sigstore bundle v0.3, verified by @sigstore/verify', () => {
  const node = heartbeat();
  const json = toBundleJson(node.envelope, signer.verifier.handle);

  it('wraps the entry byte for byte: the bundle envelope is the log entry', () => {
    expect(decodeNode(nodeSuite, node.entry).kind).toBe('heartbeat');
    const bundle = bundleFromJSON(json);
    const back = bundleToJSON(bundle);
    expect(back.mediaType).toBe(BUNDLE_V03);
    expect(back.verificationMaterial.publicKey?.hint).toBe(signer.verifier.handle);
    expect(Buffer.from(jcs(back.dsseEnvelope)).equals(Buffer.from(node.entry))).toBe(true);
  });

  it('verifies with the node key as trust material keyed by the hint', () => {
    const result = verifyBundle(json, verifierTrusting({ [signer.verifier.handle]: signer }));
    const spki = result.key.export({ format: 'der', type: 'spki' });
    expect(Buffer.from(spki).equals(spkiDer(signer.publicKey))).toBe(true);
  });

  it('rejects a tampered payload', () => {
    const payload = fromBase64(node.envelope.payload);
    const i = Buffer.from(payload).indexOf('helm-oss/0.1.0') + 'helm-oss/0.1.'.length;
    payload[i] = '1'.charCodeAt(0);
    expect(Buffer.from(payload).toString('utf8')).toContain('"software":"helm-oss/0.1.1"');
    const tampered = toBundleJson({ ...node.envelope, payload: toBase64(payload) }, signer.verifier.handle);
    expect(errorCode(() => verifyBundle(tampered, verifierTrusting({ [signer.verifier.handle]: signer })))).toBe('SIGNATURE_ERROR');
  });

  it('rejects a tampered payload type (PAE covers it)', () => {
    const tampered = toBundleJson({ ...node.envelope, payloadType: 'application/json' }, signer.verifier.handle);
    expect(errorCode(() => verifyBundle(tampered, verifierTrusting({ [signer.verifier.handle]: signer })))).toBe('SIGNATURE_ERROR');
  });

  it('rejects when the hint maps to another key, and when the hint is unknown', () => {
    expect(errorCode(() => verifyBundle(json, verifierTrusting({ [signer.verifier.handle]: intruder })))).toBe('SIGNATURE_ERROR');
    expect(errorCode(() => verifyBundle(json, verifierTrusting({ 'someone-else+00000000': signer })))).toBe('PUBLIC_KEY_ERROR');
  });
});

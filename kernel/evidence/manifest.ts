// MANIFEST.json and its DSSE signature (docs/spec/evidence-pack.md §Manifest). The manifest lists
// every other file with its SHA-256 and size, and every log window with the checkpoint it ends at;
// the exporter signs the exact manifest bytes. Portable.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import * as compiledManifest from './manifest-validator.gen.js';
import { equalBytes, fromBase64, toBase64, toHex } from '../crypto/bytes.js';
import { jcs } from '../crypto/jcs.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { checkEnvelopeShape, pae, signEnvelope } from '../contracts/dsse.js';
import { parseJsonStrict } from '../contracts/node.js';
import type { PolicyKey, TrustPolicy } from './trust-policy.js';
import { compareBytewise, type TarFile } from './tar.js';

export const PACK_FORMAT = 'helm-evidence-pack/v1';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.helm.evidence-manifest+json';

export interface ManifestFile {
  path: string;
  /** Lowercase hex SHA-256 of the file bytes. */
  sha256: string;
  size: number;
}

export interface ManifestLog {
  /** Directory under logs/: the store's writer id. */
  dir: string;
  origin: string;
  /** First index in the pack. */
  from: number;
  /** Tree size of the checkpoint the window ends at (entries [from, size) are in the pack). */
  size: number;
  /** Base64 root hash of that checkpoint. */
  root: string;
}

export interface Manifest {
  format: typeof PACK_FORMAT;
  files: ManifestFile[];
  logs: ManifestLog[];
  /** The time range the exporter was asked for (RFC 3339 UTC, milliseconds); empty for everything. */
  selection: { from?: string; to?: string };
}

export class ManifestError extends Error {
  constructor(
    readonly code:
      | 'ERR_MANIFEST_NOT_JSON'
      | 'ERR_MANIFEST_NOT_CANONICAL'
      | 'ERR_MANIFEST_SCHEMA'
      | 'ERR_MANIFEST_ORDER'
      | 'ERR_MANIFEST_SIGNATURE_MALFORMED'
      | 'ERR_MANIFEST_BAD_SIGNATURE'
      | 'ERR_MANIFEST_UNTRUSTED',
    message: string,
  ) {
    super(message);
  }
}

const uint = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const time = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' } as const;

export const manifestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.mindburn.org/schemas/evidence-pack/manifest.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['format', 'files', 'logs', 'selection'],
  properties: {
    format: { const: PACK_FORMAT },
    files: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'sha256', 'size'],
        properties: { path: { type: 'string', minLength: 1, maxLength: 256 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, size: uint },
      },
    },
    logs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['dir', 'origin', 'from', 'size', 'root'],
        properties: {
          dir: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
          origin: { type: 'string', minLength: 1, maxLength: 512 },
          from: uint,
          size: uint,
          root: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
        },
      },
    },
    selection: { type: 'object', additionalProperties: false, properties: { from: time, to: time } },
  },
} as const;

// Compiled at build time from manifestSchema (scripts/validators.ts).
const validate = compiledManifest.validate as ValidateFunction;

export function buildManifest(suite: CryptoSuite, files: readonly TarFile[], logs: readonly ManifestLog[], selection: Manifest['selection']): { manifest: Manifest; bytes: Uint8Array } {
  const manifest: Manifest = {
    format: PACK_FORMAT,
    files: [...files]
      .sort((a, b) => compareBytewise(a.path, b.path))
      .map((f) => ({ path: f.path, sha256: toHex(suite.sha256(f.data)), size: f.data.length })),
    logs: [...logs].sort((a, b) => compareBytewise(a.dir, b.dir)),
    selection,
  };
  return { manifest, bytes: jcs(manifest) };
}

/** Parses MANIFEST.json: canonical JCS, the schema, strictly sorted unique paths and dirs, from <= size. */
export function parseManifest(bytes: Uint8Array): Manifest {
  let v: unknown;
  try {
    v = parseJsonStrict(bytes, 'MANIFEST.json');
  } catch (e) {
    throw new ManifestError('ERR_MANIFEST_NOT_JSON', (e as Error).message);
  }
  if (!validate(v)) {
    const err = validate.errors?.[0];
    throw new ManifestError('ERR_MANIFEST_SCHEMA', `manifest ${err?.instancePath || '/'} ${err?.message ?? 'is invalid'}`);
  }
  if (!equalBytes(jcs(v), bytes)) throw new ManifestError('ERR_MANIFEST_NOT_CANONICAL', 'MANIFEST.json is not the JCS form of its content');
  const m = v as Manifest;
  for (let i = 1; i < m.files.length; i++) {
    if (compareBytewise(m.files[i - 1]!.path, m.files[i]!.path) >= 0) throw new ManifestError('ERR_MANIFEST_ORDER', `files are not strictly sorted by path at ${m.files[i]!.path}`);
  }
  for (let i = 1; i < m.logs.length; i++) {
    if (compareBytewise(m.logs[i - 1]!.dir, m.logs[i]!.dir) >= 0) throw new ManifestError('ERR_MANIFEST_ORDER', `logs are not strictly sorted by dir at ${m.logs[i]!.dir}`);
  }
  for (const l of m.logs) {
    if (l.from > l.size) throw new ManifestError('ERR_MANIFEST_SCHEMA', `log ${l.dir}: from ${l.from} is after size ${l.size}`);
    if (l.dir === '.' || l.dir === '..') throw new ManifestError('ERR_MANIFEST_SCHEMA', `log dir ${l.dir} is not allowed`);
    try {
      fromBase64(l.root);
    } catch (e) {
      throw new ManifestError('ERR_MANIFEST_SCHEMA', `log ${l.dir}: root: ${(e as Error).message}`);
    }
  }
  return m;
}

/** MANIFEST.dsse.json: the JCS of a DSSE envelope over the exact manifest bytes. */
export function signManifest(manifestBytes: Uint8Array, exporter: SigningKey): Uint8Array {
  return jcs(signEnvelope(MANIFEST_PAYLOAD_TYPE, manifestBytes, [{ keyid: exporter.verifier.handle, signer: exporter }]));
}

export interface ManifestSigner {
  role: 'exporter' | 'log' | 'root';
  key: PolicyKey;
}

/** Policy keys that may sign a manifest: exporters, then log keys, then the root key. */
function manifestKeys(policy: TrustPolicy): ManifestSigner[] {
  return [
    ...policy.exporters.map((key) => ({ role: 'exporter' as const, key })),
    ...policy.logs.map((key) => ({ role: 'log' as const, key })),
    ...(policy.root ? [{ role: 'root' as const, key: policy.root }] : []),
  ];
}

/**
 * Checks the manifest signature against the trust policy. Signatures by keys the policy does not
 * name are ignored; one by a policy key that does not verify is tampering and fails; at least one
 * must verify.
 */
export function verifyManifestSignature(suite: CryptoSuite, dsseBytes: Uint8Array, manifestBytes: Uint8Array, policy: TrustPolicy): ManifestSigner[] {
  let shaped;
  try {
    const raw = parseJsonStrict(dsseBytes, 'MANIFEST.dsse.json');
    shaped = checkEnvelopeShape(raw);
    if (!equalBytes(jcs(raw), dsseBytes)) throw new Error('MANIFEST.dsse.json is not the JCS form of its envelope');
  } catch (e) {
    throw new ManifestError('ERR_MANIFEST_SIGNATURE_MALFORMED', (e as Error).message);
  }
  if (shaped.envelope.payloadType !== MANIFEST_PAYLOAD_TYPE) {
    throw new ManifestError('ERR_MANIFEST_SIGNATURE_MALFORMED', `payloadType ${shaped.envelope.payloadType} is not ${MANIFEST_PAYLOAD_TYPE}`);
  }
  if (!equalBytes(shaped.payload, manifestBytes)) {
    throw new ManifestError('ERR_MANIFEST_BAD_SIGNATURE', 'MANIFEST.json is not the payload its signature covers: the manifest was changed after it was signed');
  }
  const msg = pae(MANIFEST_PAYLOAD_TYPE, manifestBytes);
  const verified: ManifestSigner[] = [];
  const candidates = manifestKeys(policy);
  for (const s of shaped.sigs) {
    const matches = candidates.filter((c) => c.key.key.handle === s.keyid);
    if (matches.length === 0) continue;
    if (!suite.verifyEd25519(matches[0]!.key.key.publicKey, msg, s.sig)) {
      throw new ManifestError('ERR_MANIFEST_BAD_SIGNATURE', `manifest signature by ${s.keyid} (a ${matches.map((m) => m.role).join('/')} key of the trust policy) does not verify`);
    }
    verified.push(...matches.filter((m) => !verified.some((v) => v.key === m.key)));
  }
  if (verified.length === 0) {
    const by = shaped.sigs.map((s) => s.keyid).join(', ');
    throw new ManifestError('ERR_MANIFEST_UNTRUSTED', `manifest is signed only by keys the trust policy does not name (${by})`);
  }
  return verified;
}

export function rootOf(log: ManifestLog): Uint8Array {
  return fromBase64(log.root);
}

export function encodeRoot(root: Uint8Array): string {
  return toBase64(root);
}

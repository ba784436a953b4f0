// Bundle text in (YAML 1.2 or JSON, which is YAML), parsed document out; the canonical form is
// the JCS of that document in the decision profile (signed-payload profile plus exact decimals),
// and contentHash hashes it.
import { parseDocument } from 'yaml';
import { toHex, utf8 } from '../crypto/bytes.js';
import { parseStrictJson } from '../json/parse.js';
import { jcsDecisionString } from './decision-jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';

export type HashRef = `sha256:${string}`;

export class BundleError extends Error {
  constructor(
    readonly code: 'ERR_BUNDLE_PARSE' | 'ERR_BUNDLE_PROFILE' | 'ERR_BUNDLE_SCHEMA' | 'ERR_BUNDLE_LINT' | 'ERR_COMPOSE',
    message: string,
    readonly path = '',
  ) {
    super(path ? `${message} (at ${path})` : message);
  }
}

/** Bundles are configuration, not data: a generous bound that still stops alias bombs. */
export const MAX_BUNDLE_TEXT = 4 * 1024 * 1024;

/**
 * Parses YAML or JSON strictly: duplicate keys, unresolved tags and warnings are errors, and the
 * result must be in the decision profile (safe integers and exact decimals, §1), so that two parsers that accept
 * a text agree on its canonical bytes.
 */
export function parseBundleText(text: string): unknown {
  if (text.length > MAX_BUNDLE_TEXT) throw new BundleError('ERR_BUNDLE_PARSE', `bundle text is ${text.length} characters; the limit is ${MAX_BUNDLE_TEXT}`);
  // JSON (the operator's bundle.json) is read by the strict JSON reader: the YAML parser was most
  // of a bundle load. Anything it refuses gets the YAML parser's own verdict and message.
  const json = text.trimStart().startsWith('{') ? parseStrictJson(text, { maxLength: MAX_BUNDLE_TEXT }) : null;
  if (json?.ok && yamlSafeKeys(json.value)) {
    checkProfile(json.value);
    return json.value;
  }
  return parseBundleYaml(text);
}

/** YAML limits an implicit key to 1024 characters, JSON does not: such a text takes the YAML path. */
function yamlSafeKeys(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(yamlSafeKeys);
  if (typeof v !== 'object' || v === null) return true;
  return Object.entries(v).every(([k, x]) => k.length <= 1024 && yamlSafeKeys(x));
}

/** The YAML 1.2 (core schema) path of parseBundleText. */
export function parseBundleYaml(text: string): unknown {
  if (text.length > MAX_BUNDLE_TEXT) throw new BundleError('ERR_BUNDLE_PARSE', `bundle text is ${text.length} characters; the limit is ${MAX_BUNDLE_TEXT}`);
  const doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, merge: false, prettyErrors: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new BundleError('ERR_BUNDLE_PARSE', `bundle text: ${problem.message.split('\n')[0]}`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 64 });
  } catch (e) {
    throw new BundleError('ERR_BUNDLE_PARSE', `bundle text: ${(e as Error).message}`);
  }
  checkProfile(value);
  return value;
}

export function checkProfile(value: unknown): void {
  try {
    jcsDecisionString(value);
  } catch (e) {
    throw new BundleError('ERR_BUNDLE_PROFILE', `bundle is not in the decision profile: ${(e as Error).message}`);
  }
}

/** JCS bytes of a bundle document (throws BundleError outside the decision profile). */
export function canonicalBundleBytes(doc: unknown): Uint8Array {
  try {
    return utf8(jcsDecisionString(doc));
  } catch (e) {
    throw new BundleError('ERR_BUNDLE_PROFILE', `bundle is not in the decision profile: ${(e as Error).message}`);
  }
}

/** contentHash = "sha256:" + hex(SHA-256(JCS(bundle))). */
export function bundleContentHash(doc: unknown, suite: CryptoSuite): HashRef {
  return `sha256:${toHex(suite.sha256(canonicalBundleBytes(doc)))}`;
}

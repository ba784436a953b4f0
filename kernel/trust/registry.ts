// Event-sourced key registry. Folding events uses only min() over positions, so the result does not
// depend on the order events are applied in: a verifier can collect them from several logs.
import { parseVerifierKey, type VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { openKeyEvent, TrustError, type KeyEvent } from './events.js';

interface KeyRecord {
  key: VerifierKey;
  origin: string;
  validFrom: number;
  /** First index at which a rotation retired this key (exclusive end), or null. */
  rotatedAt: number | null;
  /** First index from which the key is revoked, or null. */
  revokedFrom: number | null;
  sources: string[];
}

export type Resolution =
  | { ok: true; key: VerifierKey; source: string }
  | { ok: false; code: 'KEY_UNKNOWN' | 'KEY_NOT_YET_VALID' | 'KEY_ROTATED' | 'KEY_REVOKED' | 'NO_ROOT'; reason: string };

const minOr = (a: number | null, b: number): number => (a === null ? b : Math.min(a, b));

/** A log key the root certified for an origin (purpose log): it may sign that origin's checkpoints. */
export interface CertifiedLogKey {
  key: VerifierKey;
  origin: string;
  source: string;
}

export class TrustRegistry {
  private readonly records = new Map<string, KeyRecord>();
  private readonly logs = new Map<string, CertifiedLogKey>();

  constructor(private readonly suite: CryptoSuite, readonly root: VerifierKey | null) {}

  private record(origin: string, key: VerifierKey, where: string): KeyRecord {
    const id = `${origin}\n${key.handle}`;
    let r = this.records.get(id);
    if (!r) {
      r = { key, origin, validFrom: Number.MAX_SAFE_INTEGER, rotatedAt: null, revokedFrom: null, sources: [] };
      this.records.set(id, r);
    }
    r.sources.push(where);
    return r;
  }

  /** Verifies a root-signed event and folds it in. `where` says where it was found, for reports. */
  apply(envelope: unknown, where: string): KeyEvent {
    if (!this.root) throw new TrustError('ERR_TRUST_NO_ROOT', 'the trust policy names no root key, so no trust event can be accepted');
    const ev = openKeyEvent(this.suite, envelope, this.root);
    const key = parseVerifierKey(ev.key);
    // Log keys live apart: a key certified to sign checkpoints never signs nodes, and vice versa.
    if (ev.purpose === 'log') {
      const id = `${ev.origin}\n${key.handle}`;
      if (!this.logs.has(id)) this.logs.set(id, { key, origin: ev.origin, source: `${ev.event} (log key) ${where}` });
      return ev;
    }
    switch (ev.event) {
      case 'KEY_PUBLISH': {
        const r = this.record(ev.origin, key, `${ev.event} ${where}`);
        r.validFrom = Math.min(r.validFrom, ev.fromIndex);
        break;
      }
      case 'KEY_ROTATE': {
        const old = this.record(ev.origin, key, `${ev.event} (retired) ${where}`);
        old.rotatedAt = minOr(old.rotatedAt, ev.fromIndex);
        const next = this.record(ev.origin, parseVerifierKey(ev.newKey!), `${ev.event} (new) ${where}`);
        next.validFrom = Math.min(next.validFrom, ev.fromIndex);
        break;
      }
      case 'KEY_REVOKE': {
        const r = this.record(ev.origin, key, `${ev.event} ${where}`);
        r.revokedFrom = minOr(r.revokedFrom, ev.fromIndex);
        break;
      }
    }
    return ev;
  }

  /** Is the key with this DSSE keyid (name+keyid handle) valid for a node at (origin, index)? */
  resolve(handle: string, origin: string, index: number): Resolution {
    if (!this.root) return { ok: false, code: 'NO_ROOT', reason: 'no root key in the trust policy' };
    const r = this.records.get(`${origin}\n${handle}`);
    if (!r || r.validFrom === Number.MAX_SAFE_INTEGER) {
      return { ok: false, code: 'KEY_UNKNOWN', reason: `key ${handle} was never published by the root key for ${origin}` };
    }
    if (r.revokedFrom !== null && index >= r.revokedFrom) {
      return { ok: false, code: 'KEY_REVOKED', reason: `key ${handle} is revoked for ${origin} from index ${r.revokedFrom}` };
    }
    if (r.rotatedAt !== null && index >= r.rotatedAt) {
      return { ok: false, code: 'KEY_ROTATED', reason: `key ${handle} was rotated out of ${origin} at index ${r.rotatedAt}` };
    }
    if (index < r.validFrom) {
      return { ok: false, code: 'KEY_NOT_YET_VALID', reason: `key ${handle} is valid for ${origin} only from index ${r.validFrom}` };
    }
    return { ok: true, key: r.key, source: r.sources.join('; ') };
  }

  /** The log keys the root certified, sorted by origin then handle. */
  logKeys(): CertifiedLogKey[] {
    return [...this.logs.values()].sort((a, b) => (a.origin + a.key.handle < b.origin + b.key.handle ? -1 : 1));
  }

  /** Every key the registry knows, with its validity, for reports. */
  keys(): Array<{ handle: string; origin: string; validFrom: number | null; rotatedAt: number | null; revokedFrom: number | null; sources: string[] }> {
    return [...this.records.values()]
      .map((r) => ({
        handle: r.key.handle,
        origin: r.origin,
        validFrom: r.validFrom === Number.MAX_SAFE_INTEGER ? null : r.validFrom,
        rotatedAt: r.rotatedAt,
        revokedFrom: r.revokedFrom,
        sources: [...r.sources],
      }))
      .sort((a, b) => (a.origin + a.handle < b.origin + b.handle ? -1 : 1));
  }
}

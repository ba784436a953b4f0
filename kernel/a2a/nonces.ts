// Replay protection for signed requests: a nonce is accepted once while its request could still be
// fresh. The store is injected (the sidecar's is in memory); time is passed in, never read here.

export interface NonceStore {
  /** True when (caller, nonce) was already seen; otherwise remembers it until `expiresAtMs`. */
  seen(caller: string, nonce: string, expiresAtMs: number, nowMs: number): boolean;
}

/**
 * Bounded: past `max` live entries the oldest is dropped early. A dropped nonce is still refused
 * once its timestamp leaves the freshness window, so keep `max` above the calls per window.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly entries = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  seen(caller: string, nonce: string, expiresAtMs: number, nowMs: number): boolean {
    const key = `${caller}\n${nonce}`;
    const until = this.entries.get(key);
    if (until !== undefined && until > nowMs) return true;
    for (const [k, t] of this.entries) {
      if (t > nowMs && this.entries.size < this.max) break;
      this.entries.delete(k);
    }
    this.entries.delete(key);
    this.entries.set(key, expiresAtMs);
    return false;
  }

  get size(): number {
    return this.entries.size;
  }
}

// Replay protection for signed requests: a nonce is accepted once while its request could still be
// fresh. The store is injected (the sidecar's is in memory); time is passed in, never read here.

export interface NonceStore {
  /** True when (caller, nonce) was already seen; otherwise remembers it until `expiresAtMs`. */
  seen(caller: string, nonce: string, expiresAtMs: number, nowMs: number): boolean;
}

/**
 * Bounded without forgetting: expired entries are dropped, but a live one never is (a dropped nonce
 * could be replayed while its request is still fresh). With `max` live entries a new nonce is
 * refused as if seen (fail closed) until some expire; keep `max` above the calls per freshness window.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly entries = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  seen(caller: string, nonce: string, expiresAtMs: number, nowMs: number): boolean {
    const key = `${caller}\n${nonce}`;
    const until = this.entries.get(key);
    if (until !== undefined && until > nowMs) return true;
    // Insertion order is close to expiry order (each expiry is its request's time plus the window).
    for (const [k, t] of this.entries) {
      if (t > nowMs) break;
      this.entries.delete(k);
    }
    if (this.entries.size >= this.max) {
      for (const [k, t] of this.entries) if (t <= nowMs) this.entries.delete(k);
      if (this.entries.size >= this.max) return true;
    }
    this.entries.delete(key);
    this.entries.set(key, expiresAtMs);
    return false;
  }

  get size(): number {
    return this.entries.size;
  }
}

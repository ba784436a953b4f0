// A Map with a cap: past it, the oldest entries (insertion order) that `evictable` allows are
// dropped on the next set. The PEP's per-call memory (decisions, effects) is held in these so a
// long-running sidecar's memory stays bounded; what is dropped is only forgotten in memory (it
// stays in the log), and a late report about it is refused as unknown (fail closed).
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(
    readonly cap: number,
    private readonly evictable: (v: V) => boolean = () => true,
  ) {
    super();
  }

  override set(k: K, v: V): this {
    super.set(k, v);
    if (this.size > this.cap) this.trim();
    return this;
  }

  private trim(): void {
    // Entries that may not go yet (an append in progress) are skipped, not waited for; the scan
    // is bounded so a run of them cannot make every set() slow.
    let scanned = 0;
    for (const [k, v] of this) {
      if (this.size <= this.cap || scanned++ > 1000) return;
      if (this.evictable(v)) this.delete(k);
    }
  }
}

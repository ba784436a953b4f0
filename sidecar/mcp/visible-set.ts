// notifications/tools/list_changed when what a client may see changes without any upstream saying
// so: a bundle reload that grants, withholds or re-pins tools, or a pinned tool withheld because its
// definition drifted. The visible set (published names, definitions and governance metadata) is
// fingerprinted at every governed listing; a changed fingerprint is announced to every connection
// that can receive notifications (./hub.ts). A policy put in force is noticed by identity on a short
// timer (the PEP has no change event) and listed at once, so clients hear of it without listing.
import type { GatewayCore } from './core.js';
import type { GovernedListing } from './list.js';

export class VisibleSet {
  private fingerprint: string | null = null;
  private policy: unknown;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    private readonly core: GatewayCore,
    private readonly list: () => Promise<GovernedListing>,
  ) {
    this.policy = core.pep.policy;
  }

  /** Records a listing; announces the change when its visible set differs from the last one. */
  observe(listing: GovernedListing): void {
    const next = JSON.stringify(listing.tools.map((t) => t.tool));
    const changed = this.fingerprint !== null && next !== this.fingerprint;
    this.fingerprint = next;
    if (changed) this.core.hub.toolsChanged();
  }

  /** Watches for a policy put in force (bundle reload) every `everyMs`. */
  watch(everyMs: number): void {
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const p = this.core.pep.policy;
    if (p === this.policy || this.checking) return;
    this.policy = p;
    this.checking = true;
    try {
      // Nothing listed yet: nothing to compare with, so the change is announced as it may be one.
      if (this.fingerprint === null) this.core.hub.toolsChanged();
      this.observe(await this.list());
    } catch {
      // The next listing (a client's, or the next reload) compares again.
    } finally {
      this.checking = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

// The upstream tools under their published names, as last listed. tools/list always lists the
// upstreams again (a changed definition must be seen before a model reads it); tools/call uses the
// last listing unless an upstream changed since (reconnect, list_changed) or it is older than
// maxAgeMs. An upstream that is not ready contributes nothing: its tools fail closed.
import type { Tool } from '@modelcontextprotocol/client';
import { definitionHash } from './definition.js';
import type { Naming } from './names.js';
import type { Upstream } from './upstream.js';

export interface CatalogEntry {
  /** The published name (`<upstream>__<tool>`, or the tool's own name with `own` naming): the bundle's tool name. */
  readonly name: string;
  readonly upstream: Upstream;
  /** The upstream's definition as listed (its own name). */
  readonly tool: Tool;
  readonly definitionHash: string;
}

export interface Listing {
  readonly entries: ReadonlyMap<string, CatalogEntry>;
  /** Upstreams that could not be listed, with the reason. */
  readonly unavailable: ReadonlyArray<{ upstream: string; error: string }>;
  /** Published names that more than one listed tool maps to: none of them is offered. */
  readonly collisions: readonly string[];
  readonly at: number;
}

export class Catalog {
  private last: Listing | null = null;
  private stale = true;
  private inflight: Promise<Listing> | null = null;

  constructor(
    readonly upstreams: readonly Upstream[],
    readonly naming: Naming,
    private readonly maxAgeMs = 30_000,
  ) {}

  /** Waits for upstreams still making their first connection (one that is down is not waited for). */
  async settled(): Promise<void> {
    await Promise.all(this.upstreams.filter((u) => u.state === 'starting').map((u) => u.start()));
  }

  /** Marks the listing stale (an upstream connected, dropped or announced new tools). */
  invalidate(): void {
    this.stale = true;
  }

  /** Lists every upstream now; concurrent callers share one round of upstream requests. */
  refresh(): Promise<Listing> {
    if (this.inflight) return this.inflight;
    this.stale = false;
    const p = this.listAll().finally(() => {
      if (this.inflight === p) this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  /** The last listing if it is current enough for a call, else a new one. */
  async current(): Promise<Listing> {
    const l = this.last;
    if (l !== null && !this.stale && performance.now() - l.at < this.maxAgeMs) return l;
    return this.refresh();
  }

  private async listAll(): Promise<Listing> {
    const entries = new Map<string, CatalogEntry>();
    const unavailable: Array<{ upstream: string; error: string }> = [];
    const lists = await Promise.all(
      this.upstreams.map(async (u) => {
        // A first connection in progress is worth waiting for; a down upstream waits for its backoff.
        if (u.state === 'starting') await u.start();
        try {
          return { u, tools: await u.listTools() };
        } catch (e) {
          unavailable.push({ upstream: u.name, error: (e as Error).message });
          return { u, tools: [] as Tool[] };
        }
      }),
    );
    const collisions = new Set<string>();
    for (const { u, tools } of lists) {
      for (const tool of tools) {
        const name = this.naming.publish(u.name, tool.name);
        if (name === null) continue;
        // Two tools behind one name: which one a call reaches would be a guess, so neither is offered.
        if (entries.has(name) || collisions.has(name)) {
          collisions.add(name);
          entries.delete(name);
          continue;
        }
        entries.set(name, { name, upstream: u, tool, definitionHash: definitionHash(tool) });
      }
    }
    const listing: Listing = { entries, unavailable, collisions: [...collisions], at: performance.now() };
    this.last = listing;
    return listing;
  }
}

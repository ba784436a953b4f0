// Tool poisoning: an upstream definition that no longer matches the bundle's pin. The tool is
// withheld from every list, and the drift is receipted through the PEP like a call: an intent and
// a Guardian decision whose input carries the surface refusal MCP_DEFINITION_DRIFT
// (kernel/guardian/refusal.ts), so the decision is a DENY with that code that consumes no budget
// and opens no approval, then a blocked effect whose error names both hashes. Replay re-derives
// the same decision from the recorded input.
import type { HashRef } from '../../kernel/contracts/node.js';
import type { CatalogEntry } from './catalog.js';
import type { GatewayCore } from './core.js';

export function driftError(e: CatalogEntry, pinned: string): string {
  return `definition drift (tool poisoning): ${e.name} is pinned to ${pinned}; upstream ${e.upstream.name} now publishes ${e.definitionHash}`;
}

export function driftContext(e: CatalogEntry, pinned: string, method: string) {
  return {
    mcp: { upstream: e.upstream.name, tool: e.tool.name, method, definitionHash: e.definitionHash, pinned },
    refusal: { reasonCode: 'MCP_DEFINITION_DRIFT' as const, detail: driftError(e, pinned) },
  };
}

/** Drifts already receipted at list time: one receipt per tool and published definition. */
export class DriftLedger {
  private readonly seen = new Set<string>();

  constructor(private readonly core: GatewayCore) {}

  /** Records the drift once; later lists of the same drifted definition record nothing. */
  async record(e: CatalogEntry, pinned: string): Promise<{ decision: HashRef | null; effect: HashRef | null } | null> {
    const key = `${e.name}\n${e.definitionHash}`;
    if (this.seen.has(key)) return null;
    this.seen.add(key);
    const { pep, principal, observer } = this.core;
    const t0 = performance.now();
    const outcome = await pep.decide({
      callId: `mcp-drift:${e.name}:${e.definitionHash.slice(7, 39)}`,
      surface: 'mcp',
      principal,
      tool: e.name,
      args: {},
      connector: null,
      sandbox: null,
      context: driftContext(e, pinned, 'tools/list'),
    });
    observer?.decision({ surface: 'mcp', tool: e.name, verdict: outcome.verdict, reasonCode: outcome.reasonCode, seconds: (performance.now() - t0) / 1000, recorded: outcome.recorded, method: 'tools/list' });
    if (!outcome.recorded || outcome.decision === null) {
      // Not receipted: try again on the next list.
      this.seen.delete(key);
      return { decision: null, effect: null };
    }
    const effect = await pep.recordEffect(outcome.decision.entryHash, { status: 'blocked', confirmed: false, error: driftError(e, pinned) });
    return { decision: outcome.decision.entryHash, effect: effect.recorded ? effect.node.entryHash : null };
  }
}

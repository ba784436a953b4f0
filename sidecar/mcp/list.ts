// tools/list as one principal sees it: only tools the bundle could let this principal call through
// this gateway, each with its governance metadata. Bundle facts override the upstream's own hints
// (a server cannot call a destructive tool read-only). A pinned tool whose upstream definition
// drifted is withheld and the drift receipted.
import type { Tool } from '@modelcontextprotocol/server';
import type { SideEffect } from '../../kernel/guardian/bundle-types.js';
import type { CatalogEntry } from './catalog.js';
import type { GatewayCore } from './core.js';
import type { DriftLedger } from './drift.js';
import { visibility, type Governance } from './visibility.js';

export const META_GOVERNANCE = 'helm.mindburn.org/governance';

export interface GovernedTool {
  readonly tool: Tool;
  readonly entry: CatalogEntry;
  readonly governance: Governance;
}

export interface Withheld {
  readonly name: string;
  readonly reasonCode: string;
  readonly detail: string;
}

export interface GovernedListing {
  readonly tools: GovernedTool[];
  readonly withheld: Withheld[];
  readonly unavailable: ReadonlyArray<{ upstream: string; error: string }>;
  /** Why nothing at all is listed when no verified bundle is in force. */
  readonly policy: { ready: boolean; reasonCode?: string };
}

export async function governedList(core: GatewayCore, drifts: DriftLedger): Promise<GovernedListing> {
  const listing = await core.catalog.refresh();
  const policy = core.pep.policy;
  if (policy.status !== 'ready') return { tools: [], withheld: [], unavailable: listing.unavailable, policy: { ready: false, reasonCode: policy.reasonCode } };
  const tools: GovernedTool[] = [];
  const withheld: Withheld[] = [];
  for (const entry of [...listing.entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const v = visibility(policy.bundle, core.principal, entry.name, entry.upstream.name);
    if (!v.visible) {
      withheld.push({ name: entry.name, reasonCode: v.reasonCode, detail: v.detail });
      continue;
    }
    const pinned = v.governance.pinned;
    if (pinned !== null && pinned !== entry.definitionHash) {
      withheld.push({ name: entry.name, reasonCode: 'MCP_DEFINITION_DRIFT', detail: `definition drift: pinned ${pinned}, upstream ${entry.definitionHash}` });
      await drifts.record(entry, pinned);
      continue;
    }
    tools.push({ tool: publish(entry, v.governance), entry, governance: v.governance });
  }
  return { tools, withheld, unavailable: listing.unavailable, policy: { ready: true } };
}

function hints(sideEffect: SideEffect) {
  return { readOnlyHint: sideEffect === 'read', destructiveHint: sideEffect === 'destructive', openWorldHint: sideEffect === 'external' };
}

function publish(e: CatalogEntry, g: Governance): Tool {
  const t = e.tool;
  const meta = Object.fromEntries(Object.entries(t._meta ?? {}).filter(([k]) => !k.startsWith('io.modelcontextprotocol/')));
  return {
    name: e.name,
    ...(t.title !== undefined ? { title: t.title } : {}),
    ...(t.description !== undefined ? { description: t.description } : {}),
    inputSchema: t.inputSchema,
    ...(t.outputSchema !== undefined ? { outputSchema: t.outputSchema } : {}),
    annotations: { ...(t.annotations ?? {}), ...hints(g.sideEffect) },
    _meta: {
      ...meta,
      [META_GOVERNANCE]: {
        upstream: e.upstream.name,
        upstreamTool: t.name,
        domain: g.domain,
        sideEffect: g.sideEffect,
        approval: g.approval,
        pinned: g.pinned !== null,
        definitionHash: e.definitionHash,
        conditions: g.conditions,
      },
    },
  } as Tool;
}

// What tools/list may show one principal: a tool the bundle could let this principal call through
// this gateway. The same bounded-surface checks the Guardian runs first (grants, connector,
// sandbox), then the rules that hold for every call (an unconditional DENY, no base ALLOW). What
// remains is listed with its governance metadata; every call is still decided one by one.
import type { JsonObject, SideEffect } from '../../kernel/guardian/bundle-types.js';
import type { CompiledBundle } from '../../kernel/guardian/compile.js';
import type { DecisionInput } from '../../kernel/guardian/decision-input.js';
import type { ReasonCode } from '../../kernel/guardian/reason-codes.js';
import { checkGrants } from '../../kernel/guardian/surface.js';

export interface Principal {
  id: string;
  roles?: string[];
  attributes?: Record<string, unknown>;
}

export interface Governance {
  domain: string;
  sideEffect: SideEffect;
  /** required: every call escalates; conditional: some calls do (a rule condition decides). */
  approval: 'none' | 'conditional' | 'required';
  /** The pinned definition hash, or null when the bundle does not pin the tool. */
  pinned: string | null;
  /** Rule ids that can refuse some calls (conditional DENY rules). */
  conditions: string[];
}

export type Visibility = { readonly visible: true; readonly governance: Governance } | { readonly visible: false; readonly reasonCode: ReasonCode; readonly detail: string };

/** The connector a call through this upstream names: the upstream, when the tool lists connectors. */
export function connectorFor(bundle: CompiledBundle, tool: string, upstream: string): string | null {
  return bundle.tools.get(tool)?.decl.connectors === undefined ? null : upstream;
}

export function visibility(bundle: CompiledBundle, principal: Principal, name: string, upstream: string): Visibility {
  const tool = bundle.tools.get(name);
  if (!tool) return { visible: false, reasonCode: 'TOOL_NOT_DECLARED', detail: `${name} is not declared in the bundle` };
  const input = { principal: { id: principal.id, roles: principal.roles ?? [], attributes: (principal.attributes ?? {}) as JsonObject } } as DecisionInput;
  const grant = checkGrants(bundle, tool, input);
  if (grant) return { visible: false, reasonCode: grant.reasonCode, detail: grant.message };
  if (tool.sandbox !== null) return { visible: false, reasonCode: 'SANDBOX_VIOLATION', detail: `${name} must run in sandbox profile ${tool.sandbox}; the MCP gateway executes on the upstream server without one` };
  if (tool.decl.connectors !== undefined) {
    const allowed = tool.decl.connectors.filter((c) => Object.hasOwn(bundle.doc.connectors ?? {}, c));
    if (!allowed.includes(upstream)) return { visible: false, reasonCode: 'CONNECTOR_NOT_ALLOWED', detail: `upstream ${upstream} is not an allowlisted connector of ${name}` };
  }
  const alwaysDenied = tool.rules.find((r) => r.rule.verdict === 'DENY' && r.program === null);
  if (alwaysDenied) return { visible: false, reasonCode: alwaysDenied.reasonCode, detail: `rule ${alwaysDenied.rule.id} denies every call of ${name}` };
  if (!tool.allowLayers.includes(0)) return { visible: false, reasonCode: 'NO_POLICY_DEFINED', detail: `no base ALLOW rule selects ${name}` };
  const escalations = tool.rules.filter((r) => r.rule.verdict === 'ESCALATE');
  const approval = escalations.some((r) => r.program === null) ? 'required' : escalations.length > 0 ? 'conditional' : 'none';
  return {
    visible: true,
    governance: {
      domain: tool.decl.domain,
      sideEffect: tool.decl.sideEffect,
      approval,
      pinned: tool.decl.definitionHash ?? null,
      conditions: tool.rules.filter((r) => r.rule.verdict === 'DENY').map((r) => r.rule.id),
    },
  };
}

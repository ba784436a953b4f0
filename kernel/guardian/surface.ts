// Bounded-surface checks that run before any rule: a call outside the principal's domains,
// capability profile, connector allowlist or sandbox requirement is denied whatever the rules say.
import { profilePermits, type CompiledBundle, type CompiledTool } from './compile.js';
import type { DecisionInput } from './decision-input.js';
import { checkDestinations } from './destinations.js';
import { checkPaths } from './paths.js';
import type { ReasonCode } from './reason-codes.js';

export interface SurfaceDenial {
  readonly reasonCode: ReasonCode;
  readonly message: string;
  /** Grants that covered the domain but whose profile refused the tool. */
  readonly grantIds?: string[];
}

/**
 * Grants are additive: the call passes if one grant that applies to the principal covers the
 * tool's domain with a profile that permits the tool.
 */
export function checkGrants(b: CompiledBundle, tool: CompiledTool, input: DecisionInput): SurfaceDenial | null {
  const p = input.principal;
  const applicable = b.doc.grants.filter((g) => (g.principals.ids ?? []).includes(p.id) || (g.principals.roles ?? []).some((r) => p.roles.includes(r)));
  const inDomain = applicable.filter((g) => g.domains.includes(tool.decl.domain));
  if (inDomain.length === 0) return { reasonCode: 'DOMAIN_SCOPE_VIOLATION', message: `no grant gives principal ${p.id} the domain ${tool.decl.domain}` };
  const permitting = inDomain.filter((g) => {
    const profile = b.profiles[g.profile];
    return profile !== undefined && profilePermits(profile, tool.name, tool.decl);
  });
  if (permitting.length === 0) {
    return {
      reasonCode: 'CAPABILITY_VIOLATION',
      message: `profiles ${inDomain.map((g) => g.profile).join(', ')} do not permit ${tool.decl.sideEffect} tool ${tool.name}`,
      grantIds: inDomain.map((g) => g.id),
    };
  }
  return null;
}

export function checkConnector(b: CompiledBundle, tool: CompiledTool, input: DecisionInput): SurfaceDenial | null {
  // Absent: the tool is served without a connector. Present (even empty, as composition can
  // leave it): the call must name one of the listed connectors that the bundle still allowlists.
  if (tool.decl.connectors === undefined) {
    return input.connector === null ? null : { reasonCode: 'CONNECTOR_NOT_ALLOWED', message: `tool ${tool.name} is not served through connectors; the call names ${input.connector}` };
  }
  const allowed = tool.decl.connectors.filter((c) => Object.hasOwn(b.doc.connectors ?? {}, c));
  if (input.connector === null || !allowed.includes(input.connector)) {
    return { reasonCode: 'CONNECTOR_NOT_ALLOWED', message: `connector ${input.connector ?? '(none)'} is not allowlisted for tool ${tool.name} (allowed: ${allowed.join(', ') || 'none'})` };
  }
  return null;
}

export function checkSandbox(tool: CompiledTool, input: DecisionInput): SurfaceDenial | null {
  if (tool.sandbox === null || input.sandbox === tool.sandbox) return null;
  return { reasonCode: 'SANDBOX_VIOLATION', message: `tool ${tool.name} (${tool.decl.sideEffect}) must run in sandbox profile ${tool.sandbox}; the executor offers ${input.sandbox ?? 'none'}` };
}

export function checkEgress(b: CompiledBundle, tool: CompiledTool, input: DecisionInput): SurfaceDenial | null {
  for (const scope of tool.decl.destinations ?? []) {
    const r = checkDestinations(input.args, scope, b.destinations);
    if (!r.ok) return { reasonCode: 'DATA_EGRESS_BLOCKED', message: r.message };
  }
  return null;
}

export function checkPathScopes(tool: CompiledTool, input: DecisionInput): SurfaceDenial | null {
  for (const scope of tool.decl.paths ?? []) {
    const r = checkPaths(input.args, scope);
    if (!r.ok) return { reasonCode: r.reasonCode, message: r.message };
  }
  return null;
}

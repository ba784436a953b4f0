// Request side, offered tools: the model is only shown tools the bundle declares and this
// principal may use (grants, connector and sandbox checks, which do not depend on arguments).
// Each removed tool is receipted: pep.decide on a call of it with empty arguments, which the
// kernel denies with the real reason (TOOL_NOT_DECLARED, DOMAIN_SCOPE_VIOLATION, ...) before it
// looks at arguments, so nothing is consumed. Tools that run at the provider (Responses-API hosted
// MCP, type "mcp") or are not plain functions would bypass the kernel: removed and receipted as
// refusals. The legacy functions/function_call fields are refused outright.
import type { CompiledBundle } from '../../kernel/guardian/compile.js';
import type { DecisionInput } from '../../kernel/guardian/decision-input.js';
import type { GuardianPolicy } from '../../kernel/guardian/policy.js';
import { checkConnector, checkGrants, checkSandbox } from '../../kernel/guardian/surface.js';
import { ProxyError, type ProxyErrorCode } from './errors.js';
import type { CallDecision, ProxyPrincipal, ToolCallGate, ToolRoute } from './gate.js';
import type { ProxyObserver } from './observer.js';

/** The Chat Completions API accepts at most 128 tools. */
export const MAX_TOOLS = 128;

export interface ToolsContext {
  policy: GuardianPolicy;
  principal: ProxyPrincipal;
  routes: Readonly<Record<string, ToolRoute>>;
  gate: ToolCallGate;
  observer: ProxyObserver;
  model: string | null;
}

/** Whether the principal could call `name` at all (the argument-independent checks). */
export function mayOffer(b: CompiledBundle, name: string, principal: ProxyPrincipal, route: ToolRoute): boolean {
  const tool = b.tools.get(name);
  if (!tool) return false;
  const input: DecisionInput = {
    callId: 'tools-offer',
    surface: 'openai',
    principal: { id: principal.id, roles: principal.roles ?? [], attributes: (principal.attributes ?? {}) as DecisionInput['principal']['attributes'] },
    tool: name,
    args: {},
    connector: route.connector ?? null,
    sandbox: route.sandbox ?? null,
    context: {},
    time: '',
    policyDigest: b.contentHash,
    state: { budgets: {}, rates: {} },
  };
  return !checkGrants(b, tool, input) && !checkConnector(b, tool, input) && !checkSandbox(tool, input);
}

async function refused(ctx: ToolsContext, message: string, param: string, code: ProxyErrorCode = 'invalid_request'): Promise<ProxyError> {
  const d = await ctx.gate.refuse({ problem: message }, ctx.model);
  return new ProxyError(d.recorded ? 400 : 503, d.recorded ? code : 'receipt_unavailable', message, param).with([d]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names a tool_choice refers to (function, custom or allowed_tools forms). */
function choiceNames(choice: unknown): string[] {
  if (!isObject(choice)) return [];
  const own = [choice.function, choice.custom].flatMap((f) => (isObject(f) && typeof f.name === 'string' ? [f.name] : []));
  const allowed = isObject(choice.allowed_tools) && Array.isArray(choice.allowed_tools.tools) ? choice.allowed_tools.tools.flatMap((t) => choiceNames(t)) : [];
  return [...own, ...allowed];
}

/**
 * Filters body.tools in place. Returns the receipted decisions of the removed tools; throws a
 * ProxyError for a request that cannot be forwarded at all.
 */
export async function filterTools(ctx: ToolsContext, body: Record<string, unknown>): Promise<CallDecision[]> {
  if (body.functions !== undefined || body.function_call !== undefined) {
    throw await refused(ctx, 'the legacy functions/function_call fields are not governed by this proxy: declare tools instead', 'functions', 'legacy_functions_unsupported');
  }
  if (body.tools === undefined || body.tools === null) return [];
  const tools = body.tools;
  if (!Array.isArray(tools)) throw await refused(ctx, 'tools must be an array', 'tools');
  if (tools.length > MAX_TOOLS) throw await refused(ctx, `at most ${MAX_TOOLS} tools may be offered (${tools.length} were)`, 'tools');

  const kept: unknown[] = [];
  const keptNames = new Set<string>();
  const removals: Array<Promise<CallDecision>> = [];
  const b = ctx.policy.status === 'ready' ? ctx.policy.bundle : null;
  for (const [i, t] of tools.entries()) {
    if (!isObject(t)) throw await refused(ctx, `tools[${i}] must be an object`, `tools[${i}]`);
    if (t.type === 'function') {
      const name = isObject(t.function) ? t.function.name : undefined;
      if (typeof name !== 'string' || name.length === 0) throw await refused(ctx, `tools[${i}].function.name must be a non-empty string`, `tools[${i}]`);
      const route = Object.hasOwn(ctx.routes, name) ? ctx.routes[name]! : {};
      if (b && mayOffer(b, name, ctx.principal, route)) {
        kept.push(t);
        keptNames.add(name);
        continue;
      }
      removals.push(ctx.gate.decide({ toolCallId: null, callId: ctx.gate.syntheticId('tool'), tool: name, args: {} }, ctx.model));
      continue;
    }
    const type = typeof t.type === 'string' ? t.type : String(t.type);
    const label = t.type === 'mcp' ? `mcp:${typeof t.server_label === 'string' ? t.server_label : '(unlabelled)'}` : isObject(t.custom) && typeof t.custom.name === 'string' ? t.custom.name : `(${type})`;
    const why = t.type === 'mcp' ? 'a hosted MCP tool runs at the provider and would bypass the kernel' : `tools of type ${JSON.stringify(type)} are not governed by this proxy`;
    removals.push(ctx.gate.refuse({ tool: label, problem: `tools[${i}] removed: ${why}` }, ctx.model));
  }
  const removed = await Promise.all(removals);
  for (const d of removed) ctx.observer.toolsFiltered({ tool: d.tool, reasonCode: d.reasonCode });
  const unrecorded = removed.filter((d) => !d.recorded);
  if (unrecorded.length > 0) throw new ProxyError(503, 'receipt_unavailable', `the removal of ${unrecorded.length} tool(s) could not be recorded: ${unrecorded[0]!.detail}`).with(removed);

  if (kept.length === 0) {
    delete body.tools;
    delete body.tool_choice;
    delete body.parallel_tool_calls;
  } else {
    body.tools = kept;
    if (choiceNames(body.tool_choice).some((n) => !keptNames.has(n))) delete body.tool_choice;
  }
  return removed;
}

// The built-in `sandbox` upstream of the MCP gateway: the bundle's wasm tools, listed for the
// principals the bundle lets call them and run in-process in the WASI sandbox (sidecar/mcp/in-process.ts).
import type { Tool } from '@modelcontextprotocol/server';
import type { JsonObject } from '../../kernel/guardian/bundle-types.js';
import type { CompiledBundle, CompiledTool } from '../../kernel/guardian/compile.js';
import type { DecisionInput } from '../../kernel/guardian/decision-input.js';
import { computeToolNames, computeToolOf, type ComputeTool } from '../../kernel/guardian/sandboxed-tools.js';
import { checkGrants } from '../../kernel/guardian/surface.js';
import { Sandbox, type EngineOptions } from '../../sandbox/index.js';
import type { CallOutcome, CallRequest } from '../mcp/call.js';
import type { GatewayCore } from '../mcp/core.js';
import type { InProcessUpstream } from '../mcp/in-process.js';
import { META_GOVERNANCE } from '../mcp/list.js';
import { sandboxedCall, type SandboxHost } from './call.js';
import { ModuleStore } from './modules.js';

export const SANDBOX_UPSTREAM = 'sandbox';

export interface SandboxUpstreamOptions extends EngineOptions {
  /** Directory the bundle's `wasm.module` paths are relative to. */
  moduleDir: string;
}

/** Listed when a grant covers it, no unconditional DENY holds and a base ALLOW selects it; every call is still decided. */
function listable(bundle: CompiledBundle, core: GatewayCore, tool: CompiledTool): boolean {
  const p = core.principal;
  const input = { principal: { id: p.id, roles: p.roles ?? [], attributes: (p.attributes ?? {}) as JsonObject } } as DecisionInput;
  if (checkGrants(bundle, tool, input) !== null) return false;
  if (tool.rules.some((r) => r.rule.verdict === 'DENY' && r.program === null)) return false;
  return tool.allowLayers.includes(0);
}

function publish(t: CompiledTool, c: ComputeTool): Tool {
  const d = t.decl;
  const output = d.output?.type === 'object' ? { outputSchema: d.output } : {};
  return {
    name: t.name,
    ...(d.description !== undefined ? { description: d.description } : {}),
    inputSchema: d.args,
    ...output,
    annotations: { readOnlyHint: d.sideEffect === 'read', destructiveHint: false, openWorldHint: false },
    _meta: {
      [META_GOVERNANCE]: {
        upstream: SANDBOX_UPSTREAM,
        upstreamTool: t.name,
        domain: d.domain,
        sideEffect: d.sideEffect,
        sandbox: { profile: c.profile, moduleSha256: `sha256:${c.sha256}`, limits: c.limits },
      },
    },
  } as unknown as Tool;
}

export class SandboxUpstream implements InProcessUpstream {
  readonly name = SANDBOX_UPSTREAM;
  readonly host: SandboxHost;

  constructor(o: SandboxUpstreamOptions) {
    const { moduleDir, ...engine } = o;
    this.host = { sandbox: new Sandbox(engine), modules: new ModuleStore(moduleDir) };
  }

  tools(core: GatewayCore): Tool[] {
    const policy = core.pep.policy;
    if (policy.status !== 'ready') return [];
    const b = policy.bundle;
    return computeToolNames(b)
      .map((n) => b.tools.get(n)!)
      .filter((t) => listable(b, core, t))
      .map((t) => publish(t, computeToolOf(b, t.name)!));
  }

  call(core: GatewayCore, req: CallRequest): Promise<CallOutcome> | null {
    const policy = core.pep.policy;
    if (policy.status !== 'ready') return null;
    const tool = computeToolOf(policy.bundle, req.tool);
    return tool === null ? null : sandboxedCall(core, this.host, policy.bundle, tool, req);
  }

  close(): Promise<void> {
    return this.host.sandbox.close();
  }
}

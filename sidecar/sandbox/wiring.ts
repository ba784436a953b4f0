// Whether the sidecar serves the built-in sandbox upstream: when the bundle in force at start
// declares a wasm tool, or when a module directory is configured (a later bundle may add tools).
// Decided from the kernel alone; the upstream (Workers, MCP types) is loaded only when served.
import { dirname } from 'node:path';
import { computeToolNames } from '../../kernel/guardian/sandboxed-tools.js';
import type { Pep } from '../../kernel/pep/pep.js';
import type { SidecarConfig } from '../config/load.js';
import type { InProcessUpstream } from '../mcp/in-process.js';

/** The module directory to serve from, or null when the sandbox upstream is not served. */
export function sandboxModuleDir(c: Pick<SidecarConfig, 'bundle' | 'sandboxModuleDir'>, pep: Pep): string | null {
  const policy = pep.policy;
  const declared = policy.status === 'ready' && computeToolNames(policy.bundle).length > 0;
  if (!declared && c.sandboxModuleDir === null) return null;
  return c.sandboxModuleDir ?? (c.bundle !== null ? dirname(c.bundle) : null);
}

export async function startSandboxUpstream(moduleDir: string, workers: number): Promise<InProcessUpstream> {
  const { SandboxUpstream } = await import('./upstream.js');
  return new SandboxUpstream({ moduleDir, size: workers });
}

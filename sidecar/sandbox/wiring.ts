// Whether the sidecar serves the built-in sandbox upstream: when the bundle in force at start
// declares a wasm tool, or when a module directory is configured (a later bundle may add tools).
import { dirname } from 'node:path';
import { computeToolNames } from '../../kernel/guardian/sandboxed-tools.js';
import type { Pep } from '../../kernel/pep/pep.js';
import type { SidecarConfig } from '../config/load.js';
import { SandboxUpstream } from './upstream.js';

export function sandboxUpstreamFor(c: Pick<SidecarConfig, 'bundle' | 'sandboxModuleDir' | 'sandboxWorkers'>, pep: Pep): SandboxUpstream | null {
  const policy = pep.policy;
  const declared = policy.status === 'ready' && computeToolNames(policy.bundle).length > 0;
  if (!declared && c.sandboxModuleDir === null) return null;
  const moduleDir = c.sandboxModuleDir ?? (c.bundle !== null ? dirname(c.bundle) : null);
  if (moduleDir === null) return null;
  return new SandboxUpstream({ moduleDir, size: c.sandboxWorkers });
}

// Mounts the OpenAI-compatible proxy (sidecar/openai) as a governed surface under /v1/.
import type { Pep } from '../../kernel/pep/index.js';
import type { Principal } from '../config/load.js';
import type { ToolRoutes } from '../config/values.js';
import type { ProxyObserver } from '../openai/observer.js';
import { createOpenAiProxy } from '../openai/proxy.js';
import type { Logger } from '../log.js';
import type { Redactor } from '../redact.js';
import type { GovernedSurface } from './handler.js';
import { forTask } from '../a2a/task.js';

export interface OpenAiSurfaceOptions {
  pep: Pep;
  principal: Principal;
  upstream: { baseUrl: string; apiKey: string | null; timeoutMs: number };
  deniedCallMode: 'explain' | 'error';
  maxBodyBytes: number | null;
  toolRoutes: ToolRoutes;
  observer: ProxyObserver;
  /** Removes configured secrets from what the proxy passes on and records. */
  redact?: Redactor;
  log?: Logger;
}

export function openAiSurface(o: OpenAiSurfaceOptions): GovernedSurface {
  const proxy = createOpenAiProxy({
    pep: o.pep,
    // The configured identity, never one from the request: the proxy has no other source.
    principal: { id: o.principal.id, roles: [...o.principal.roles], attributes: { ...o.principal.attributes } },
    upstream: { baseUrl: o.upstream.baseUrl, ...(o.upstream.apiKey !== null ? { apiKey: o.upstream.apiKey } : {}), timeoutMs: o.upstream.timeoutMs },
    deniedCallMode: o.deniedCallMode,
    ...(o.maxBodyBytes !== null ? { maxBodyBytes: o.maxBodyBytes } : {}),
    toolRoutes: o.toolRoutes,
    observer: o.observer,
    ...(o.redact ? { redact: o.redact } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  return {
    name: 'openai',
    matches: (path) => path.startsWith('/v1/'),
    // Calls made for a delegated A2A task are judged within the delegation (docs/spec/a2a.md §9).
    handle: (req, res) => forTask(o.pep, req, () => proxy.handle(req, res)),
    drain: () => proxy.drain(),
  };
}

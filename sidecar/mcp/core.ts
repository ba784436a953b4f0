// What every surface of the gateway shares: the PEP, the principal every decision is made for,
// the upstream catalog and the limits.
import type { HashRef } from '../../kernel/contracts/node.js';
import type { Pep } from '../../kernel/pep/pep.js';
import type { Redactor } from '../redact.js';
import type { Catalog } from './catalog.js';
import type { InProcessUpstream } from './in-process.js';
import type { Hub } from './hub.js';
import type { McpObserver } from './types.js';
import type { Principal } from './visibility.js';

/**
 * A decision the same agent already got for this call on another surface (the OpenAI proxy). The
 * gateway then claims it (Pep.claim) before executing; a decision already claimed is decided anew.
 */
export type LinkedDecision = (q: { principal: string; callId: string; tool: string; args: unknown }) => HashRef | null;

export interface GatewayCore {
  readonly pep: Pep;
  readonly principal: Principal;
  readonly catalog: Catalog;
  /** Client connections and calls in flight: where upstream notifications and requests go. */
  readonly hub: Hub;
  readonly observer: McpObserver | undefined;
  readonly callTimeoutMs: number;
  readonly linked: LinkedDecision | null;
  /** Configured secrets out of every error, message and result the gateway passes on or records. */
  readonly redact: Redactor;
  /** Calls in flight: drain() waits for them. */
  readonly inflight: Set<Promise<unknown>>;
  draining: boolean;
  /** Tool providers inside the sidecar (in-process.ts). */
  readonly inProcess?: readonly InProcessUpstream[];
}

/** Track a call so drain() can wait for it. */
export function tracked<T>(core: GatewayCore, p: Promise<T>): Promise<T> {
  core.inflight.add(p);
  return p.finally(() => core.inflight.delete(p));
}

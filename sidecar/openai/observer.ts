// How the proxy reports what it does; the sidecar's metrics module implements it. Every method
// is called synchronously on the request path, so an implementation must be cheap and not throw.

export interface ProxyObserver {
  decision(e: { surface: 'openai'; tool: string; verdict: 'ALLOW' | 'DENY' | 'ESCALATE'; reasonCode: string; seconds: number; recorded: boolean }): void;
  /** An undeclared or denied tool removed from the request's tools[]. */
  toolsFiltered(e: { tool: string; reasonCode: string }): void;
  upstream(e: { route: string; seconds: number; status: number | null; error: string | null }): void;
}

export const silentObserver: ProxyObserver = {
  decision() {},
  toolsFiltered() {},
  upstream() {},
};

/** Wraps an observer so that a fault in it never breaks the request path. */
export function guardedObserver(o: ProxyObserver | undefined): ProxyObserver {
  if (!o) return silentObserver;
  return {
    decision: (e) => {
      try {
        o.decision(e);
      } catch {
        // Metrics must not change what the proxy answers.
      }
    },
    toolsFiltered: (e) => {
      try {
        o.toolsFiltered(e);
      } catch {
        // as above
      }
    },
    upstream: (e) => {
      try {
        o.upstream(e);
      } catch {
        // as above
      }
    },
  };
}

// The openai npm client keeps doing the calls; this reads their governance. Two idioms:
//   const { data, response } = await client.chat.completions.create(req).withResponse();
//   const g = governanceOf(response, data);
// or a fetch for `new OpenAI({ fetch: governedFetch((g, res) => ...) })` that reports every response.
// A stream (`stream: true`): governanceOf(response, lastChunk), where the last chunk has `helm`.
import { readGovernance, type Governance } from './governance.js';

export function governanceOf(response: { headers: Headers }, data?: unknown): Governance {
  return readGovernance(response.headers, data);
}

/**
 * A fetch that passes every request through unchanged and calls `onGovernance` with the governance
 * of each response that carries X-Helm-* headers (JSON bodies are read from a clone; streams are
 * reported from their headers only, the stream's last chunk carries the full `helm` field).
 */
export function governedFetch(onGovernance: (g: Governance, response: Response) => void, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    if (res.headers.get('x-helm-decision') === null && res.headers.get('x-helm-tools-removed') === null) return res;
    const json = (res.headers.get('content-type') ?? '').includes('application/json');
    const body = json ? await res.clone().json().catch(() => undefined) : undefined;
    onGovernance(readGovernance(res.headers, body), res);
    return res;
  };
}

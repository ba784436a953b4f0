// The upstream error label only takes the documented values (docs/sidecar.md, Metrics):
// timeout, unreachable, malformed, broken, http_4xx, http_5xx, other.
import { SidecarMetrics } from '../../sidecar/observe/metrics.js';

const DOCUMENTED = new Set(['timeout', 'unreachable', 'malformed', 'broken', 'http_4xx', 'http_5xx', 'other']);

function metrics(): SidecarMetrics {
  return new SidecarMetrics({ pendingApprovals: () => 0, budgets: () => [], storeHealthy: () => true, ready: () => true });
}

it.each<[string, number | null, string | null, string]>([
  ['a streamed request answered with JSON', 200, 'the upstream answered a streamed request with "application/json"', 'malformed'],
  ['an SSE error event after a 200', 200, 'the upstream reported an error mid-stream', 'malformed'],
  ['a 401', 401, 'the upstream answered 401: bad key', 'http_4xx'],
  ['a 500', 500, 'the upstream answered 500: boom', 'http_5xx'],
  ['a redirect it could not use', 302, 'the upstream answered 302', 'malformed'],
  ['a timeout', null, 'the upstream sent nothing for 5000 ms', 'timeout'],
  ['an MCP upstream error without status', null, 'MCP error -32603: internal', 'other'],
])('labels %s with a documented error kind', async (_name, status, error, kind) => {
  const m = metrics();
  m.upstream({ route: '/v1/chat/completions', seconds: 0.1, status, error });
  const text = await m.text();
  const labels = [...text.matchAll(/^helm_upstream_errors_total\{[^}]*error="([^"]+)"/gm)].map((x) => x[1]!);
  expect(labels).toEqual([kind]);
  expect(labels.every((l) => DOCUMENTED.has(l))).toBe(true);
});

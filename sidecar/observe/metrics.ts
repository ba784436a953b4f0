// Prometheus metrics of one sidecar, in its own registry (several sidecars can share a test
// process). Label values that an agent could choose (tool names, routes, error texts) are bounded:
// a tool is named only when the bundle in force declares it, so a hostile agent cannot grow the
// series count without limit.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProxyObserver } from '../openai/observer.js';

export const UNDECLARED_TOOL = '_undeclared';

/** Seconds. Decisions include a durable group commit (fdatasync): tens of microseconds to tens of ms. */
const FAST_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface BudgetRow {
  budget: string;
  scope: string;
  /** The tool of a tool or principal-tool scoped budget, '' for a principal budget. */
  tool: string;
  unit: 'calls' | 'cost';
  remaining: number;
}

export interface BundleInfo {
  status: 'ready' | 'unavailable';
  hash: string;
  name: string;
  version: string;
  reasonCode: string;
}

export interface MetricSources {
  pendingApprovals(): number;
  budgets(): BudgetRow[];
  storeHealthy(): boolean;
  ready(): boolean;
}

const CODE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const ROUTE = /^\/v1\/[A-Za-z0-9/._-]{1,64}$/;

/** Also the OpenAI proxy's observer: its decision, tools-filtered and upstream events land here. */
export class SidecarMetrics implements ProxyObserver {
  readonly registry = new Registry();
  private toolLabel: (tool: string) => string = () => UNDECLARED_TOOL;
  private readonly decisions: Counter<'verdict' | 'reason' | 'surface'>;
  private readonly decisionSeconds: Histogram<'surface'>;
  private readonly toolCalls: Counter<'tool' | 'verdict'>;
  private readonly unrecorded: Counter<'surface'>;
  private readonly filtered: Counter<'tool' | 'reason'>;
  private readonly receipts: Counter<'kind'>;
  private readonly receiptFailures: Counter<'kind'>;
  private readonly appendSeconds: Histogram;
  private readonly bundleInfo: Gauge<'status' | 'hash' | 'name' | 'version' | 'reason'>;
  private readonly reloads: Counter<'result' | 'code'>;
  private readonly fileRejected: Gauge;
  private readonly approvals: Counter<'result'>;
  private readonly upstreamSeconds: Histogram<'route' | 'status_class'>;
  private readonly upstreamErrors: Counter<'route' | 'error'>;
  private readonly governedRequests: Counter<'route' | 'status_class'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges *_total, which `promtool check metrics` rejects (and the
    // suffix promises a counter); they add nothing the process_* metrics do not say.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.decisions = new Counter({ name: 'helm_decisions_total', help: 'Guardian decisions by verdict, reason code and surface.', labelNames: ['verdict', 'reason', 'surface'], registers });
    this.decisionSeconds = new Histogram({ name: 'helm_decision_duration_seconds', help: 'Time from a proposed tool call to its durable decision receipt.', labelNames: ['surface'], buckets: FAST_BUCKETS, registers });
    this.toolCalls = new Counter({ name: 'helm_tool_calls_total', help: `Proposed tool calls by tool (${UNDECLARED_TOOL} when the bundle does not declare it) and verdict.`, labelNames: ['tool', 'verdict'], registers });
    this.unrecorded = new Counter({ name: 'helm_decisions_unrecorded_total', help: 'Decisions that could not be recorded durably (answered 503, denied RECEIPT_UNAVAILABLE).', labelNames: ['surface'], registers });
    this.filtered = new Counter({ name: 'helm_tools_filtered_total', help: 'Tools removed from a request tools[] list before it reached the model.', labelNames: ['tool', 'reason'], registers });
    this.receipts = new Counter({ name: 'helm_receipts_appended_total', help: 'ProofGraph nodes appended durably by this sidecar, by node kind.', labelNames: ['kind'], registers });
    this.receiptFailures = new Counter({ name: 'helm_receipt_append_failures_total', help: 'ProofGraph appends that failed (the store refuses further writes).', labelNames: ['kind'], registers });
    this.appendSeconds = new Histogram({
      name: 'helm_receipt_append_durable_seconds',
      help: 'Time from handing a node to the ProofGraph writer until it is durable: signing, group-commit queueing and fdatasync (the store exposes no separate fsync timing).',
      buckets: FAST_BUCKETS,
      registers,
    });
    this.bundleInfo = new Gauge({ name: 'helm_bundle_info', help: 'The policy bundle in force (value 1): status, content hash, name, version, and the reason code when unavailable.', labelNames: ['status', 'hash', 'name', 'version', 'reason'], registers });
    this.reloads = new Counter({ name: 'helm_bundle_reloads_total', help: 'Bundle file changes handled: applied, or rejected with the reason code (the previous bundle stays in force).', labelNames: ['result', 'code'], registers });
    this.fileRejected = new Gauge({ name: 'helm_bundle_file_rejected', help: '1 while the bundle files on disk are rejected and an older bundle (or none) is in force.', registers });
    this.approvals = new Counter({ name: 'helm_approval_submissions_total', help: 'Signed approvals submitted to the approvals API, by result (accepted or the refusal code).', labelNames: ['result'], registers });
    new Gauge({
      name: 'helm_approvals_pending',
      help: 'Escalated calls waiting for approvers (open, not expired, not rejected).',
      registers,
      collect() {
        this.set(sources.pendingApprovals());
      },
    });
    new Gauge({
      name: 'helm_budget_remaining',
      help: "Remaining budget of this sidecar's principal in the current window, by budget, scope, tool and unit (calls or cost units).",
      labelNames: ['budget', 'scope', 'tool', 'unit'],
      registers,
      collect() {
        this.reset();
        for (const b of sources.budgets()) this.set({ budget: b.budget, scope: b.scope, tool: b.tool, unit: b.unit }, b.remaining);
      },
    });
    new Gauge({
      name: 'helm_store_healthy',
      help: '1 while the ProofGraph store accepts appends; 0 once it failed (every governed call is then answered 503).',
      registers,
      collect() {
        this.set(sources.storeHealthy() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'helm_ready',
      help: '1 when /readyz answers 200.',
      registers,
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    });
    this.upstreamSeconds = new Histogram({ name: 'helm_upstream_request_duration_seconds', help: 'Upstream model provider requests, by route and status class (error when no response).', labelNames: ['route', 'status_class'], buckets: UPSTREAM_BUCKETS, registers });
    this.upstreamErrors = new Counter({ name: 'helm_upstream_errors_total', help: 'Upstream requests that failed: network error, timeout, malformed response or an error status.', labelNames: ['route', 'error'], registers });
    this.governedRequests = new Counter({ name: 'helm_governed_requests_total', help: 'Requests on the governed listener, by route and response status class.', labelNames: ['route', 'status_class'], registers });
  }

  /** Tool names become labels only when `declared` says the bundle in force declares them. */
  setToolFilter(declared: (tool: string) => boolean): void {
    this.toolLabel = (t) => (declared(t) ? t : UNDECLARED_TOOL);
  }

  decision(e: { surface: string; tool: string; verdict: 'ALLOW' | 'DENY' | 'ESCALATE'; reasonCode: string; seconds: number; recorded: boolean }): void {
    const surface = bounded(e.surface);
    this.decisions.inc({ verdict: bounded(e.verdict), reason: bounded(e.reasonCode), surface });
    this.decisionSeconds.observe({ surface }, e.seconds);
    this.toolCalls.inc({ tool: this.toolLabel(e.tool), verdict: bounded(e.verdict) });
    if (!e.recorded) this.unrecorded.inc({ surface });
  }

  toolsFiltered(e: { tool: string; reasonCode: string }): void {
    this.filtered.inc({ tool: this.toolLabel(e.tool), reason: bounded(e.reasonCode) });
  }

  upstream(e: { route: string; seconds: number; status: number | null; error: string | null }): void {
    const route = ROUTE.test(e.route) ? e.route : 'other';
    this.upstreamSeconds.observe({ route, status_class: statusClass(e.status) }, e.seconds);
    if (e.error !== null || e.status === null || e.status >= 400) this.upstreamErrors.inc({ route, error: errorKind(e.error, e.status) });
  }

  governed(route: string, status: number): void {
    this.governedRequests.inc({ route, status_class: statusClass(status) });
  }

  receiptAppended(kind: string, seconds: number): void {
    this.receipts.inc({ kind });
    this.appendSeconds.observe(seconds);
  }

  receiptFailed(kind: string): void {
    this.receiptFailures.inc({ kind });
  }

  bundle(info: BundleInfo): void {
    this.bundleInfo.reset();
    this.bundleInfo.set({ status: info.status, hash: info.hash, name: info.name, version: info.version, reason: info.reasonCode }, 1);
  }

  reload(result: 'applied' | 'rejected', code: string): void {
    this.reloads.inc({ result, code: bounded(code) });
    this.fileRejected.set(result === 'rejected' ? 1 : 0);
  }

  approvalSubmission(result: string): void {
    this.approvals.inc({ result: bounded(result) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function bounded(v: string): string {
  return CODE.test(v) ? v : 'other';
}

/**
 * The proxy reports upstream failures as prose; the label is a fixed kind derived from it (the
 * message itself could carry anything the upstream said).
 */
function errorKind(error: string | null, status: number | null): string {
  if (error !== null) {
    if (/sent nothing for|timed? ?out/i.test(error)) return 'timeout';
    if (/could not be reached/i.test(error)) return 'unreachable';
    if (/malformed|not JSON|not UTF-8|exceeds/i.test(error)) return 'malformed';
    if (/broke off|ended before|without \[DONE\]|aborted/i.test(error)) return 'broken';
    // An answer with a success status that could not be used is malformed, never "http_2xx".
    if (status !== null && status < 400) return 'malformed';
  }
  if (status !== null && status >= 400) return status >= 500 ? 'http_5xx' : 'http_4xx';
  return 'other';
}

function statusClass(s: number | null): string {
  return s === null ? 'error' : `${Math.floor(s / 100)}xx`;
}

// Every metric the chart's Grafana dashboard and alert rules query is one the code registers:
// the operator's (operator/metrics.ts) or the sidecar's (sidecar/observe/metrics.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { metricsRegistry } from '../../operator/metrics.js';
import { SidecarMetrics } from '../../sidecar/observe/metrics.js';
import { chartDir } from './render.js';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'le']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // grouping labels
  const names: string[] = [];
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(join(chartDir, 'dashboards', 'helm-operator.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

function ruleExprs(): string[] {
  const groups = parseYaml(readFileSync(join(chartDir, 'rules', 'helm-operator.rules.yaml'), 'utf8')) as { rules: { expr: string }[] }[];
  return groups.flatMap((g) => g.rules.map((r) => r.expr));
}

async function registered(): Promise<Set<string>> {
  const sidecar = new SidecarMetrics({ pendingApprovals: () => 0, budgets: () => [], storeHealthy: () => true, ready: () => true });
  // `up` is Prometheus's own per-target series (the availability alerts use it).
  const names = new Set<string>(['up']);
  for (const m of [...(await metricsRegistry().getMetricsAsJSON()), ...(await sidecar.registry.getMetricsAsJSON())]) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

describe('dashboard and alert rules use only emitted metrics', () => {
  it('the extractor finds metric names and nothing else', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, kind) (rate(helm_operator_webhook_latency_seconds_bucket{kind="mutate"}[5m]))) > 0.5')).toEqual([
      'helm_operator_webhook_latency_seconds_bucket',
    ]);
    expect(metricNames('max by (namespace) (a_total{phase="Failed"}) == 1 and on (pod) b_gauge unless c')).toEqual(['a_total', 'b_gauge', 'c']);
  });

  it('every metric in the dashboard and the rules is registered by operator/metrics.ts or the sidecar', async () => {
    const known = await registered();
    const exprs = [...dashboardExprs(), ...ruleExprs()];
    expect(exprs.length).toBeGreaterThan(20);
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(15);
    const unknown = [...used].filter((n) => !known.has(n));
    expect(unknown).toEqual([]);
  });

  it('would catch a typo', async () => {
    const known = await registered();
    expect(metricNames('rate(helm_operator_reconciles_total[5m])').filter((n) => !known.has(n))).toEqual(['helm_operator_reconciles_total']);
  });

  it('the operator and webhook metrics the issue names are on the dashboard', () => {
    const used = new Set(dashboardExprs().flatMap(metricNames));
    for (const n of ['helm_operator_reconcile_total', 'helm_operator_webhook_injections_total', 'helm_operator_webhook_latency_seconds_bucket', 'helm_decisions_total']) expect(used).toContain(n);
  });
});

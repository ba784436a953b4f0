// The chart's alert rules, run by promtool: `promtool check rules` on the rules file and
// `promtool test rules` on the scenarios in test/chart/rules/ (every replica gone, healthy,
// failing). The rules file holds only the groups list (it is embedded in a PrometheusRule), so
// it is written with its `groups:` key into a temp dir beside the scenario files.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartDir } from './render.js';
import { describeWithPromtool, promtoolBin } from './tools.js';

const scenarios = join(import.meta.dirname, 'rules');

function promtool(args: string[], cwd: string): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync(promtoolBin!, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describeWithPromtool('alert rules (promtool)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'helm-rules-'));
    const groups = readFileSync(join(chartDir, 'rules', 'helm-operator.rules.yaml'), 'utf8');
    writeFileSync(join(dir, 'rules.yaml'), `groups:\n${groups.replace(/^/gm, '  ')}`);
    for (const f of readdirSync(scenarios)) copyFileSync(join(scenarios, f), join(dir, f));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the rules file passes promtool check rules', () => {
    const r = promtool(['check', 'rules', 'rules.yaml'], dir);
    expect([r.status, r.out]).toEqual([0, expect.stringMatching(/SUCCESS/)]);
  });

  it.each(readdirSync(scenarios).filter((f) => f.endsWith('.test.yaml')))('%s passes promtool test rules', (file) => {
    const r = promtool(['test', 'rules', file], dir);
    expect([r.status, r.out]).toEqual([0, expect.stringMatching(/SUCCESS/)]);
  });

  it('promtool test rules is a real check: a scenario expecting silence where an alert fires fails', () => {
    writeFileSync(
      join(dir, 'wrong.yaml'),
      'rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series: [{ series: unrelated_metric, values: "1x20" }]\n    alert_rule_test: [{ alertname: HelmOperatorDown, eval_time: 10m, exp_alerts: [] }]\n',
    );
    expect(promtool(['test', 'rules', 'wrong.yaml'], dir).status).not.toBe(0);
  });
});

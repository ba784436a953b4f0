// The chart's CRDs are the repository's crds/ (every file, so a CRD added there is covered), and
// they have an upgrade path: Helm installs crds/ once and never upgrades it, so the chart can
// render the same CRDs as templates (crds.templated=true, installed with --skip-crds) that every
// helm upgrade updates and helm uninstall keeps; docs/install.md documents both ways.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/shared.js';
import { byKind, chartDir, helm, NAMESPACE, RELEASE, render, validateManifest, WITH_ROOT, type Manifest } from './render.js';
import { describeWithHelm } from './tools.js';

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml') && statSync(join(dir, f)).isFile()).sort();
const repoCrds = () => yamlFiles(join(repoRoot, 'crds')).map((f) => ({ file: f, text: readFileSync(join(repoRoot, 'crds', f), 'utf8') }));
const crdName = (text: string) => (parseYaml(text) as Manifest).metadata.name;

describe('CRDs', () => {
  it("the chart's crds/ holds exactly the repository's crds/*.yaml, byte for byte (on a mismatch: cp crds/*.yaml charts/helm-operator/crds/)", () => {
    const files = repoCrds();
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(yamlFiles(join(chartDir, 'crds'))).toEqual(files.map((f) => f.file));
    for (const f of files) expect([f.file, readFileSync(join(chartDir, 'crds', f.file), 'utf8')]).toEqual([f.file, f.text]);
  });

  it('the upgrade path is documented: apply crds/ server-side before helm upgrade, or crds.templated', () => {
    const guide = readFileSync(join(repoRoot, 'docs', 'install.md'), 'utf8');
    expect(guide).toContain('kubectl apply --server-side -f charts/helm-operator/crds/');
    expect(guide).toContain('--skip-crds');
    expect(guide).toContain('crds.templated=true');
  });
});

describeWithHelm('CRDs rendered', () => {
  it('helm install (crds/) installs every CRD in crds/', () => {
    const names = byKind(render(), 'CustomResourceDefinition').map((c) => c.metadata.name).sort();
    expect(names).toEqual(repoCrds().map((f) => crdName(f.text)).sort());
  });

  it('crds.templated=true renders every CRD of crds/ as a template, identical but for helm.sh/resource-policy: keep', async () => {
    const r = helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, '--skip-crds', ...WITH_ROOT, '--set', 'crds.templated=true']);
    expect(r.status).toBe(0);
    const rendered = parseAllDocuments(r.out).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m?.kind === 'CustomResourceDefinition');
    const files = repoCrds();
    expect(rendered.map((c) => c.metadata.name).sort()).toEqual(files.map((f) => crdName(f.text)).sort());
    for (const f of files) {
      const want = parseYaml(f.text) as Manifest;
      const got = structuredClone(rendered.find((c) => c.metadata.name === want.metadata.name)!);
      await expect(validateManifest(got)).resolves.toBeUndefined();
      expect(got.metadata.annotations).toEqual({ ...(want.metadata.annotations ?? {}), 'helm.sh/resource-policy': 'keep' });
      delete got.metadata.annotations;
      const expected = structuredClone(want);
      delete expected.metadata.annotations;
      expect(got).toEqual(expected);
    }
  });

  it('without crds.templated no CRD is a template (no ownership clash with crds/)', () => {
    const r = helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, '--skip-crds', ...WITH_ROOT]);
    expect(r.out).not.toContain('kind: CustomResourceDefinition');
  });
});

// Sandbox profiles with compute limits and grants, and wasm tool declarations, in the bundle
// format: what lint accepts and refuses, and what computeToolOf hands the executor.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { compileBundle, parseBundleText, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { computeToolNames, computeToolOf } from '../../kernel/guardian/sandboxed-tools.js';
import { CSV_TO_JSON } from '../../sandbox/tools/wat.js';
import { repoRoot } from '../support/shared.js';
import { sha256, wat2wasm } from './modules.js';

const DIR = join(repoRoot, 'examples', 'sandbox');
const doc = (): PolicyBundleDoc => parseBundleText(readFileSync(join(DIR, 'bundle.yaml'), 'utf8')) as PolicyBundleDoc;
const errorsOf = (d: unknown) => {
  const r = compileBundle(d, nodeSuite);
  return r.ok ? [] : r.errors.map((e) => `${e.code} ${e.path}`);
};

describe('sandboxed tools in the bundle', () => {
  it('the example bundle compiles and resolves csv2json with the profile limits and no grants', () => {
    const r = compileBundle(doc(), nodeSuite);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(computeToolNames(r.bundle)).toEqual(['csv2json']);
    expect(computeToolOf(r.bundle, 'csv2json')).toEqual({
      name: 'csv2json',
      profile: 'compute-small',
      module: 'csv2json.wasm',
      sha256: 'efa6256f016c7ef5a36c6e0dcd16f16f0006286af908df7eeb62684162bb0d52',
      stdin: { arg: 'csv' },
      stdout: 'json',
      argv: [],
      limits: { gas: 50_000_000, wallMs: 2000, memoryPages: 64, outputBytes: 1_048_576 },
      grants: { preopens: [], env: {}, clock: false, random: false },
    });
  });

  it('the shipped csv2json.wasm is the assembled WAT source and hashes to the pin', async () => {
    const shipped = readFileSync(join(DIR, 'csv2json.wasm'));
    expect(Buffer.from(await wat2wasm(CSV_TO_JSON)).equals(shipped)).toBe(true);
    expect(`sha256:${sha256(shipped)}`).toBe(doc().tools.csv2json!.wasm!.sha256);
  });

  it('grants are explicit: preopens with a mode each, env, clock, random; sockets have no field', () => {
    const d = doc();
    d.sandbox!.profiles['compute-small']!.filesystem = 'read-only';
    d.sandbox!.profiles['compute-small']!.compute!.grants = { preopens: [{ guestPath: '/data', hostPath: '/srv/data', mode: 'ro' }], env: { LANG: 'C' }, clock: true, random: true };
    const r = compileBundle(d, nodeSuite);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(computeToolOf(r.bundle, 'csv2json')!.grants).toEqual({ preopens: [{ guestPath: '/data', hostPath: '/srv/data', mode: 'ro' }], env: { LANG: 'C' }, clock: true, random: true });
    const sockets = doc();
    (sockets.sandbox!.profiles['compute-small']!.compute!.grants as Record<string, unknown>) = { sockets: true };
    expect(errorsOf(sockets)).toEqual(['ERR_BUNDLE_SCHEMA /sandbox/profiles/compute-small/compute/grants']);
  });

  it('refuses a compute profile with network, a directory beyond its filesystem mode, or legacy limits', () => {
    const net = doc();
    net.sandbox!.profiles['compute-small']!.network = 'destinations';
    expect(errorsOf(net)).toEqual(['ERR_PROFILE /sandbox/profiles/compute-small/network']);
    const rw = doc();
    rw.sandbox!.profiles['compute-small']!.filesystem = 'read-only';
    rw.sandbox!.profiles['compute-small']!.compute!.grants = { preopens: [{ guestPath: '/out', hostPath: '/tmp/out', mode: 'rw' }] };
    expect(errorsOf(rw)).toEqual(['ERR_PROFILE /sandbox/profiles/compute-small/compute/grants/preopens/0/mode']);
    const none = doc();
    none.sandbox!.profiles['compute-small']!.compute!.grants = { preopens: [{ guestPath: '/in', hostPath: '/tmp/in', mode: 'ro' }] };
    expect(errorsOf(none)).toEqual(['ERR_PROFILE /sandbox/profiles/compute-small/compute/grants/preopens/0/mode']);
    const legacy = doc();
    legacy.sandbox!.profiles['compute-small']!.limits = { wallMs: 10 };
    expect(errorsOf(legacy)).toEqual(['ERR_PROFILE /sandbox/profiles/compute-small/limits']);
  });

  it('refuses a wasm tool without a compute profile, with a bad pin, a path out of the directory or a stdin argument that is not a required string', () => {
    const noProfile = doc();
    delete noProfile.tools.csv2json!.sandbox;
    expect(errorsOf(noProfile)).toEqual(['ERR_REFERENCE /tools/csv2json/wasm']);
    const noCompute = doc();
    delete noCompute.sandbox!.profiles['compute-small']!.compute;
    expect(errorsOf(noCompute)).toEqual(['ERR_REFERENCE /tools/csv2json/wasm']);
    const pin = doc();
    pin.tools.csv2json!.wasm!.sha256 = 'efa6256f';
    expect(errorsOf(pin)).toEqual(['ERR_BUNDLE_SCHEMA /tools/csv2json/wasm/sha256']);
    const escape = doc();
    escape.tools.csv2json!.wasm!.module = 'tools/../../etc/x.wasm';
    expect(errorsOf(escape)).toEqual(['ERR_REFERENCE /tools/csv2json/wasm/module']);
    const stdin = doc();
    stdin.tools.csv2json!.wasm!.stdin = { arg: 'text' };
    expect(errorsOf(stdin)).toEqual(['ERR_TOOL_SCHEMA /tools/csv2json/wasm/stdin/arg']);
  });
});

// Start-up cost: the sidecar module graph loads the heavy optional packages (the MCP SDKs, the
// OpenTelemetry SDK, the Kubernetes client, the AWS SDK of fleet shipping) only when their feature
// is on, and helmctl (the image's entry point) loads only the command it runs. A child process imports
// the built sidecar with a module resolve hook that records every package it resolves.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

const HEAVY = /^(@modelcontextprotocol\/|@a2a-js\/|@opentelemetry\/sdk|@opentelemetry\/exporter|@kubernetes\/client-node|@aws-sdk\/|@smithy\/|zod)/;

/** Packages (bare specifiers) resolved while importing `modulePath`, or our own modules with `own`. */
function packagesLoadedBy(modulePath: string, o: { own?: boolean; run?: string } = {}): string[] {
  const keep = o.own
    ? `const r = next(specifier, context); if (r.url.startsWith('file:') && !r.url.includes('/node_modules/')) seen.add(r.url.slice(r.url.indexOf('/dist/') + 6)); return r;`
    : `if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('file:') && !specifier.startsWith('/')) seen.add(specifier); return next(specifier, context);`;
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { ${keep} } });
    const m = await import(${JSON.stringify(modulePath)});
    ${o.run ?? ''}
    process.stdout.write(JSON.stringify([...seen]));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' })) as string[];
}

describe('heavy packages load only with their feature', () => {
  it('importing the sidecar (helmctl serve without MCP upstreams or tracing) loads no MCP SDK, OTel SDK or Kubernetes client', () => {
    const loaded = packagesLoadedBy(join(repoRoot, 'dist/sidecar/serve.js'));
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((p) => HEAVY.test(p))).toEqual([]);
  });

  it('the admin listener is plain node:http: importing the sidecar loads no Express or body-parser', () => {
    const loaded = packagesLoadedBy(join(repoRoot, 'dist/sidecar/serve.js'));
    expect(loaded.filter((p) => /^(express|body-parser|router|send|serve-static)$/.test(p))).toEqual([]);
  });
});

describe('helmctl loads the command it runs', () => {
  const helmctl = join(repoRoot, 'dist/cli/helmctl.js');

  it('importing helmctl (the sidecar image entry point) loads no command module and no heavy package', () => {
    expect(packagesLoadedBy(helmctl, { own: true }).filter((m) => m.startsWith('cli/commands/'))).toEqual(['cli/commands/catalog.js']);
    expect(packagesLoadedBy(helmctl).filter((p) => HEAVY.test(p))).toEqual([]);
  });

  it('helmctl keygen --help loads the keygen command only', () => {
    const quiet = `const io = { stdout: { write() {} }, stderr: { write() {} } }; if (await m.main(['keygen', '--help'], io) !== 0) throw new Error('keygen --help failed');`;
    const own = packagesLoadedBy(helmctl, { own: true, run: quiet }).filter((x) => x.startsWith('cli/commands/'));
    expect(own.sort()).toEqual(['cli/commands/catalog.js', 'cli/commands/keygen.js']);
  });
});


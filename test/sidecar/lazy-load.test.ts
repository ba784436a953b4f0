// Start-up cost: the sidecar module graph loads the heavy optional packages (the MCP SDKs, the
// OpenTelemetry SDK, the Kubernetes client) only when their feature is on. A child process imports
// the built sidecar with a module resolve hook that records every package it resolves.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

const HEAVY = /^(@modelcontextprotocol\/|@a2a-js\/|@opentelemetry\/sdk|@opentelemetry\/exporter|@kubernetes\/client-node|zod)/;

function packagesLoadedBy(modulePath: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('file:') && !specifier.startsWith('/')) seen.add(specifier); return next(specifier, context); } });
    await import(${JSON.stringify(modulePath)});
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

#!/usr/bin/env node
// helmctl: keys, trust events, evidence packs (export, verify, replay), inclusion proofs, policy
// bundles, approvals, and the guardian sidecar (serve) and MCP gateway (mcp --stdio).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from './commands/catalog.js';
import { CliError, EXIT_ERROR, EXIT_OK, UsageError, type Io } from './io.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return ['usage: helmctl <command> [options]', '', ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', 'helmctl <command> --help for the options of one command'].join('\n') + '\n';
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? EXIT_ERROR : EXIT_OK;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`helmctl: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT_ERROR;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`usage: ${cmd.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`helmctl ${cmd.name}: ${e.message}\nusage: ${cmd.usage}\n`);
      return EXIT_ERROR;
    }
    if (e instanceof CliError) {
      io.stderr.write(`helmctl ${cmd.name}: ${e.code}: ${e.message}\n`);
      return EXIT_ERROR;
    }
    const code = (e as { code?: unknown }).code;
    io.stderr.write(`helmctl ${cmd.name}: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message ?? String(e)}\n`);
    return EXIT_ERROR;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`helmctl: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = EXIT_ERROR;
    },
  );
}

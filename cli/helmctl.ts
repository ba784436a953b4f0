#!/usr/bin/env node
// helmctl: keys, trust events, evidence packs (export, verify, replay), inclusion proofs, policy
// bundles, approvals, and the guardian sidecar (serve) and MCP gateway (mcp --stdio).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { approve } from './commands/approve.js';
import { bundle } from './commands/bundle.js';
import { conformance } from './commands/conformance.js';
import { exportCmd } from './commands/export.js';
import { keygen } from './commands/keygen.js';
import { mcp } from './commands/mcp.js';
import { proof } from './commands/proof.js';
import { replay } from './commands/replay.js';
import { serve } from './commands/serve.js';
import { trust } from './commands/trust.js';
import { verify } from './commands/verify.js';
import { fleet } from './commands/fleet.js';
import type { Command } from './commands/command.js';
import { CliError, EXIT_ERROR, EXIT_OK, UsageError, type Io } from './io.js';

const COMMANDS: readonly Command[] = [keygen, trust, exportCmd, verify, replay, proof, bundle, approve, serve, mcp, conformance, fleet];

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
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(`helmctl: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT_ERROR;
  }
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

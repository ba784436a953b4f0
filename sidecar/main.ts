#!/usr/bin/env node
// Entry point of the sidecar container image and the benchmarks: the same process as
// `helmctl serve`, without the rest of helmctl. Exit codes: 0 stopped cleanly, 1 stop failed,
// 2 bad configuration or start-up failure.
import { runSidecar } from './serve.js';
import { errorText } from './log.js';

runSidecar(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'the sidecar did not start', error: errorText(e) })}\n`);
    process.exitCode = 2;
  },
);

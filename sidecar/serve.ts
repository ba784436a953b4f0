// The sidecar as a process: configuration from argv, environment and file; JSON logs on stderr
// (every line one JSON object: start-up failures and console output of libraries included);
// SIGTERM/SIGINT stop it gracefully (drain, shutdown heartbeat, final checkpoint, close);
// SIGHUP re-checks the bundle files at once. Resolves with the exit code once it has stopped:
// 0 stopped cleanly, 1 the stop failed or the log did not close cleanly, 2 it did not start.
import { format } from 'node:util';
import { loadConfig, type Env, type LoadedConfig } from './config/load.js';
import { GuardianSidecar, type SidecarStartOptions } from './guardian-sidecar.js';
import { errorText, jsonLogger, redactingLogger, type Logger } from './log.js';
import { Redactor } from './redact.js';

export interface ServeIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export interface SignalSource {
  on(signal: NodeJS.Signals, f: () => void): unknown;
  off(signal: NodeJS.Signals, f: () => void): unknown;
}

export interface ServeOptions {
  env?: Env;
  signals?: SignalSource;
  /** Called once the sidecar serves (tests, the demo). */
  onStarted?: (s: GuardianSidecar) => void;
  start?: Omit<SidecarStartOptions, 'config' | 'log' | 'env'>;
}

export async function runSidecar(argv: readonly string[], io: ServeIo, o: ServeOptions = {}): Promise<number> {
  const env = o.env ?? process.env;
  const signals = o.signals ?? process;
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(argv, env);
  } catch (e) {
    jsonLogger('info', (l) => io.stderr.write(l)).error('the sidecar did not start: bad configuration', { error: errorText(e), ...codeOf(e) });
    return 2;
  }
  // The sidecar fills the redactor with its secrets at start; this logger (signals, stop, console
  // output of libraries) redacts them too.
  const redact = new Redactor();
  const log = redactingLogger(jsonLogger(loaded.config.logLevel, (l) => io.stderr.write(l)), redact);
  // Libraries that print with console.* (the MCP SDK among them) get JSON lines too.
  const restoreConsole = io.stderr === process.stderr ? captureConsole(log) : () => undefined;
  for (const w of loaded.warnings) log.warn(w);
  log.info('configuration loaded', { file: loaded.file, sources: loaded.sources });
  // Signals are taken from the start: a SIGTERM while the log is being opened still ends in a
  // clean stop once the sidecar is up, instead of killing the process mid-recovery.
  let requested: NodeJS.Signals | null = null;
  let onStop: (signal: NodeJS.Signals) => void = (signal) => {
    requested ??= signal;
  };
  let onReload: () => void = () => undefined;
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGTERM', () => onStop('SIGTERM')],
    ['SIGINT', () => onStop('SIGINT')],
    ['SIGHUP', () => onReload()],
  ];
  for (const [s, f] of handlers) signals.on(s, f);
  let sidecar: GuardianSidecar;
  try {
    sidecar = await GuardianSidecar.start({ ...o.start, config: loaded.config, log, env, redact });
  } catch (e) {
    for (const [s, f] of handlers) signals.off(s, f);
    log.error('the sidecar did not start', { error: errorText(e), ...codeOf(e) });
    restoreConsole();
    return 2;
  }
  return new Promise<number>((resolve) => {
    onStop = (signal) => {
      log.info('signal received', { signal });
      for (const [s, f] of handlers) signals.off(s, f);
      sidecar.stop().then(
        // A log that did not close cleanly is a failed stop: the orchestrator should see it.
        () => {
          restoreConsole();
          resolve(sidecar.closedCleanly === false ? 1 : 0);
        },
        (e: unknown) => {
          log.error('stop failed', { error: errorText(e) });
          restoreConsole();
          resolve(1);
        },
      );
    };
    onReload = () => {
      log.info('signal received', { signal: 'SIGHUP' });
      sidecar.reload().catch((e: unknown) => log.error('reload failed', { error: errorText(e) }));
    };
    o.onStarted?.(sidecar);
    if (requested) onStop(requested);
  });
}

function codeOf(e: unknown): { code?: string } {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' ? { code } : {};
}

/** Routes console.* to the JSON logger (one line per call, whatever it printed); returns the undo. */
function captureConsole(log: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const to = (at: (msg: string, f?: Record<string, unknown>) => void) => (...args: unknown[]) => at('console output', { text: format(...args) });
  console.log = to(log.info);
  console.info = to(log.info);
  console.warn = to(log.warn);
  console.error = to(log.error);
  console.debug = to(log.debug);
  return () => Object.assign(console, saved);
}

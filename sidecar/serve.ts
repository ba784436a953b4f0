// The sidecar as a process: configuration from argv, environment and file; JSON logs on stderr;
// SIGTERM/SIGINT stop it gracefully (drain, shutdown heartbeat, final checkpoint, close);
// SIGHUP re-checks the bundle files at once. Resolves with the exit code once it has stopped.
import { loadConfig, type Env } from './config/load.js';
import { GuardianSidecar, type SidecarStartOptions } from './guardian-sidecar.js';
import { errorText, jsonLogger } from './log.js';

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
  const loaded = await loadConfig(argv, env);
  const log = jsonLogger(loaded.config.logLevel, (l) => io.stderr.write(l));
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
    sidecar = await GuardianSidecar.start({ ...o.start, config: loaded.config, log, env });
  } catch (e) {
    for (const [s, f] of handlers) signals.off(s, f);
    throw e;
  }
  return new Promise<number>((resolve) => {
    onStop = (signal) => {
      log.info('signal received', { signal });
      for (const [s, f] of handlers) signals.off(s, f);
      sidecar.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error('stop failed', { error: errorText(e) });
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

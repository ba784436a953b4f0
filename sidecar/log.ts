// JSON log lines on stderr: one object per event, so a log pipeline can filter by field instead of
// parsing prose. Never log secrets or request bodies: receipts carry the evidence, not the log.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l), clock: () => number = Date.now): Logger {
  const at = (lv: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lv] < RANK[level]) return;
    write(`${JSON.stringify({ time: new Date(clock()).toISOString(), level: lv, msg, ...fields })}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that removes every configured secret (sidecar/redact.ts) from messages and fields. */
export function redactingLogger(inner: Logger, redact: { text(s: string): string; deep<T>(v: T): T }): Logger {
  const at = (f: Logger['info']) => (msg: string, fields?: Record<string, unknown>) => f(redact.text(msg), fields === undefined ? undefined : redact.deep(fields));
  return { debug: at(inner.debug), info: at(inner.info), warn: at(inner.warn), error: at(inner.error) };
}

/** A logger that keeps lines in memory (tests, and the demo's quiet mode). */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: Array<{ level: LogLevel; msg: string } & Record<string, unknown>> } {
  const lines: Array<{ level: LogLevel; msg: string } & Record<string, unknown>> = [];
  const l = jsonLogger(level, (s) => lines.push(JSON.parse(s)));
  return Object.assign(l, { lines });
}

export function errorText(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const msg = (e as Error)?.message ?? String(e);
  return typeof code === 'string' ? `${code}: ${msg}` : msg;
}

// Time enters the kernel only through an injected clock, so tests and replays are deterministic.
export type Clock = () => number; // milliseconds since the Unix epoch

/** RFC 3339 UTC with milliseconds, the only time format in signed payloads. */
export function formatTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`bad clock reading ${ms}`);
  return new Date(ms).toISOString();
}

export function parseTime(s: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s)) throw new RangeError(`time ${JSON.stringify(s)} is not RFC 3339 UTC with milliseconds`);
  const ms = Date.parse(s);
  if (Number.isNaN(ms) || formatTime(ms) !== s) throw new RangeError(`time ${JSON.stringify(s)} is not a valid instant`);
  return ms;
}

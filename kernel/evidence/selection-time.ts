// --from/--to arguments: any RFC 3339 date-time (offset or Z, optional fraction), normalised to the
// millisecond UTC form the manifest records. Portable.
import { ExportError } from './window.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch; a fraction finer than a millisecond is truncated. */
export function parseSelectionTime(s: string, what: string): number {
  const m = RFC3339.exec(s);
  if (!m) throw new ExportError('ERR_EXPORT_SELECTION', `${what} ${JSON.stringify(s)} is not an RFC 3339 date-time (e.g. 2026-11-22T00:00:00Z)`);
  const frac = m[7] ? m[7].slice(0, 4).padEnd(4, '0') : '.000';
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${m[8]!.toUpperCase()}`);
  if (Number.isNaN(ms) || ms < 0) throw new ExportError('ERR_EXPORT_SELECTION', `${what} ${JSON.stringify(s)} is not a valid instant after 1970`);
  // Date.parse rolls 2026-02-30 over into March; a date that does not exist is an error instead.
  const d = new Date(Date.parse(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`));
  if (d.getUTCDate() !== Number(m[3]) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) {
    throw new ExportError('ERR_EXPORT_SELECTION', `${what} ${JSON.stringify(s)} is not a valid date-time`);
  }
  return ms;
}

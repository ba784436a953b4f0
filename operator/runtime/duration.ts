// Durations as the CRDs write them: "<n>s", "<n>m" or "<n>h" (pattern ^[0-9]+(s|m|h)$).
import { OperatorError } from './errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDuration(text: string): number {
  const m = /^([0-9]+)(s|m|h)$/.exec(text);
  if (!m) throw new OperatorError('ERR_DURATION', `duration ${JSON.stringify(text)} is not <n>s, <n>m or <n>h`, { text });
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new OperatorError('ERR_DURATION', `duration ${text} is out of range`, { text });
  return ms;
}

// Small helpers shared by the benchmarks: percentiles over per-operation timings.
export function percentile(sortedNs: Float64Array | number[], p: number): number {
  const a = sortedNs;
  if (a.length === 0) return NaN;
  const i = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[i]!;
}

export function summarize(samplesNs: number[]): { p50Us: number; p99Us: number; meanUs: number; n: number } {
  const s = Float64Array.from(samplesNs).sort();
  const mean = s.reduce((x, y) => x + y, 0) / s.length;
  return { p50Us: percentile(s, 50) / 1000, p99Us: percentile(s, 99) / 1000, meanUs: mean / 1000, n: s.length };
}

export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

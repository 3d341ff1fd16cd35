// Order statistics for samples; percentiles by linear interpolation between closest ranks.
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (s: number[]) => quantile(s, 0.5);
export const min = (s: number[]) => (s.length ? Math.min(...s) : NaN);
export const max = (s: number[]) => (s.length ? Math.max(...s) : NaN);

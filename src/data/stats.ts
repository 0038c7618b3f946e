/** Pixel statistics, for data sets without published normalisation constants. */
import type { ImageSet } from './types.js';

/** Per-channel mean and standard deviation of a split on the [0, 1] scale. */
export function channelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const n = set.images.length;
  for (let i = 0; i < n; i++) {
    const v = set.images[i] / 255;
    sum[i % c] += v;
    sq[i % c] += v * v;
  }
  const per = n / c;
  const mean = Array.from(sum, (s) => s / per);
  // A constant channel would give std 0 and a division by zero in normalisation; 1 keeps it finite.
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(0, s / per - mean[ch] * mean[ch])) || 1);
  return { mean, std };
}

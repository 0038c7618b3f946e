/**
 * A split evaluated with a runtime (runner.ts): accuracy, mean cross-entropy, firing rate of
 * every neuron layer, images per second, the latency of a batch, and every prediction and
 * logit (for agreement checks and `--predictions`). No TensorFlow.js.
 */
import { normalisationTable } from '../../data/loader.js';
import type { ImageSet } from '../../data/types.js';
import type { Runner } from './runner.js';
import { summarizeRates } from '../../snn/firingRates.js';

export interface EngineEvalResult {
  accuracy: number;
  loss: number;
  count: number;
  firingRates: Record<string, number>;
  meanFiringRate: number;
  imagesPerSecond: number;
  seconds: number;
  /** Images per run and wall time of one run (a batch): mean, median and 95th percentile, ms. */
  batch: number;
  latencyMs: { mean: number; p50: number; p95: number };
  /** Predicted class of every image, in split order. */
  predictions: Int32Array;
  /** Logits [count, classes], in split order. */
  logits: Float32Array;
  /** Spikes of every image, summed over all neuron layers and steps; NaN where a run held
   * more than one image (a runner tallies a whole run). */
  spikes: Float64Array;
}

/** Index of the largest value (the first one on ties, as tf.argMax). */
export function argMax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

export async function evaluateRuntime(
  runner: Runner,
  set: ImageSet,
  mean: number[],
  std: number[],
  classes: number,
  onProgress?: (done: number, total: number) => void,
): Promise<EngineEvalResult> {
  const { height: H, width: W, channels: C } = set;
  const lut = normalisationTable(mean, std);
  const px = H * W * C;
  const B = runner.batch;
  const x = new Float32Array(B * px);
  const n = set.count;
  const predictions = new Int32Array(n);
  const logits = new Float32Array(n * classes);
  const spikes = new Float64Array(n).fill(Number.NaN);
  const spikesSoFar = (): number => [...runner.tallies().values()].reduce((k, t) => k + t.spikes, 0);
  const times: number[] = [];
  runner.resetTallies();
  let before = 0;
  const t0 = performance.now();
  let correct = 0;
  let loss = 0;
  for (let start = 0; start < n; start += B) {
    const m = Math.min(B, n - start);
    const img = set.images.subarray(start * px, (start + m) * px);
    for (let j = 0; j < m * px; j++) x[j] = lut[(j % C) * 256 + img[j]];
    const t = performance.now();
    const out = await runner.run(m === B ? x : x.subarray(0, m * px), m);
    times.push(performance.now() - t);
    logits.set(out, start * classes);
    if (m === 1) {
      const after = spikesSoFar();
      spikes[start] = after - before;
      before = after;
    }
    for (let i = 0; i < m; i++) {
      const row = out.subarray(i * classes, (i + 1) * classes);
      const label = set.labels[start + i];
      const p = argMax(row);
      predictions[start + i] = p;
      if (p === label) correct++;
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - max);
      loss += Math.log(z) + max - row[label];
    }
    onProgress?.(start + m, n);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tallies = runner.tallies();
  const { firingRates, meanFiringRate } = summarizeRates(runner.neuronLayers, (k) => tallies.get(k));
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
  return {
    accuracy: n > 0 ? correct / n : 0,
    loss: n > 0 ? loss / n : 0,
    count: n,
    firingRates,
    meanFiringRate,
    imagesPerSecond: n / seconds,
    seconds,
    batch: B,
    latencyMs: { mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length), p50: pick(0.5), p95: pick(0.95) },
    predictions,
    logits,
    spikes,
  };
}

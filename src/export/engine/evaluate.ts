/**
 * A split evaluated with the engine: accuracy, mean cross-entropy, firing rate of every neuron
 * layer, images per second, and every prediction (for agreement checks). No TensorFlow.js.
 */
import { normalisationTable } from '../../data/loader.js';
import type { ImageSet } from '../../data/types.js';
import type { Engine } from './engine.js';
import { summarizeRates } from '../../snn/firingRates.js';

export interface EngineEvalResult {
  accuracy: number;
  loss: number;
  count: number;
  firingRates: Record<string, number>;
  meanFiringRate: number;
  imagesPerSecond: number;
  seconds: number;
  /** Predicted class of every image, in split order. */
  predictions: Int32Array;
  /** [count, classes]: every image's logits (the time-mean readout), in split order. */
  logits: Float32Array;
  /** Spikes of every image, summed over all neuron layers and steps. */
  spikes: Float64Array;
}

/** Index of the largest value (the first one on ties, as tf.argMax). */
export function argMax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

export function evaluateEngine(engine: Engine, set: ImageSet, mean: number[], std: number[], onProgress?: (done: number, total: number) => void): EngineEvalResult {
  const { height: H, width: W, channels: C } = set;
  const inp = engine.model.input;
  if (inp.height !== H || inp.width !== W || inp.channels !== C) {
    throw new Error(`the export takes ${inp.height}×${inp.width}×${inp.channels} images, the data set has ${H}×${W}×${C}`);
  }
  const lut = normalisationTable(mean, std);
  const px = H * W * C;
  const x = new Float32Array(px);
  const predictions = new Int32Array(set.count);
  const allLogits = new Float32Array(set.count * engine.model.numClasses);
  const spikes = new Float64Array(set.count);
  const spikesSoFar = (): number => [...engine.tallies.values()].reduce((n, t) => n + t.spikes, 0);
  let before = 0;
  engine.resetTallies();
  const t0 = performance.now();
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < set.count; i++) {
    const img = set.images.subarray(i * px, (i + 1) * px);
    for (let j = 0; j < px; j++) x[j] = lut[(j % C) * 256 + img[j]];
    const logits = engine.run(x);
    const p = argMax(logits);
    predictions[i] = p;
    allLogits.set(logits, i * logits.length);
    const after = spikesSoFar();
    spikes[i] = after - before;
    before = after;
    if (p === set.labels[i]) correct++;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let z = 0;
    for (const v of logits) z += Math.exp(v - max);
    loss += Math.log(z) + max - logits[set.labels[i]];
    if (onProgress && (i % 64 === 63 || i === set.count - 1)) onProgress(i + 1, set.count);
  }
  const seconds = (performance.now() - t0) / 1000;
  const { firingRates, meanFiringRate } = summarizeRates(engine.neuronLayers, (k) => engine.tallies.get(k));
  const n = set.count;
  return {
    accuracy: n > 0 ? correct / n : 0,
    loss: n > 0 ? loss / n : 0,
    count: n,
    firingRates,
    meanFiringRate,
    imagesPerSecond: n / seconds,
    seconds,
    predictions,
    logits: allLogits,
    spikes,
  };
}

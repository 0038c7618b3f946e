/**
 * Evaluation of a model on one split: accuracy, mean cross-entropy, and the firing rate of
 * every spiking layer (spikes per neuron per time step, averaged over the split).
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSource } from './dataSource.js';
import type { SpikingModel } from '../models/types.js';
import { settleTally, type SpikeTally } from '../snn/lif.js';
import { readScalars } from '../engine/hostReads.js';
import { crossEntropy } from '../losses/crossEntropy.js';
import { summarizeRates } from '../snn/firingRates.js';

export interface EvalResult {
  accuracy: number;
  loss: number;
  count: number;
  /** Spikes per neuron per time step, by spiking layer. */
  firingRates: Record<string, number>;
  /** All spikes over all neuron-steps of the network. */
  meanFiringRate: number;
  /** Mean value of the other tensors a layer reads (residual joins, dense sums, encoded input), by key: the energy estimate's rates. */
  inputRates: Record<string, number>;
  imagesPerSecond: number;
  seconds: number;
  /** Every image's outcome, in split order (when asked for with `perImage`). */
  perImage?: PerImage;
}

/** Per-image results of an evaluation, in split order. */
export interface PerImage {
  labels: Int32Array;
  predictions: Int32Array;
  /** [count, classes]: the readout (time-mean of the classifier's output) of every image. */
  logits: Float32Array;
  classes: number;
  /** Spikes of every image, summed over all neurons and time steps. */
  spikes: Float64Array;
}

export interface EvalOptions {
  timesteps: number;
  batchSize: number;
  split?: 'test' | 'train';
  onBatch?: (done: number, total: number) => void;
  /** Keep every image's label, prediction, logits and spike count. */
  perImage?: boolean;
}

export async function evaluate(model: SpikingModel, data: DataSource, o: EvalOptions): Promise<EvalResult> {
  const split = o.split ?? 'test';
  const t0 = performance.now();
  const tallies = new Map<string, SpikeTally>();
  let correct = 0;
  let lossSum = 0;
  let seen = 0;
  const total = data.count[split];
  const labels: number[] = [];
  const predictions: number[] = [];
  const logitRows: Float32Array[] = [];
  const spikes: number[] = [];
  const it = data.batches(split, { batchSize: o.batchSize, shuffle: false, rng: null, augment: [], cropPadding: 0, dropLast: false });
  for (const b of it) {
    const imageSpikes = o.perImage ? new Float64Array(b.size) : undefined;
    const out = tf.tidy(() => {
      const x = tf.tensor4d(b.x, b.shape);
      const y = tf.tensor1d(b.y, 'int32');
      const logits = model.forward(x, { training: false, timesteps: o.timesteps, tallies, noiseSeed: seen, imageSpikes });
      const l = crossEntropy(logits, y).mul(b.size);
      const pred = tf.argMax(logits, 1);
      const h = tf.sum(tf.cast(tf.equal(pred, y), 'float32'));
      return o.perImage ? [l, h, pred, logits] : [l, h];
    });
    // One wait per batch for the numbers (the WebGPU engine reads only asynchronously).
    const [loss, hits] = await readScalars(out.slice(0, 2));
    if (o.perImage) {
      labels.push(...b.y);
      predictions.push(...(await out[2].data()));
      logitRows.push((await out[3].data()) as Float32Array);
      spikes.push(...imageSpikes!);
    }
    tf.dispose(out);
    for (const t of tallies.values()) await settleTally(t);
    lossSum += loss;
    correct += hits;
    seen += b.size;
    o.onBatch?.(seen, total);
  }
  const seconds = (performance.now() - t0) / 1000;
  const { firingRates, meanFiringRate } = summarizeRates(model.neuronLayers, (k) => {
    const t = tallies.get(k);
    return t && { spikes: t.spikes, steps: t.neurons };
  });
  const inputRates: Record<string, number> = {};
  for (const [k, t] of tallies) if (!(k in firingRates) && t.neurons > 0) inputRates[k] = t.spikes / t.neurons;
  return {
    inputRates,
    accuracy: seen > 0 ? correct / seen : 0,
    loss: seen > 0 ? lossSum / seen : 0,
    count: seen,
    firingRates,
    meanFiringRate,
    imagesPerSecond: seen / seconds,
    seconds,
    ...(o.perImage ? { perImage: perImageOf(labels, predictions, logitRows, spikes) } : {}),
  };
}

function perImageOf(labels: number[], predictions: number[], rows: Float32Array[], spikes: number[]): PerImage {
  const logits = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    logits.set(r, at);
    at += r.length;
  }
  return {
    labels: Int32Array.from(labels),
    predictions: Int32Array.from(predictions),
    logits,
    classes: labels.length > 0 ? logits.length / labels.length : 0,
    spikes: Float64Array.from(spikes),
  };
}

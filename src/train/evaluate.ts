/**
 * Evaluation of a model on one split: accuracy, mean cross-entropy, and the firing rate of
 * every spiking layer (spikes per neuron per time step, averaged over the split).
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSource } from './dataSource.js';
import type { SpikingModel } from '../models/types.js';
import type { SpikeTally } from '../snn/lif.js';
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
}

export interface EvalOptions {
  timesteps: number;
  batchSize: number;
  split?: 'test' | 'train';
  onBatch?: (done: number, total: number) => void;
}

export function evaluate(model: SpikingModel, data: DataSource, o: EvalOptions): EvalResult {
  const split = o.split ?? 'test';
  const t0 = performance.now();
  const tallies = new Map<string, SpikeTally>();
  let correct = 0;
  let lossSum = 0;
  let seen = 0;
  const it = data.batches(split, { batchSize: o.batchSize, shuffle: false, rng: null, augment: [], cropPadding: 0, dropLast: false });
  for (const b of it) {
    const [loss, hits] = tf.tidy(() => {
      const x = tf.tensor4d(b.x, b.shape);
      const y = tf.tensor1d(b.y, 'int32');
      const logits = model.forward(x, { training: false, timesteps: o.timesteps, tallies, noiseSeed: seen });
      const l = crossEntropy(logits, y).mul(b.size);
      const h = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      return [l.dataSync()[0], h.dataSync()[0]];
    });
    lossSum += loss;
    correct += hits;
    seen += b.size;
    o.onBatch?.(seen, data.count[split]);
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
  };
}

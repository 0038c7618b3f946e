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
  imagesPerSecond: number;
  seconds: number;
}

export interface EvalOptions {
  timesteps: number;
  batchSize: number;
  split?: 'test' | 'train';
  onBatch?: (done: number, total: number) => void;
}

export async function evaluate(model: SpikingModel, data: DataSource, o: EvalOptions): Promise<EvalResult> {
  const split = o.split ?? 'test';
  const t0 = performance.now();
  const tallies = new Map<string, SpikeTally>();
  let correct = 0;
  let lossSum = 0;
  let seen = 0;
  const it = data.batches(split, { batchSize: o.batchSize, shuffle: false, rng: null, augment: [], cropPadding: 0, dropLast: false });
  for (const b of it) {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(b.x, b.shape);
      const y = tf.tensor1d(b.y, 'int32');
      const logits = model.forward(x, { training: false, timesteps: o.timesteps, tallies, noiseSeed: seen });
      const l = crossEntropy(logits, y).mul(b.size);
      const h = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      return [l, h];
    });
    // One wait per batch for the numbers (the WebGPU engine reads only asynchronously).
    const [loss, hits] = await readScalars(out);
    tf.dispose(out);
    for (const t of tallies.values()) await settleTally(t);
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
  return {
    accuracy: seen > 0 ? correct / seen : 0,
    loss: seen > 0 ? lossSum / seen : 0,
    count: seen,
    firingRates,
    meanFiringRate,
    imagesPerSecond: seen / seconds,
    seconds,
  };
}

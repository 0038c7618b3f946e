/**
 * The reference side of an agreement check: every prediction of the TensorFlow.js model on a
 * split, computed as `snn eval` computes them (same batches, normalisation and forward pass).
 */
import * as tf from '@tensorflow/tfjs';
import { batches } from '../data/loader.js';
import type { ImageSet } from '../data/types.js';
import type { SpikingModel } from '../models/types.js';

export function tfjsPredictions(model: SpikingModel, set: ImageSet, o: { timesteps: number; batchSize: number; mean: number[]; std: number[] }): { predictions: Int32Array; logits: Float32Array } {
  const predictions = new Int32Array(set.count);
  const logitsAll = new Float32Array(set.count * set.numClasses);
  let seen = 0;
  const it = batches(set, { batchSize: o.batchSize, shuffle: false, rng: null, augment: [], cropPadding: 0, mean: o.mean, std: o.std, dropLast: false });
  for (const b of it) {
    const [pred, logits] = tf.tidy(() => {
      const x = tf.tensor4d(b.x, [b.size, set.height, set.width, set.channels]);
      const z = model.forward(x, { training: false, timesteps: o.timesteps });
      return [tf.argMax(z, 1).dataSync() as Int32Array, z.dataSync() as Float32Array];
    });
    predictions.set(pred, seen);
    logitsAll.set(logits, seen * set.numClasses);
    seen += b.size;
  }
  return { predictions, logits: logitsAll };
}

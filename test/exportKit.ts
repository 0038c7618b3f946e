/** Small exported-network fixtures shared by the export and runtime tests. */
import * as tf from '@tensorflow/tfjs';
import { ConfigSchema } from '../src/config/schema.js';
import { buildModel } from '../src/models/index.js';
import type { SpikingModel } from '../src/models/types.js';
import { createRng } from '../src/util/rng.js';

/** A small model with non-trivial BN statistics and every weight set from a seed. */
export function smallModel(model: Record<string, unknown>, quant: Record<string, unknown> = { bits: 2 }, size = 10): SpikingModel {
  const cfg = ConfigSchema.parse({ model: { preset: 'tiny', widths: [6, 8], timesteps: 3, ...model }, quant });
  const m = buildModel(cfg.model, { height: size, width: size, channels: 2, numClasses: 4 }, createRng(7), 'exp', { quant: cfg.quant });
  const rng = createRng(3);
  for (const [k, v] of [...m.params, ...m.buffers]) {
    const n = v.size;
    let vals: Float32Array | null = null;
    if (k.endsWith('bn.weight')) vals = Float32Array.from({ length: n }, () => 0.8 + 0.8 * rng.next());
    else if (k.endsWith('bn.bias')) vals = Float32Array.from({ length: n }, () => 0.6 * rng.normal() + 0.3);
    else if (k.endsWith('running_mean')) vals = Float32Array.from({ length: n }, () => 0.3 * rng.normal());
    else if (k.endsWith('running_var')) vals = Float32Array.from({ length: n }, () => 0.5 + rng.next());
    else if (k.endsWith('.w')) vals = Float32Array.from({ length: n }, () => rng.next() - 0.5); // PLIF: 1/τ = sigmoid(w) near 1/2
    if (vals) v.assign(tf.tensor(vals, v.shape));
  }
  return m;
}

export const input = { height: 10, width: 10, channels: 2, mean: [0, 0], std: [1, 1] };

export function images(n: number, size = 10, seed = 9): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * size * size * 2 }, () => 2 * rng.normal());
}


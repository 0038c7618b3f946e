/**
 * Input encodings: how a static image becomes T time steps.
 *
 * Direct encoding feeds the analog image at every step. The first conv + BN is then the same at
 * each step, so it is computed once on [N, ...] and broadcast over T (BN statistics over T×N
 * copies of the same N values equal those over N). The copies are concatenated (wasm's Tile
 * is a slow scalar loop), and the gradient is one sum over T.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from '../engine/customOp.js';

/** [N, ...] → [T·N, ...]: the same values at every time step, time-major. */
export function repeatOverTime<R extends tf.Rank>(x: tf.Tensor<R>, T: number): tf.Tensor<R> {
  if (T === 1) return x;
  const [n, ...rest] = x.shape;
  const m = x.size;
  const op = customOp((v) => ({
    value: tf.concat(Array.from({ length: T }, () => v), 0),
    gradFunc: (dy) => dy.reshape([T, m]).sum(0).reshape(v.shape),
  }));
  return op(x) as tf.Tensor<R>;
}

/** [T·N, ...] → [N, ...]: the mean over time steps (the readout of direct-encoded SNNs). */
export function meanOverTime<R extends tf.Rank>(x: tf.Tensor<R>, T: number): tf.Tensor<R> {
  if (T === 1) return x;
  const [tn, ...rest] = x.shape;
  return x.reshape([T, tn / T, ...rest]).mean(0) as tf.Tensor<R>;
}

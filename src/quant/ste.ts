/**
 * The straight-through estimator: the forward pass uses the quantised weight q(W), the
 * backward pass treats q as the identity, so the latent float weights W receive the gradient
 * computed at q(W) and keep accumulating small updates that may later flip a code.
 */
import type * as tf from '@tensorflow/tfjs';
import { customOp } from '../engine/customOp.js';

export function straightThrough(quantize: (w: tf.Tensor) => tf.Tensor): (w: tf.Tensor) => tf.Tensor {
  return customOp((w) => ({
    value: quantize(w),
    gradFunc: (dy) => dy,
  }));
}
